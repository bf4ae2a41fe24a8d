package io.shmkit.segment;

import io.shmkit.HugePagesUnavailableException;
import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.SegmentExistsException;
import io.shmkit.SegmentNotFoundException;
import io.shmkit.internal.Procs;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SegmentTest {

    private final List<SegmentName> created = new ArrayList<>();

    private SegmentName posix(String tag) {
        SegmentName n = SegmentName.posix(TestNames.unique(tag));
        created.add(n);
        return n;
    }

    private SegmentName sysv() {
        SegmentName n = SegmentName.sysv(TestNames.uniqueKey());
        created.add(n);
        return n;
    }

    @AfterEach
    void cleanUp() {
        for (SegmentName n : created) {
            Segment.unlink(n);
        }
    }

    @Test
    void sharesDataBetweenTwoAttachmentsOfAPosixSegment() {
        SegmentName name = posix("share");
        try (Segment a = Segment.create(name, 64 * 1024); Segment b = Segment.open(name)) {
            assertThat(a.created()).isTrue();
            assertThat(b.created()).isFalse();
            a.memory().set(ValueLayout.JAVA_LONG, a.dataOffset(), 0xCAFEBABEL);
            assertThat(b.memory().get(ValueLayout.JAVA_LONG, b.dataOffset())).isEqualTo(0xCAFEBABEL);
            assertThat(b.size()).isEqualTo(64 * 1024);
            assertThat(Files.exists(Path.of("/dev/shm", name.value()))).isTrue();
        }
    }

    @Test
    void openOrCreateTellsWhichHappened() {
        SegmentName name = posix("ooc");
        try (Segment first = Segment.openOrCreate(name, 16384, SegmentOptions.defaults());
             Segment second = Segment.openOrCreate(name, 16384, SegmentOptions.defaults())) {
            assertThat(first.created()).isTrue();
            assertThat(second.created()).isFalse();
        }
    }

    @Test
    void exclusiveCreateRefusesAnExistingSegment() {
        SegmentName name = posix("excl");
        try (Segment s = Segment.create(name, 8192)) {
            s.memory().set(ValueLayout.JAVA_INT, s.dataOffset(), 7);
            assertThatThrownBy(() -> Segment.create(name, 8192))
                    .isInstanceOf(SegmentExistsException.class)
                    .hasMessageContaining(name.toString())
                    .hasMessageContaining("already exists");
            // nothing lost
            assertThat(s.memory().get(ValueLayout.JAVA_INT, s.dataOffset())).isEqualTo(7);
        }
    }

    @Test
    void openingAMissingSegmentSaysItDoesNotExist() {
        SegmentName name = posix("missing");
        assertThatThrownBy(() -> Segment.open(name))
                .isInstanceOf(SegmentNotFoundException.class)
                .hasMessageContaining("does not exist");
        assertThat(Segment.unlink(name)).isFalse();
    }

    @Test
    void fileBackendRoundTripsAndSurvivesClose(@TempDir Path dir) {
        SegmentName name = SegmentName.file(dir.resolve("state.shm"));
        try (Segment s = Segment.create(name, 12288)) {
            s.memory().set(ValueLayout.JAVA_LONG, s.dataOffset() + 8, 99L);
        }
        try (Segment s = Segment.open(name)) {
            assertThat(s.memory().get(ValueLayout.JAVA_LONG, s.dataOffset() + 8)).isEqualTo(99L);
            assertThat(s.info().size()).isEqualTo(12288);
        }
        assertThat(Segment.unlink(name)).isTrue();
        assertThat(Files.exists(dir.resolve("state.shm"))).isFalse();
    }

    @Test
    void systemVBackendRoundTripsByKey() {
        SegmentName name = sysv();
        try (Segment a = Segment.create(name, 16384); Segment b = Segment.open(name)) {
            a.memory().set(ValueLayout.JAVA_LONG, a.dataOffset(), 1234L);
            assertThat(b.memory().get(ValueLayout.JAVA_LONG, b.dataOffset())).isEqualTo(1234L);
            assertThat(b.info().attached()).hasSize(2);
            assertThatThrownBy(() -> a.grow(32768)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("backend=sysv cannot grow");
        }
        assertThat(Segment.unlink(name)).isTrue();
        assertThatThrownBy(() -> Segment.open(name)).isInstanceOf(SegmentNotFoundException.class);
    }

    @Test
    void anonymousSegmentHasAHeaderButNoName() {
        try (Segment s = Segment.create(SegmentName.anonymous(), 8192)) {
            assertThat(s.info().creatorPid()).isEqualTo(Procs.PID);
            s.memory().set(ValueLayout.JAVA_LONG, s.dataOffset(), 5L);
            assertThat(s.memory().get(ValueLayout.JAVA_LONG, s.dataOffset())).isEqualTo(5L);
        }
        assertThatThrownBy(() -> Segment.open(SegmentName.anonymous()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot be opened by name");
    }

    @Test
    void createsWithMode0600ByDefaultAndHonoursAnotherMode() throws Exception {
        SegmentName a = posix("mode-default");
        SegmentName b = posix("mode-0640");
        try (Segment s1 = Segment.create(a, 8192);
             Segment s2 = Segment.create(b, 8192, SegmentOptions.defaults().withMode(0640))) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(a.path()))).isEqualTo("rw-------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(b.path()))).isEqualTo("rw-r-----");
            assertThat(s2.info().mode()).isEqualTo(0640);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"../etc-passwd", "a/b", "..", ".hidden", "", "bad\0name", "sp ace", "x..y"})
    void rejectsInvalidNamesBeforeTouchingTheFileSystem(String bad) {
        assertThatThrownBy(() -> SegmentName.posix(bad))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid segment name");
    }

    @Test
    void rejectsOverlongNamesAndBadKeys() {
        assertThatThrownBy(() -> SegmentName.posix("x".repeat(201))).hasMessageContaining("length=201");
        assertThatThrownBy(() -> SegmentName.parse("sysv:0")).hasMessageContaining("IPC_PRIVATE");
        assertThatThrownBy(() -> SegmentName.parse("sysv:banana")).hasMessageContaining("invalid System V key");
        assertThatThrownBy(() -> SegmentName.parse("nfs:foo")).hasMessageContaining("unknown backend prefix");
        assertThat(SegmentName.parse("sysv:0x10").key()).isEqualTo(16);
        assertThat(SegmentName.parse("orders")).isEqualTo(SegmentName.posix("orders"));
    }

    @Test
    void growsWhileAttachedAndOtherAttachmentsSeeTheNewSize() {
        SegmentName name = posix("grow");
        try (Segment a = Segment.create(name, 8192); Segment b = Segment.open(name)) {
            MemorySegment oldView = b.memory();
            a.memory().set(ValueLayout.JAVA_LONG, 4096, 11L);
            a.grow(1 << 20);
            assertThat(a.size()).isEqualTo(1 << 20);
            a.memory().set(ValueLayout.JAVA_LONG, (1 << 20) - 8, 22L);
            // b refreshes by itself on its next memory() call
            assertThat(b.memory().byteSize()).isEqualTo(1 << 20);
            assertThat(b.memory().get(ValueLayout.JAVA_LONG, (1 << 20) - 8)).isEqualTo(22L);
            // views taken before the grow stay valid within their old bounds
            assertThat(oldView.get(ValueLayout.JAVA_LONG, 4096)).isEqualTo(11L);
            assertThat(b.info().resizeGeneration()).isEqualTo(1);
            assertThatThrownBy(() -> a.grow(8192)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("cannot shrink");
        }
    }

    @Test
    void protectTurnsWritesIntoExceptionsNotFaults() {
        SegmentName name = posix("protect");
        try (Segment s = Segment.create(name, 8192)) {
            s.memory().set(ValueLayout.JAVA_INT, 4096, 1);
            s.protect(true);
            assertThat(s.isProtected()).isTrue();
            assertThatThrownBy(() -> s.memory().set(ValueLayout.JAVA_INT, 4096, 2))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThat(s.memory().get(ValueLayout.JAVA_INT, 4096)).isEqualTo(1);
            s.protect(false);
            s.memory().set(ValueLayout.JAVA_INT, 4096, 3);
            assertThat(s.memory().get(ValueLayout.JAVA_INT, 4096)).isEqualTo(3);
            s.protect(true);
        } // closing while protected still detaches cleanly
        assertThat(Segments.inspect(name).attached()).isEmpty();
    }

    @Test
    void reservesNamedRangesThatOtherAttachmentsFind() {
        SegmentName name = posix("dir");
        try (Segment a = Segment.create(name, 64 * 1024); Segment b = Segment.open(name)) {
            DirectoryEntry e1 = a.reserve("players", 7, 1000, 64);
            DirectoryEntry e2 = a.reserve("rooms", 8, 3000, 128);
            assertThat(e1.offset()).isEqualTo(4096);
            assertThat(e2.offset() % 128).isZero();
            assertThat(e2.offset()).isGreaterThanOrEqualTo(e1.offset() + e1.length());
            assertThat(b.lookup("rooms")).contains(e2);
            assertThat(b.lookup("nothing")).isEmpty();
            assertThat(b.directory()).containsExactly(e1, e2);
            assertThatThrownBy(() -> b.reserve("players", 7, 10, 8)).isInstanceOf(SegmentExistsException.class);
            assertThatThrownBy(() -> b.reserve("huge", 7, 1 << 20, 8)).isInstanceOf(OutOfSharedMemoryException.class)
                    .hasMessageContaining("huge").hasMessageContaining("free=");
            assertThatThrownBy(() -> b.reserve("x".repeat(33), 7, 10, 8)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void attachTableListsEveryAttachmentUntilItCloses() {
        SegmentName name = posix("attach");
        try (Segment a = Segment.create(name, 8192)) {
            try (Segment b = Segment.open(name)) {
                assertThat(a.attached()).hasSize(2).allMatch(AttachedProcess::alive)
                        .allMatch(p -> p.pid() == Procs.PID && p.startTime() == Procs.START_TIME);
            }
            assertThat(a.attached()).hasSize(1);
            // inspection does not attach
            assertThat(Segments.inspect(name).attached()).hasSize(1);
        }
    }

    @Test
    void hugePagesArePreferredWithFallbackOrRequiredWithAClearError() {
        try (Segment s = Segment.create(SegmentName.anonymous(), 8192,
                SegmentOptions.defaults().withHugePages(HugePages.PREFER))) {
            s.memory().set(ValueLayout.JAVA_LONG, s.dataOffset(), 1L); // usable either way
        }
        try (Segment s = Segment.create(SegmentName.anonymous(), 8192,
                SegmentOptions.defaults().withHugePages(HugePages.REQUIRE))) {
            assertThat(s.hugePages()).isTrue();
        } catch (HugePagesUnavailableException e) {
            assertThat(e.getMessage()).contains("nr_hugepages");
        }
    }

    @Test
    void listsSegmentsOfEveryBackendItCanFind(@TempDir Path dir) {
        SegmentName p = posix("ls");
        SegmentName k = sysv();
        SegmentName f = SegmentName.file(dir.resolve("listed.shm"));
        try (Segment a = Segment.create(p, 8192, SegmentOptions.defaults().withKind(42));
             Segment b = Segment.create(k, 8192);
             Segment c = Segment.create(f, 8192)) {
            List<SegmentInfo> all = Segments.list(List.of(dir));
            assertThat(all).extracting(SegmentInfo::name).contains(p, k, f);
            SegmentInfo info = all.stream().filter(i -> i.name().equals(p)).findFirst().orElseThrow();
            assertThat(info.kind()).isEqualTo(42);
            assertThat(info.creatorPid()).isEqualTo(Procs.PID);
            assertThat(info.liveAttachments()).isEqualTo(1);
        }
        Segment.unlink(f);
    }

    /**
     * With space reserved at create, a large segment's file keeps size 0 for as long as
     * posix_fallocate runs (it sets the size at the end): an opener waits while the reservation
     * makes progress instead of giving up after one second. Simulated with {@code fallocate
     * --keep-size} steps over 2.5 s, then the creator's image written header page last, magic last.
     */
    @Test
    void anOpenerWaitsForACreatorThatIsStillReservingSpace() throws Exception {
        SegmentName template = posix("template");
        try (Segment t = Segment.create(template, 64 * 1024)) {
            t.memory().set(ValueLayout.JAVA_LONG, t.dataOffset(), 99L);
        }
        byte[] image = Files.readAllBytes(template.path());
        SegmentName name = posix("slowcreate");
        Files.createFile(name.path());
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            java.util.concurrent.Future<Long> opened = pool.submit(() -> {
                try (Segment s = Segment.open(name)) {
                    return s.memory().get(ValueLayout.JAVA_LONG, s.dataOffset());
                }
            });
            for (int i = 0; i < 25; i++) {
                Process p = new ProcessBuilder("fallocate", "--keep-size", "-o", Long.toString(i * 4096L), "-l", "4096",
                        name.path().toString()).inheritIO().start();
                assertThat(p.waitFor() == 0).isTrue();
                Thread.sleep(100);
            }
            assertThat(opened.isDone()).as("still waiting while the space is being reserved").isFalse();
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(name.path(),
                    java.nio.file.StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(image, 4096, image.length - 4096), 4096); // data first
                ch.write(java.nio.ByteBuffer.wrap(image, 8, 4096 - 8), 8);                  // then the header
                ch.write(java.nio.ByteBuffer.wrap(image, 0, 8), 0);                         // the magic last
            }
            assertThat(opened.get(60, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(99L);
        } finally {
            pool.shutdownNow();
        }
    }
}
