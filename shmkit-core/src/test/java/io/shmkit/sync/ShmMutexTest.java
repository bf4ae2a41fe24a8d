package io.shmkit.sync;

import io.shmkit.internal.MutexLayout;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.OwnerTable;
import io.shmkit.internal.Procs;
import io.shmkit.internal.SegmentHeader;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.TestNames;
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

/** Single-process behaviour of {@link ShmMutex} in a POSIX segment: API contract, threads, garbage and dead owners. */
class ShmMutexTest {

    private Segment segment;
    private MemorySegment mem;
    private ShmMutex mutex;

    @BeforeEach
    void setUp() {
        segment = Segment.create(SegmentName.posix(TestNames.unique("mutex")), 1 << 16);
        mem = segment.memory().asSlice(segment.dataOffset(), 4096);
        mutex = ShmMutex.create(mem, 64);
    }

    @AfterEach
    void tearDown() {
        segment.closeAndUnlink();
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

    private void forgeOwner(long ownerWord) {
        mem.set(ValueLayout.JAVA_LONG, 64 + MutexLayout.OFF_WORD, ownerWord);
    }

    /** An owner word naming registration (slot, generation) with thread token 9. */
    static long word(int slot, int generation) {
        return (long) (OwnerTable.REGISTERED | slot << 24 | generation) << 32 | (9L << 2);
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
    void garbageOwnerIdZeroWithWaitersIsReportedAndRecoverable() {
        forgeOwner(Owners.WAITERS);
        assertRecoversQuickly("owner id 0 with the waiters flag set");
    }

    @Test
    void garbageSlotOutsideTheAttachTableIsReportedAndRecoverable() {
        forgeOwner(word(100, 1));
        assertRecoversQuickly("outside the table");
    }

    @Test
    void garbageGenerationZeroIsReportedAndRecoverable() {
        forgeOwner(word(5, 0));
        assertRecoversQuickly("generation 0");
    }

    @Test
    void garbageWordIsTakenOverByTryLockToo() {
        forgeOwner(Owners.WAITERS);
        assertEquals(LockResult.OWNER_DIED, mutex.tryLock());
        mutex.markConsistent();
        mutex.unlock();
    }

    @Test
    void endedRegistrationCountsAsDead() {
        // slot 40 was never registered: its generation is 0, not 7
        forgeOwner(word(40, 7));
        assertRecoversQuickly("registered again");
    }

    @Test
    void detachedRegistrationCountsAsDead() {
        segment.memory().set(ValueLayout.JAVA_LONG, SegmentHeader.attachSlot(41) + SegmentHeader.AttachSlot.OFF_WORD, 3L << 32);
        forgeOwner(word(41, 3));
        assertRecoversQuickly("detached");
    }

    @Test
    void registrationWhoseKernelLockIsGoneCountsAsDead() {
        // generation and pid in place, as a process killed with SIGKILL leaves them, but no OFD lock
        segment.memory().set(ValueLayout.JAVA_LONG, SegmentHeader.attachSlot(42) + SegmentHeader.AttachSlot.OFF_WORD,
                3L << 32 | 12345);
        forgeOwner(word(42, 3));
        assertRecoversQuickly("dropped its registration lock");
    }

    @Test
    void earlierRegistrationOfOurOwnSlotIsDeadNotReentry() {
        // the same-pid restart in one process: a predecessor used our slot with an earlier
        // generation and the same thread token; that is a dead owner, not "already held"
        OwnerTable mine = OwnerTable.of(segment.memory(), 0);
        int id = mine.id();
        long me = (long) (id - 1 == (id & ~0xFF_FFFF) ? id + 1 : id - 1) << 32
                | ((Thread.currentThread().threadId() << 2) & Owners.TOKEN_FIELD);
        forgeOwner(me);
        assertRecoversQuickly("earlier, ended registration");
    }

    @Test
    void liveRegistrationOfAnotherAttachmentIsWaitedFor() {
        try (Segment other = Segment.open(segment.name())) {
            int id = OwnerTable.of(other.memory(), 0).id();
            forgeOwner((long) id << 32 | (4L << 2));
            assertEquals(LockResult.TIMED_OUT, mutex.lock(40, TimeUnit.MILLISECONDS));
            assertEquals(LockResult.BUSY, mutex.tryLock());
            assertEquals(io.shmkit.segment.Liveness.ALIVE, mutex.ownerLiveness());
            assertEquals(Procs.PID, mutex.ownerPid());
        }
        forgeOwner(0);
        assertEquals(LockResult.ACQUIRED, mutex.lock());
        mutex.unlock();
    }

    @Test
    void bareMemoryNeverTakesOverAForeignOwner() {
        try (Arena a = Arena.ofShared()) {
            MemorySegment bare = a.allocate(256, 64);
            ShmMutex m = ShmMutex.create(bare, 0);
            // any registered-looking or unregistered foreign id: nobody can tell, so fail closed
            for (long w : new long[]{word(3, 1), (long) (OwnerTable.PROCESS_NONCE ^ 0x55) << 32 | 4}) {
                bare.set(ValueLayout.JAVA_LONG, MutexLayout.OFF_WORD, w);
                assertEquals(LockResult.TIMED_OUT, m.lock(30, TimeUnit.MILLISECONDS));
                assertEquals(LockResult.BUSY, m.tryLock());
                assertEquals(io.shmkit.segment.Liveness.UNKNOWN, m.ownerLiveness());
            }
            bare.set(ValueLayout.JAVA_LONG, MutexLayout.OFF_WORD, Owners.WAITERS); // garbage is still garbage
            assertEquals(LockResult.OWNER_DIED, m.lock(5, TimeUnit.SECONDS));
            m.markConsistent();
            m.unlock();
        }
    }

    @Test
    void openRefusesAFormat1Mutex() {
        mem.set(ValueLayout.JAVA_LONG, 1024 + MutexLayout.OFF_MAGIC, MutexLayout.MAGIC_FORMAT_1);
        io.shmkit.UnsupportedFormatException e = assertThrows(io.shmkit.UnsupportedFormatException.class,
                () -> ShmMutex.open(mem, 1024));
        assertTrue(e.getMessage().contains("older format") && e.getMessage().contains("SHMMUTX1"), e.getMessage());
    }

    @Test
    void openRefusesAFormat2MutexAndANewerFormat() {
        mem.set(ValueLayout.JAVA_LONG, 1024 + MutexLayout.OFF_MAGIC, MutexLayout.MAGIC_FORMAT_2);
        io.shmkit.UnsupportedFormatException old = assertThrows(io.shmkit.UnsupportedFormatException.class,
                () -> ShmMutex.open(mem, 1024));
        assertTrue(old.getMessage().contains("older format") && old.getMessage().contains("SHMMUTX2"), old.getMessage());
        ShmMutex.create(mem, 1024);
        mem.set(ValueLayout.JAVA_INT, 1024 + MutexLayout.OFF_FORMAT, MutexLayout.FORMAT + 1);
        io.shmkit.UnsupportedFormatException newer = assertThrows(io.shmkit.UnsupportedFormatException.class,
                () -> ShmMutex.open(mem, 1024));
        assertTrue(newer.getMessage().contains("newer"), newer.getMessage());
    }

    @Test
    void staysInconsistentUntilMarkedConsistent() {
        forgeOwner(Owners.WAITERS);
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
