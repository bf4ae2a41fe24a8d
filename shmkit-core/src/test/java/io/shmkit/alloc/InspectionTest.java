package io.shmkit.alloc;

import io.shmkit.NotAShmkitSegmentException;
import io.shmkit.internal.FixedPoolLayout;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.segment.Segments;
import io.shmkit.sync.ShmMutex;
import io.shmkit.testing.ChildJvm;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Inspection never blocks, never writes and never registers (issue 8, finding 8): FIFOs and
 * links are refused at once, and allocator statistics come from a copy-on-write snapshot that
 * does not wait for a lock held by a stopped process.
 */
class InspectionTest {

    private static final Duration T = Duration.ofSeconds(60);
    private final List<SegmentName> created = new ArrayList<>();

    private SegmentName posix(String tag) {
        SegmentName n = SegmentName.posix(TestNames.unique(tag));
        created.add(n);
        return n;
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (SegmentName n : created) {
            Files.deleteIfExists(n.path());
        }
    }

    @Test
    void aFifoOrALinkAtASegmentNameIsRefusedAtOnceByEveryEntryPoint() throws Exception {
        SegmentName fifo = posix("fifo");
        Process mk = new ProcessBuilder("mkfifo", fifo.path().toString()).start();
        assertThat(mk.waitFor(30, TimeUnit.SECONDS) && mk.exitValue() == 0).isTrue();
        SegmentName link = posix("link");
        Files.createSymbolicLink(link.path(), Path.of("/etc/hostname"));
        assertTimeoutPreemptively(T, () -> {
            for (SegmentName n : List.of(fifo, link)) {
                assertThatThrownBy(() -> Segments.inspect(n)).isInstanceOf(NotAShmkitSegmentException.class);
                assertThatThrownBy(() -> Segment.open(n)).isInstanceOf(NotAShmkitSegmentException.class);
                assertThatThrownBy(() -> Segment.openSnapshot(n)).isInstanceOf(NotAShmkitSegmentException.class);
                assertThat(Segments.tryInspect(n)).isEmpty();
                assertThat(Segments.isRegularFile(n)).isFalse();
                assertThatThrownBy(() -> Segments.unlinkAnyRegular(n)).isInstanceOf(NotAShmkitSegmentException.class);
            }
            assertThatThrownBy(() -> Segments.inspect(fifo)).hasMessageContaining("is a FIFO");
            assertThatThrownBy(() -> Segments.inspect(link)).hasMessageContaining("symbolic link");
            assertThat(Segments.list(List.of())).noneMatch(i -> i.name().equals(fifo) || i.name().equals(link));
        });
        assertThat(Files.exists(fifo.path(), java.nio.file.LinkOption.NOFOLLOW_LINKS)).isTrue();
        assertThat(Files.readString(Path.of("/etc/hostname"))).isNotEmpty(); // the link's target is untouched
    }

    @Test
    void aSnapshotNeverRegistersAndItsWritesStayPrivate() {
        SegmentName name = posix("snap");
        try (Segment s = Segment.create(name, 1 << 20)) {
            s.memory().set(ValueLayout.JAVA_LONG, s.dataOffset(), 1L);
            try (Segment snap = Segment.openSnapshot(name)) {
                assertThat(snap.isSnapshot()).isTrue();
                assertThat(s.attached()).hasSize(1); // only the creator
                snap.memory().set(ValueLayout.JAVA_LONG, snap.dataOffset(), 2L);
                assertThat(s.memory().get(ValueLayout.JAVA_LONG, s.dataOffset())).isEqualTo(1L);
                s.memory().set(ValueLayout.JAVA_LONG, s.dataOffset() + 4096, 3L); // a page the snapshot never wrote
                assertThat(snap.memory().get(ValueLayout.JAVA_LONG, snap.dataOffset() + 4096)).isEqualTo(3L);
                assertThatThrownBy(() -> snap.grow(2 << 20)).isInstanceOf(IllegalStateException.class);
            }
        } finally {
            Segment.unlink(name);
        }
    }

    @Test
    void aSystemVSnapshotIsACopyThatNeverRegisters() {
        SegmentName name = SegmentName.sysv(TestNames.uniqueKey());
        try (Segment s = Segment.create(name, 1 << 20)) {
            FixedPool pool = FixedPool.create(s, "pool", 64, 100);
            pool.allocate(64);
            try (Segment snap = Segment.openSnapshot(name)) {
                DirectoryEntry e = snap.lookup("pool").orElseThrow();
                SharedAllocator copy = Inspection.open(snap, e).orElseThrow();
                assertThat(copy.stats().allocations()).isEqualTo(1);
                copy.allocate(64); // private to the copy
                assertThat(s.attached()).hasSize(1);
            }
            assertThat(pool.stats().allocations()).isEqualTo(1);
        } finally {
            Segment.unlink(name);
        }
    }

    @Test
    void statsOfAPoolWhoseLockAStoppedProcessHoldsAreReadWithoutWaitingAndWithoutWriting() throws Exception {
        SegmentName name = posix("stopped");
        try (Segment s = Segment.create(name, 1 << 20)) {
            FixedPool.create(s, "pool", 64, 100);
            DirectoryEntry e = s.lookup("pool").orElseThrow();
            ShmMutex shared = ShmMutex.open(s.memory(), e.offset() + FixedPoolLayout.OFF_LOCK);
            try (ChildJvm child = ChildJvm.start(LockHolderChild.class, name.value(), "pool", "fixed")) {
                child.awaitLine("HELD", T);
                signal("STOP", child.pid());
                try (Segment snap = Segment.openSnapshot(name)) {
                    Inspection.LockHolder holder = Inspection.lockHolder(snap, e).orElseThrow();
                    assertThat(holder.pid()).isEqualTo(child.pid());
                    assertThat(holder.state()).isEqualTo("stopped");
                    AllocatorStats stats = assertTimeoutPreemptively(T, () -> Inspection.open(snap, e).orElseThrow().stats());
                    assertThat(stats.allocations()).as("the holder's half-done counter, read without the lock")
                            .isEqualTo(12345L);
                }
                assertThat(shared.ownerPid()).as("the real lock is still the holder's").isEqualTo(child.pid());
                assertThat(s.attached()).hasSize(2); // creator and holder; inspection did not register
                signal("CONT", child.pid());
                child.kill9();
            }
            // the holder is dead now: the snapshot shows the pool as its next user will repair it
            try (Segment snap = Segment.openSnapshot(name)) {
                assertThat(Inspection.lockHolder(snap, e).orElseThrow().dead()).isTrue();
                SharedAllocator repaired = Inspection.open(snap, e).orElseThrow();
                assertThat(repaired.stats().allocations()).isZero();
                repaired.verify();
            }
            assertThat(s.memory().get(ValueLayout.JAVA_LONG, e.offset() + FixedPoolLayout.OFF_USED))
                    .as("the shared pool is not repaired by inspection").isEqualTo(12345L);
            assertThat(FixedPool.open(s, "pool").stats().allocations()).as("its next user repairs it").isZero();
        } finally {
            Segment.unlink(name);
        }
    }

    private static void signal(String sig, long pid) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0).isTrue();
    }
}
