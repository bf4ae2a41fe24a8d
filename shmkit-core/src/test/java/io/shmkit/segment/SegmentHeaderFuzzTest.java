package io.shmkit.segment;

import io.shmkit.ShmException;
import io.shmkit.internal.SegmentHeader;
import io.shmkit.testing.TestNames;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;

import java.io.RandomAccessFile;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Damaged headers: whatever bytes a crash, a stray write or a hostile user leaves in a header,
 * opening either succeeds with a consistent view or throws a {@link ShmException}; it never
 * crashes the JVM, hangs, or throws anything else.
 */
class SegmentHeaderFuzzTest {

    private SegmentName name;

    @BeforeProperty
    void createSegment() {
        name = SegmentName.posix(TestNames.unique("fuzz"));
    }

    @AfterProperty
    void removeSegment() {
        Segment.unlink(name);
    }

    record Damage(int offset, byte[] bytes) {
    }

    @Provide
    Arbitrary<List<Damage>> damage() {
        // bias towards the fixed fields at the start, but reach the tables too
        Arbitrary<Integer> offsets = Arbitraries.oneOf(Arbitraries.integers().between(0, 255),
                Arbitraries.integers().between(0, SegmentHeader.HEADER_SIZE - 1));
        Arbitrary<byte[]> bytes = Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(16);
        return net.jqwik.api.Combinators.combine(offsets, bytes).as(Damage::new).list().ofMinSize(1).ofMaxSize(4);
    }

    @Property(tries = 150)
    void openingADamagedHeaderSucceedsOrFailsCleanly(@ForAll("damage") List<Damage> damage) throws Exception {
        Segment.unlink(name);
        try (Segment s = Segment.create(name, 16384)) {
            s.memory().set(ValueLayout.JAVA_LONG, 8192, 0x1122334455667788L);
        }
        try (RandomAccessFile f = new RandomAccessFile(name.path().toFile(), "rw")) {
            for (Damage d : damage) {
                int len = Math.min(d.bytes().length, SegmentHeader.HEADER_SIZE - d.offset());
                f.seek(d.offset());
                f.write(d.bytes(), 0, len);
            }
        }
        try (Segment s = Segment.open(name)) {
            SegmentInfo info = s.info();
            assertThat(info.size()).isBetween(Segment.MIN_SIZE, 16384L);
            assertThat(s.memory().get(ValueLayout.JAVA_LONG, 8192)).isEqualTo(0x1122334455667788L);
            assertThat(info.carveTop()).isBetween(4096L, info.size());
        } catch (ShmException expected) {
            assertThat(expected.getMessage()).contains(name.toString());
        }
    }
}
