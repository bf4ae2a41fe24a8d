package io.shmkit.segment;

import io.shmkit.InsufficientSpaceException;
import io.shmkit.SegmentTruncatedException;
import io.shmkit.testing.PrivateTmpfs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.RandomAccessFile;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A full file system is a clear {@link InsufficientSpaceException} at create and grow, never a
 * SIGBUS ({@code InternalError}) later, and nothing is left behind (issue 8, finding 6). Runs
 * file segments on a private 4 MiB tmpfs, which behaves as a full {@code /dev/shm} would.
 */
class FullFilesystemTest {

    private static final long MIB = 1L << 20;
    private static PrivateTmpfs tmpfs;

    @BeforeAll
    static void mountTmpfs() {
        tmpfs = PrivateTmpfs.mount("4m");
    }

    @AfterAll
    static void unmount() throws Exception {
        if (tmpfs != null) {
            tmpfs.close();
        }
    }

    @BeforeEach
    void requireTmpfs() {
        assumeTrue(tmpfs != null, PrivateTmpfs.reason());
    }

    @AfterEach
    void emptyTmpfs() throws Exception {
        try (Stream<Path> files = Files.list(tmpfs.dir())) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
    }

    private static SegmentName file(String n) {
        return SegmentName.file(tmpfs.dir().resolve(n));
    }

    private static void fill(long bytes) throws Exception {
        Files.write(tmpfs.dir().resolve("filler"), new byte[(int) bytes]);
    }

    private static long files() throws Exception {
        try (Stream<Path> files = Files.list(tmpfs.dir())) {
            return files.filter(p -> !p.getFileName().toString().equals("filler")).count();
        }
    }

    @Test
    void refusesASizeLargerThanTheFileSystemAtOnce() throws Exception {
        assertThatThrownBy(() -> Segment.create(file("huge"), 7L << 40))
                .isInstanceOf(InsufficientSpaceException.class)
                .hasMessageContaining("size=7.0 TiB is larger than the file system")
                .hasMessageContaining("4.0 MiB in total");
        assertThat(files()).isZero();
    }

    @Test
    void createOnAFullFileSystemFailsClearlyAndLeavesNothingBehind() throws Exception {
        fill(3 * MIB);
        assertThatThrownBy(() -> Segment.create(file("full"), 2 * MIB))
                .isInstanceOf(InsufficientSpaceException.class)
                .hasMessageContaining("cannot reserve 2.0 MiB");
        assertThat(files()).as("the half-made segment file is removed").isZero();
        // the same name can be created once there is room
        Files.delete(tmpfs.dir().resolve("filler"));
        try (Segment s = Segment.create(file("full"), 2 * MIB)) {
            s.memory().set(ValueLayout.JAVA_LONG, s.size() - 8, 1L); // every page is backed: no SIGBUS
        }
    }

    @Test
    void growOnAFullFileSystemFailsClearlyAndKeepsTheOldSize() throws Exception {
        try (Segment s = Segment.create(file("grow"), MIB); Segment other = Segment.open(file("grow"))) {
            fill(2 * MIB + MIB / 2);
            assertThatThrownBy(() -> s.grow(2 * MIB))
                    .isInstanceOf(InsufficientSpaceException.class)
                    .hasMessageContaining("segment file:");
            assertThat(s.size()).isEqualTo(MIB);
            assertThat(Files.size(tmpfs.dir().resolve("grow"))).isEqualTo(MIB);
            assertThat(other.refresh()).isFalse();
            // still fully usable, by both attachments
            s.memory().set(ValueLayout.JAVA_LONG, MIB - 8, 9L);
            assertThat(other.memory().get(ValueLayout.JAVA_LONG, MIB - 8)).isEqualTo(9L);
        }
    }

    @Test
    void aSecondSegmentThatDoesNotFitIsRefusedAndTheFirstKeepsWorking() throws Exception {
        try (Segment s = Segment.create(file("a"), 2 * MIB)) {
            assertThatThrownBy(() -> Segment.create(file("b"), 3 * MIB))
                    .isInstanceOf(InsufficientSpaceException.class);
            assertThat(files()).isEqualTo(1);
            assertThat(s.size()).isEqualTo(2 * MIB);
            s.memory().set(ValueLayout.JAVA_LONG, s.size() - 8, 3L);
        }
    }

    @Test
    void sparseIsAnExplicitOptInThatSkipsTheReservation() throws Exception {
        fill(3 * MIB);
        SegmentOptions sparse = SegmentOptions.defaults().withSparse(true);
        assertThat(sparse.sparse()).isTrue();
        assertThat(SegmentOptions.defaults().sparse()).isFalse();
        try (Segment s = Segment.create(file("sparse"), 2 * MIB, sparse)) {
            assertThat(s.size()).isEqualTo(2 * MIB); // created although only 1 MiB is free: its risk
        }
    }

    @Test
    void foreignTruncationIsReportedAndCloseDoesNotFault() throws Exception {
        SegmentName n = file("trunc");
        Segment s = Segment.create(n, MIB);
        try (RandomAccessFile f = new RandomAccessFile(n.path().toFile(), "rw")) {
            f.setLength(0);
        }
        assertThatThrownBy(s::refresh).isInstanceOf(SegmentTruncatedException.class)
                .hasMessageContaining("truncated by another process").hasMessageContaining("size=0");
        assertThatThrownBy(s::info).isInstanceOf(SegmentTruncatedException.class);
        assertThatThrownBy(() -> s.grow(2 * MIB)).isInstanceOf(SegmentTruncatedException.class);
        s.close(); // must not touch the vanished header page (that would be SIGBUS)
        assertThatThrownBy(() -> Segment.open(n)).isInstanceOf(SegmentTruncatedException.class);
    }

    @Test
    void truncationThatKeepsTheHeaderStillDetachesCleanly() throws Exception {
        SegmentName n = file("trunc2");
        try (Segment keeper = Segment.create(n, MIB)) {
            Segment s = Segment.open(n);
            assertThat(keeper.attached()).hasSize(2);
            try (RandomAccessFile f = new RandomAccessFile(n.path().toFile(), "rw")) {
                f.setLength(Segment.MIN_SIZE);
            }
            assertThatThrownBy(s::refresh).isInstanceOf(SegmentTruncatedException.class);
            s.close();
            try (RandomAccessFile f = new RandomAccessFile(n.path().toFile(), "rw")) {
                f.setLength(MIB); // back to its size (the pages past the header now read zero)
            }
            assertThat(keeper.attached()).hasSize(1); // s removed its entry from the surviving header
        }
    }
}
