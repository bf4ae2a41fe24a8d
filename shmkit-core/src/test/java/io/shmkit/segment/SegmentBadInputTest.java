package io.shmkit.segment;

import io.shmkit.LayoutMismatchException;
import io.shmkit.NotAShmkitSegmentException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.SegmentTruncatedException;
import io.shmkit.ShmPermissionException;
import io.shmkit.UnsupportedFormatException;
import io.shmkit.internal.Libc;
import io.shmkit.internal.SegmentHeader;
import io.shmkit.testing.ChildJvm;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Foreign, damaged and forbidden segments each give their own exception, never a crash. */
class SegmentBadInputTest {

    private final List<SegmentName> created = new ArrayList<>();

    private SegmentName posix(String tag) {
        SegmentName n = SegmentName.posix(TestNames.unique(tag));
        created.add(n);
        return n;
    }

    @AfterEach
    void cleanUp() {
        for (SegmentName n : created) {
            Segment.unlink(n);
        }
    }

    private static void writeFile(Path p, byte[] bytes) throws IOException {
        Files.write(p, bytes);
    }

    private static void poke(SegmentName name, long offset, long value) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(name.path().toFile(), "rw")) {
            f.seek(offset);
            f.writeLong(Long.reverseBytes(value));
        }
    }

    @Test
    void refusesAnObjectWithTheWrongMagic() throws IOException {
        SegmentName name = posix("magic");
        byte[] junk = new byte[8192];
        new Random(1).nextBytes(junk);
        writeFile(name.path(), junk);
        assertThatThrownBy(() -> Segment.open(name))
                .isInstanceOf(NotAShmkitSegmentException.class)
                .hasMessageContaining("not a shmkit segment").hasMessageContaining("magic=0x");
        assertThat(Files.readAllBytes(name.path())).isEqualTo(junk); // untouched
    }

    @Test
    void refusesATruncatedFile() throws IOException {
        SegmentName name = posix("short");
        writeFile(name.path(), new byte[100]);
        assertThatThrownBy(() -> Segment.open(name))
                .isInstanceOf(SegmentTruncatedException.class)
                .hasMessageContaining("size=100").hasMessageContaining("4096-byte header");
    }

    @Test
    void refusesAnEmptyObjectAfterWaitingForItsCreator() throws IOException {
        SegmentName name = posix("empty");
        writeFile(name.path(), new byte[0]);
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> Segment.open(name))
                .isInstanceOf(SegmentTruncatedException.class).hasMessageContaining("empty");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void refusesAHeaderClaimingMoreThanTheFileHolds() throws IOException {
        SegmentName name = posix("bigclaim");
        try (Segment s = Segment.create(name, 8192)) {
            s.memory().set(ValueLayout.JAVA_LONG, 4096, 77L);
        }
        poke(name, SegmentHeader.OFF_SIZE, 1L << 30);
        assertThatThrownBy(() -> Segment.open(name))
                .isInstanceOf(SegmentTruncatedException.class)
                .hasMessageContaining("header records size=1073741824").hasMessageContaining("size=8192");
        // nothing lost: repair the field and the data is still there
        poke(name, SegmentHeader.OFF_SIZE, 8192);
        try (Segment s = Segment.open(name)) {
            assertThat(s.memory().get(ValueLayout.JAVA_LONG, 4096)).isEqualTo(77L);
        }
    }

    @Test
    void refusesAFormatVersionFromTheFuture() throws IOException {
        SegmentName name = posix("future");
        Segment.create(name, 8192).close();
        try (RandomAccessFile f = new RandomAccessFile(name.path().toFile(), "rw")) {
            f.seek(SegmentHeader.OFF_FORMAT);
            f.writeInt(Integer.reverseBytes(99));
        }
        assertThatThrownBy(() -> Segment.open(name))
                .isInstanceOf(UnsupportedFormatException.class)
                .hasMessageContaining("format version=99").hasMessageContaining("upgrade shmkit");
    }

    @Test
    void refusesCorruptHeaderFields() throws IOException {
        SegmentName name = posix("corrupt");
        Segment.create(name, 8192).close();
        poke(name, SegmentHeader.OFF_CARVE_TOP, 1L << 40);
        assertThatThrownBy(() -> Segment.open(name))
                .isInstanceOf(SegmentCorruptedException.class).hasMessageContaining("carveTop=");
    }

    @Test
    void refusesAnotherStructureKindOrLayoutAndLosesNothing() {
        SegmentName name = posix("layout");
        SegmentOptions mine = SegmentOptions.defaults().withKind(3).withLayoutHash(0xABCDL);
        try (Segment s = Segment.create(name, 8192, mine)) {
            s.memory().set(ValueLayout.JAVA_LONG, 4096, 5L);
        }
        assertThatThrownBy(() -> Segment.open(name, SegmentOptions.defaults().withKind(4)))
                .isInstanceOf(LayoutMismatchException.class).hasMessageContaining("kind=3").hasMessageContaining("expected kind=4");
        assertThatThrownBy(() -> Segment.open(name, mine.withLayoutHash(0x1234L)))
                .isInstanceOf(LayoutMismatchException.class).hasMessageContaining("layoutHash=0xabcd");
        try (Segment s = Segment.open(name, mine)) {
            assertThat(s.memory().get(ValueLayout.JAVA_LONG, 4096)).isEqualTo(5L);
        }
    }

    @Test
    void refusesASegmentThisUserMayNotOpen() throws Exception {
        SegmentName name = posix("perm");
        try (Segment s = Segment.create(name, 8192)) { // mode 0600, owned by this user
            if (Libc.geteuid() != 0) {
                Files.setPosixFilePermissions(name.path(), java.util.Set.of());
                assertThatThrownBy(() -> Segment.open(name)).isInstanceOf(ShmPermissionException.class)
                        .hasMessageContaining("permission denied");
                return;
            }
            // root bypasses file modes: ask a child JVM running as 'nobody' to open it
            Path setpriv = Path.of("/usr/bin/setpriv");
            org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(setpriv), "setpriv not installed");
            try (ChildJvm child = ChildJvm.start(List.of(setpriv.toString(), "--reuid=65534", "--regid=65534",
                    "--clear-groups"), SegmentChild.class, "open", name.toString())) {
                String line = child.awaitLine("RESULT", Duration.ofSeconds(30));
                assertThat(line).contains("ShmPermissionException").contains("permission denied");
                assertThat(child.waitFor(Duration.ofSeconds(30))).isEqualTo(0);
            }
        }
    }
}
