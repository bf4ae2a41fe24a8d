package io.shmkit.sync;

import io.shmkit.alloc.FixedPool;
import io.shmkit.alloc.SyncMode;
import io.shmkit.segment.AttachedProcess;
import io.shmkit.segment.Liveness;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentInfo;
import io.shmkit.segment.SegmentName;
import io.shmkit.segment.SegmentOptions;
import io.shmkit.segment.Segments;
import io.shmkit.testing.ChildJvm;
import io.shmkit.testing.Namespaces;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Issue 8, findings 1 to 3: liveness across pid namespaces (containers sharing {@code /dev/shm}),
 * under {@code hidepid=2}, and for a restarted pid 1. A live owner is never robbed, in either
 * direction; a dead one is still detected; a new pid 1 recovers its dead predecessor's lock.
 * Skipped, with the reason printed, where the kernel refuses {@code unshare}.
 */
class ContainerLivenessTest {

    private static final Duration START = Duration.ofSeconds(90);

    private String name;
    private Segment segment;
    private long mutexOff;
    private ShmMutex mutex;

    @BeforeEach
    void setUp() {
        name = TestNames.unique("container");
        // 0666: the hidepid child runs as another user
        segment = Segment.create(SegmentName.posix(name), 1 << 20, SegmentOptions.defaults().withMode(0666));
        mutexOff = segment.reserve("mutex", 0x7F03, ShmMutex.SIZE, 64).offset();
        mutex = ShmMutex.create(segment.memory(), mutexOff);
    }

    @AfterEach
    void tearDown() {
        segment.closeAndUnlink();
    }

    private ChildJvm holder(List<String> prefix) throws InterruptedException {
        ChildJvm child = ChildJvm.start(prefix, LivenessChild.class, "hold-mutex", name, "" + mutexOff);
        assertThat(child.awaitLine("LOCKED", START)).startsWith("LOCKED ACQUIRED");
        return child;
    }

    private String tryFrom(List<String> prefix, long millis) throws InterruptedException {
        try (ChildJvm child = ChildJvm.start(prefix, LivenessChild.class, "try-mutex", name, "" + mutexOff, "" + millis)) {
            String line = child.awaitLine("RESULT", START.plusMillis(millis));
            assertEquals(0, child.waitFor(Duration.ofSeconds(60)), child.stderr());
            return line;
        }
    }

    @Test
    void liveOwnerInANewPidNamespaceIsNotRobbed() throws Exception {
        List<String> ns = Namespaces.newPidNamespace();
        try (ChildJvm child = holder(ns)) {
            // the owner is pid 1 in its namespace; here pid 1 is another process with another start time
            assertEquals(LockResult.TIMED_OUT, mutex.lock(300, TimeUnit.MILLISECONDS));
            assertEquals(LockResult.BUSY, mutex.tryLock());
            assertEquals(Liveness.ALIVE, mutex.ownerLiveness());
            assertEquals(1, mutex.ownerPid(), "the owner records its own pid, 1 in its namespace");
            assertThat(segment.attached()).filteredOn(p -> p.pid() == 1)
                    .singleElement().extracting(AttachedProcess::liveness).isEqualTo(Liveness.ALIVE);
            assertEquals(0, mutex.takeovers());
        }
    }

    @Test
    void inspectionCountsAnAttacherInAnotherPidNamespaceAsLiveUntilItDies() throws Exception {
        // what `shmkit rm` decides on: format 1 called the pid 1 attacher dead and rm removed the segment
        List<String> ns = Namespaces.newPidNamespace();
        try (ChildJvm child = holder(ns)) {
            SegmentInfo info = Segments.inspect(SegmentName.posix(name));
            assertThat(info.attached()).filteredOn(p -> p.pid() == 1).singleElement()
                    .satisfies(p -> assertThat(p.alive()).isTrue());
            assertEquals(2, info.liveAttachments(), "this process and the child");
            child.kill9();
        }
        // the JVM dies with its unshare parent (SIGKILL by --kill-child), a moment after it
        SegmentInfo after = Segments.inspect(SegmentName.posix(name));
        for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
             after.liveAttachments() > 1 && System.nanoTime() < deadline; ) {
            Thread.sleep(20);
            after = Segments.inspect(SegmentName.posix(name));
        }
        assertEquals(1, after.liveAttachments());
        assertEquals(1, after.deadAttachments());
    }

    @Test
    void deadOwnerInANewPidNamespaceIsStillDetected() throws Exception {
        List<String> ns = Namespaces.newPidNamespace();
        try (ChildJvm child = holder(ns)) {
            child.kill9();
        }
        assertEquals(LockResult.OWNER_DIED, mutex.lock(60, TimeUnit.SECONDS));
        assertThat(mutex.lastRecovery()).contains("kernel dropped its registration lock");
        mutex.markConsistent();
        mutex.unlock();
    }

    @Test
    void liveOwnerHereIsNotRobbedByAWaiterInANewPidNamespace() throws Exception {
        assertNotRobbedBy(Namespaces.newPidNamespace()); // the waiter cannot see this process in its /proc at all
    }

    private void assertNotRobbedBy(List<String> waiterPrefix) throws InterruptedException {
        assertEquals(LockResult.ACQUIRED, mutex.lock());
        try {
            assertEquals("RESULT TIMED_OUT", tryFrom(waiterPrefix, 300));
            assertThat(mutex.isHeldByCurrentThread()).isTrue();
        } finally {
            mutex.unlock();
        }
    }

    @Test
    void deadPid1IsRecoveredByANewPid1InAnotherNamespace() throws Exception {
        List<String> ns = Namespaces.newPidNamespace();
        try (ChildJvm first = holder(ns)) {
            first.kill9();
        }
        // same pid (1), same main-thread token: format 1 said "not reentrant" here
        assertEquals("RESULT OWNER_DIED", tryFrom(ns, 60_000));
        assertEquals(LockResult.ACQUIRED, mutex.lock(10, TimeUnit.SECONDS));
        mutex.unlock();
    }

    @Test
    void liveOwnerIsNotRobbedByAnUnprivilegedWaiterUnderHidepid() throws Exception {
        assertNotRobbedBy(Namespaces.hidepidAsNobody()); // /proc/<this pid> does not exist for the waiter
    }

    @Test
    void liveReaderInAnotherPidNamespaceKeepsItsSlot() throws Exception {
        List<String> ns = Namespaces.newPidNamespace();
        long rwOff = segment.reserve("rw", 0x7F07, ShmRwLock.bytesNeeded(4), 64).offset();
        ShmRwLock rw = ShmRwLock.create(segment.memory(), rwOff, 4);
        try (ChildJvm child = ChildJvm.start(ns, LivenessChild.class, "hold-read", name, "" + rwOff)) {
            assertThat(child.awaitLine("LOCKED", START)).isEqualTo("LOCKED ACQUIRED");
            // format 1 reclaimed the reader's slot (pid 1 here is another process) and let the writer in
            assertEquals(LockResult.TIMED_OUT, rw.writeLock(300, TimeUnit.MILLISECONDS));
            assertEquals(1, rw.readers());
            child.kill9();
        }
        assertEquals(LockResult.ACQUIRED, rw.writeLock(60, TimeUnit.SECONDS), "the dead reader's slot is reclaimed");
        rw.writeUnlock();
    }

    @Test
    void liveThreadCacheInAnotherPidNamespaceIsNeverReclaimed() throws Exception {
        List<String> ns = Namespaces.newPidNamespace();
        int count = 256;
        FixedPool pool = FixedPool.create(segment, "pool", 64, count, 8, SyncMode.THREAD_CACHED);
        long flag = segment.reserve("flag", 0x7F04, 64, 64).offset();
        try (ChildJvm child = ChildJvm.start(ns, LivenessChild.class, "pool-cache", name, "pool", "1", "" + flag)) {
            Set<Long> theirs = new HashSet<>(parse(child.awaitLine("HELD", START)));
            List<Long> mine = drain(pool);
            pool.verify(); // reclaims the caches of dead processes: the child is alive
            mine.addAll(drain(pool));
            segment.memory().set(ValueLayout.JAVA_LONG, flag, 1L);
            List<Long> more = parse(child.awaitLine("MORE", START));
            assertThat(more).as("the child's cache kept its slices").isNotEmpty();
            theirs.addAll(more);
            Set<Long> twice = new HashSet<>(mine);
            twice.retainAll(theirs);
            assertThat(twice).as("slices handed to both processes").isEmpty();
            assertThat(new HashSet<>(mine)).hasSize(mine.size());
            assertEquals(count, mine.size() + theirs.size(), "every slice handed out exactly once");
            pool.verify();
        }
    }

    private static List<Long> drain(FixedPool pool) {
        List<Long> out = new ArrayList<>();
        for (long off; (off = pool.tryAllocate(pool.sliceSize(), 8)) != 0; ) {
            out.add(off);
        }
        return out;
    }

    private static List<Long> parse(String line) {
        String list = line.substring(line.indexOf(' ') + 1).trim();
        List<Long> out = new ArrayList<>();
        if (!list.equals("-")) {
            for (String s : list.split(",")) {
                out.add(Long.parseLong(s));
            }
        }
        return out;
    }
}
