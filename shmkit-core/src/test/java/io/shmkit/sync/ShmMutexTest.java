package io.shmkit.sync;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.Procs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Single-process behaviour of {@link ShmMutex}: API contract, threads, garbage and dead owners. */
class ShmMutexTest {

    private Arena arena;
    private MemorySegment mem;
    private ShmMutex mutex;

    @BeforeEach
    void setUp() {
        arena = Arena.ofShared();
        mem = arena.allocate(4096, 64);
        mutex = ShmMutex.create(mem, 64);
    }

    @AfterEach
    void tearDown() {
        arena.close();
    }

    private static <T> T inOtherThread(java.util.concurrent.Callable<T> c) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(c.call());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        t.start();
        return f.get(30, TimeUnit.SECONDS);
    }

    @Test
    void sizeIsOneCacheLine() {
        assertEquals(64, ShmMutex.SIZE);
        assertEquals(64, ShmMutex.ALIGNMENT);
    }

    @Test
    void lockUnlockAndOwnership() {
        assertEquals(LockResult.ACQUIRED, mutex.lock());
        assertTrue(mutex.isHeldByCurrentThread());
        assertTrue(mutex.isLocked());
        assertEquals(Procs.PID, mutex.ownerPid());
        mutex.unlock();
        assertFalse(mutex.isHeldByCurrentThread());
        assertFalse(mutex.isLocked());
        assertEquals(LockResult.ACQUIRED, mutex.tryLock());
        mutex.unlock();
    }

    @Test
    void uncontendedLockAndUnlockAllocateNothing() throws Exception {
        // reflection: the tests compile inside module io.shmkit, which does not read java.management
        Object threads = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
        java.lang.reflect.Method allocatedBytes = Class.forName("com.sun.management.ThreadMXBean")
                .getMethod("getThreadAllocatedBytes", long.class);
        long tid = Thread.currentThread().threadId();
        for (int i = 0; i < 300_000; i++) { // warm up: let the JIT compile the fast path
            mutex.lock();
            mutex.unlock();
        }
        long before = (long) allocatedBytes.invoke(threads, tid);
        org.junit.jupiter.api.Assumptions.assumeTrue(before > 0, "per-thread allocation accounting unavailable");
        for (int i = 0; i < 1_000_000; i++) {
            mutex.lock();
            mutex.unlock();
        }
        long allocated = (long) allocatedBytes.invoke(threads, tid) - before;
        // a single allocation per call would be >= 16 MB here; allow for stray bookkeeping
        assertTrue(allocated < 64 * 1024, "allocated " + allocated + " bytes in 1,000,000 lock+unlock");
    }

    @Test
    void tryLockReportsBusyWhileAnotherThreadHoldsIt() throws Exception {
        mutex.lock();
        assertEquals(LockResult.BUSY, inOtherThread(mutex::tryLock));
        assertEquals(LockResult.TIMED_OUT, inOtherThread(() -> mutex.lock(30, TimeUnit.MILLISECONDS)));
        mutex.unlock();
        LockResult r = inOtherThread(() -> {
            LockResult x = mutex.tryLock();
            mutex.unlock();
            return x;
        });
        assertEquals(LockResult.ACQUIRED, r);
    }

    @Test
    void timedLockWaitsAtLeastTheTimeout() throws Exception {
        mutex.lock();
        long t0 = System.nanoTime();
        LockResult r = inOtherThread(() -> mutex.lock(50, TimeUnit.MILLISECONDS));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(LockResult.TIMED_OUT, r);
        assertTrue(ms >= 50, "returned after " + ms + " ms");
        mutex.unlock();
    }

    @Test
    void unlockByNonOwnerThrows() throws Exception {
        assertThrows(IllegalMonitorStateException.class, mutex::unlock);
        mutex.lock();
        Exception e = assertThrows(Exception.class, () -> inOtherThread(() -> {
            mutex.unlock();
            return null;
        }));
        assertTrue(e.getCause() instanceof IllegalMonitorStateException, String.valueOf(e));
        assertTrue(mutex.isHeldByCurrentThread());
        mutex.unlock();
        assertThrows(IllegalMonitorStateException.class, mutex::markConsistent);
    }

    @Test
    void isNotReentrant() {
        mutex.lock();
        assertThrows(IllegalStateException.class, mutex::lock);
        assertEquals(LockResult.BUSY, mutex.tryLock());
        assertTrue(mutex.isHeldByCurrentThread());
        mutex.unlock();
    }

    @Test
    void openRejectsMemoryWithoutAMutex() {
        SegmentCorruptedException e = assertThrows(SegmentCorruptedException.class, () -> ShmMutex.open(mem, 1024));
        assertTrue(e.getMessage().contains("offset=1024"), e.getMessage());
        ShmMutex again = ShmMutex.open(mem, 64);
        again.lock();
        assertTrue(mutex.isHeldByCurrentThread());
        mutex.unlock();
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> ShmMutex.create(mem, 4));
        assertThrows(IllegalArgumentException.class, () -> ShmMutex.create(mem, 4096 - 32));
        assertThrows(IllegalArgumentException.class, () -> ShmMutex.create(MemorySegment.ofArray(new long[64]), 0));
    }

    @Test
    void threadsIncrementACounterExactly() throws Exception {
        int threads = 4;
        int perThread = 100_000;
        long counter = 512;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int k = 0; k < perThread; k++) {
                    mutex.lock();
                    try {
                        // deliberately non-atomic read-modify-write: only the mutex keeps it exact
                        long v = mem.get(ValueLayout.JAVA_LONG, counter);
                        mem.set(ValueLayout.JAVA_LONG, counter, v + 1);
                    } finally {
                        mutex.unlock();
                    }
                }
            });
            t.start();
            ts.add(t);
        }
        start.countDown();
        for (Thread t : ts) {
            t.join(60_000);
            assertFalse(t.isAlive());
        }
        assertEquals((long) threads * perThread, mem.get(ValueLayout.JAVA_LONG, counter));
        assertFalse(mutex.isLocked());
    }

    private void forgeOwner(long ownerWord, long stamp) {
        mem.set(ValueLayout.JAVA_LONG, 64 + MutexLayout.OFF_WORD, ownerWord);
        mem.set(ValueLayout.JAVA_LONG, 64 + MutexLayout.OFF_STAMP, stamp);
    }

    private void assertRecoversQuickly(String expectedInReason) {
        long t0 = System.nanoTime();
        LockResult r = mutex.lock(5, TimeUnit.SECONDS);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(LockResult.OWNER_DIED, r, "after " + ms + " ms");
        assertTrue(ms < 1000, "took " + ms + " ms");
        assertNotNull(mutex.lastRecovery());
        assertTrue(mutex.lastRecovery().contains(expectedInReason), mutex.lastRecovery());
        assertTrue(mutex.isHeldByCurrentThread());
        assertFalse(mutex.isConsistent());
        mutex.markConsistent();
        mutex.unlock();
        assertEquals(LockResult.ACQUIRED, mutex.lock());
        mutex.unlock();
    }

    @Test
    void garbagePidZeroWithWaitersIsReportedAndRecoverable() {
        forgeOwner(Owners.WAITERS, 0);
        assertRecoversQuickly("pid 0 with the waiters flag set");
    }

    @Test
    void garbageNegativePidIsReportedAndRecoverable() {
        forgeOwner((-7L << 32) | (5L << 2), 0);
        assertRecoversQuickly("negative pid -7");
    }

    @Test
    void garbagePidAbovePidMaxIsReportedAndRecoverable() {
        forgeOwner(((long) Procs.PID_MAX + 10) << 32 | (3L << 2), 0);
        assertRecoversQuickly("pid_max");
    }

    @Test
    void garbageWordIsTakenOverByTryLockToo() {
        forgeOwner(Owners.WAITERS, 0);
        assertEquals(LockResult.OWNER_DIED, mutex.tryLock());
        mutex.markConsistent();
        mutex.unlock();
    }

    @Test
    void vanishedPidCountsAsDead() throws Exception {
        Process p = new ProcessBuilder("true").start();
        long pid = p.pid();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertTrue(Procs.startTime(pid) < 0, "pid " + pid + " unexpectedly reused already");
        forgeOwner((pid << 32) | (9L << 2), (pid << 40) | 12345);
        assertRecoversQuickly("no longer exists");
    }

    @Test
    void livePidWithDifferentStartTimeCountsAsDead() {
        long pid = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(1L);
        long start = Procs.startTime(pid);
        assertTrue(start >= 0, "parent pid " + pid + " must be alive");
        long wrong = (start + 777) & Owners.START_MASK;
        forgeOwner((pid << 32) | (4L << 2), (pid << 40) | wrong);
        assertRecoversQuickly("was reused");
    }

    @Test
    void livePidWithMatchingStartTimeIsWaitedFor() {
        long pid = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(1L);
        long start = Procs.startTime(pid);
        forgeOwner((pid << 32) | (4L << 2), (pid << 40) | (start & Owners.START_MASK));
        assertEquals(LockResult.TIMED_OUT, mutex.lock(40, TimeUnit.MILLISECONDS));
        assertEquals(LockResult.BUSY, mutex.tryLock());
        forgeOwner(0, 0);
        assertEquals(LockResult.ACQUIRED, mutex.lock());
        mutex.unlock();
    }

    @Test
    void staysInconsistentUntilMarkedConsistent() {
        forgeOwner(Owners.WAITERS, 0);
        assertEquals(LockResult.OWNER_DIED, mutex.lock());
        mutex.unlock(); // no repair
        assertEquals(LockResult.OWNER_DIED, mutex.lock());
        mutex.unlock();
        assertEquals(LockResult.OWNER_DIED, mutex.tryLock());
        mutex.markConsistent();
        mutex.unlock();
        assertTrue(mutex.isConsistent());
        assertEquals(LockResult.ACQUIRED, mutex.lock());
        mutex.unlock();
        assertTrue(mutex.takeovers() >= 1);
    }
}
