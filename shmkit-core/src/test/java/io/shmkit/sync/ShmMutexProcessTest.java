package io.shmkit.sync;

import io.shmkit.internal.MutexLayout;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.ChildJvm;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ShmMutex} across real child JVMs, including owners killed with SIGKILL. */
class ShmMutexProcessTest {

    private String name;
    private Segment segment;
    private MemorySegment mem;
    private long mutexOff;
    private long dataOff;
    private ShmMutex mutex;

    @BeforeEach
    void setUp() {
        name = TestNames.unique("mutex");
        segment = Segment.create(SegmentName.posix(name), 64 * 1024);
        mem = segment.memory();
        mutexOff = segment.dataOffset();
        dataOff = mutexOff + 128;
        mutex = ShmMutex.create(mem, mutexOff);
    }

    @AfterEach
    void tearDown() {
        segment.closeAndUnlink();
    }

    @Test
    void twoProcessesWithTwoThreadsEachCountToAMillionExactly() throws Exception {
        int perThread = 250_000;
        try (ChildJvm a = ChildJvm.start(SyncChild.class, "count-mutex", name, "" + mutexOff, "" + dataOff, "2", "" + perThread);
             ChildJvm b = ChildJvm.start(SyncChild.class, "count-mutex", name, "" + mutexOff, "" + dataOff, "2", "" + perThread)) {
            a.awaitLine("READY", Duration.ofSeconds(60));
            b.awaitLine("READY", Duration.ofSeconds(60));
            mem.set(ValueLayout.JAVA_LONG, dataOff + 16, 1L); // go
            assertEquals("DONE torn=0", a.awaitLine("DONE", Duration.ofSeconds(120)));
            assertEquals("DONE torn=0", b.awaitLine("DONE", Duration.ofSeconds(120)));
            assertEquals(0, a.waitFor(Duration.ofSeconds(30)));
            assertEquals(0, b.waitFor(Duration.ofSeconds(30)));
        }
        assertEquals(1_000_000L, mem.get(ValueLayout.JAVA_LONG, dataOff));
        assertEquals(1_000_000L, mem.get(ValueLayout.JAVA_LONG, dataOff + 8));
        assertFalse(mutex.isLocked());
        assertTrue(mutex.isConsistent());
        assertEquals(0, mutex.takeovers());
    }

    /** The pair at data: a is incremented, then b; between the two a crash leaves a = b + 1. */
    static void updatePair(MemorySegment mem, long data) {
        long a = mem.get(ValueLayout.JAVA_LONG, data);
        mem.set(ValueLayout.JAVA_LONG, data, a + 1);
        for (int i = 0; i < 50; i++) {
            Thread.onSpinWait();
        }
        mem.set(ValueLayout.JAVA_LONG, data + 8, a + 1);
        mem.set(ValueLayout.JAVA_LONG, data + 24, mem.get(ValueLayout.JAVA_LONG, data + 24) + 1);
    }

    /** Repair after OWNER_DIED: the source of truth is a; counts repairs at data+32. */
    static void repairPair(MemorySegment mem, long data) {
        long a = mem.get(ValueLayout.JAVA_LONG, data);
        long b = mem.get(ValueLayout.JAVA_LONG, data + 8);
        if (a != b && a != b + 1) {
            throw new AssertionError("pair broken beyond one crash: a=" + a + " b=" + b);
        }
        mem.set(ValueLayout.JAVA_LONG, data + 8, a);
        mem.set(ValueLayout.JAVA_LONG, data + 32, mem.get(ValueLayout.JAVA_LONG, data + 32) + 1);
    }

    @Test
    void survivesRepeatedSigkillsOfContendingOwners() throws Exception {
        int kills = Boolean.getBoolean("shmkit.long") ? 40 : 6;
        java.util.Random rnd = new java.util.Random(42);
        ChildJvm[] kids = new ChildJvm[2];
        try {
            for (int i = 0; i < kids.length; i++) {
                kids[i] = ChildJvm.start(SyncChild.class, "churn-mutex", name, "" + mutexOff, "" + dataOff);
                kids[i].awaitLine("READY", Duration.ofSeconds(60));
            }
            for (int k = 0; k < kills; k++) {
                Thread.sleep(20 + rnd.nextInt(80));
                int victim = rnd.nextInt(kids.length);
                kids[victim].kill9();
                kids[victim].close();
                // the survivor and this process must get through within moments
                long t0 = System.nanoTime();
                LockResult r = mutex.lock(5, TimeUnit.SECONDS);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(r.acquired(), "lock wedged after kill " + k + ": " + r);
                assertTrue(ms < 1000, "took " + ms + " ms after kill " + k);
                if (r == LockResult.OWNER_DIED) {
                    repairPair(mem, dataOff);
                    mutex.markConsistent();
                }
                assertEquals(mem.get(ValueLayout.JAVA_LONG, dataOff), mem.get(ValueLayout.JAVA_LONG, dataOff + 8));
                mutex.unlock();
                kids[victim] = ChildJvm.start(SyncChild.class, "churn-mutex", name, "" + mutexOff, "" + dataOff);
                kids[victim].awaitLine("READY", Duration.ofSeconds(60));
            }
        } finally {
            for (ChildJvm kid : kids) {
                if (kid != null) {
                    kid.close();
                }
            }
        }
        if (mutex.lock() == LockResult.OWNER_DIED) {
            repairPair(mem, dataOff);
            mutex.markConsistent();
        }
        long a = mem.get(ValueLayout.JAVA_LONG, dataOff);
        assertEquals(a, mem.get(ValueLayout.JAVA_LONG, dataOff + 8));
        assertTrue(a > 0, "children never made progress");
        System.out.println("kills=" + kills + " takeovers=" + mutex.takeovers() + " repairs="
                + mem.get(ValueLayout.JAVA_LONG, dataOff + 32) + " updates=" + a);
        mutex.unlock();
    }

    @Test
    void ownerKilledWithSigkillIsReportedToTheNextLocker() throws Exception {
        try (ChildJvm child = ChildJvm.start(SyncChild.class, "hold-mutex", name, "" + mutexOff)) {
            assertEquals("LOCKED ACQUIRED", child.awaitLine("LOCKED", Duration.ofSeconds(60)));
            assertEquals(child.pid(), mutex.ownerPid());
            assertEquals(LockResult.BUSY, mutex.tryLock());
            child.kill9();
            long t0 = System.nanoTime();
            LockResult r = mutex.lock(10, TimeUnit.SECONDS);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(LockResult.OWNER_DIED, r);
            assertTrue(ms < 500, "took " + ms + " ms");
            assertTrue(mutex.lastRecovery().contains("pid " + child.pid()), mutex.lastRecovery());
            mutex.markConsistent();
            mutex.unlock();
        }
        assertEquals(LockResult.ACQUIRED, mutex.lock());
        mutex.unlock();
    }

    @Test
    void sleepingWaiterWakesWhenTheOwnerIsKilled() throws Exception {
        try (ChildJvm child = ChildJvm.start(SyncChild.class, "hold-mutex", name, "" + mutexOff)) {
            child.awaitLine("LOCKED", Duration.ofSeconds(60));
            CompletableFuture<LockResult> waiter = new CompletableFuture<>();
            long[] acquiredAt = new long[1];
            Thread t = new Thread(() -> {
                LockResult r = mutex.lock();
                acquiredAt[0] = System.nanoTime();
                waiter.complete(r);
                mutex.markConsistent();
                mutex.unlock();
            });
            t.start();
            // the waiter announces itself with the waiters flag before it sleeps
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!mutex.hasWaitersHint() && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertTrue(mutex.hasWaitersHint(), "waiter never went to sleep");
            Thread.sleep(100);
            assertFalse(waiter.isDone(), "waiter got a lock that a live child holds");
            long killedAt = System.nanoTime();
            child.kill9();
            assertEquals(LockResult.OWNER_DIED, waiter.get(10, TimeUnit.SECONDS));
            long ms = (acquiredAt[0] - killedAt) / 1_000_000;
            assertTrue(ms < 1000, "waiter woke " + ms + " ms after the kill");
            t.join(10_000);
        }
        assertTrue(mutex.isConsistent());
        assertFalse(mutex.isLocked());
    }

    // ---------------------------------------------------------------- issue 8, finding 4: stale stamp
    // Format 1 wrote the owner's stamp (pid, start time) after its CAS, so a waiter reading
    // between the two, while the old stamp named an earlier process with the same pid, took a
    // live lock. Format 2 words name their owner completely; offset 8 (the old stamp) is never
    // read, whatever it holds.

    /** Where format 1 kept the stamp. */
    private static final long OLD_STAMP = 8;

    /** A format 1 stamp naming {@code pid} with a start time no running process has. */
    private static long staleStamp(long pid) {
        return (pid << 40) | 1;
    }

    @Test
    void aFormat1WordWithAStaleStampIsNeverTakenOver() {
        // format 1 read this as "pid reused" (live pid, other start time) and took the lock
        long pid = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(1L);
        mem.set(ValueLayout.JAVA_LONG, mutexOff + MutexLayout.OFF_WORD, (pid << 32) | (4L << 2));
        mem.set(ValueLayout.JAVA_LONG, mutexOff + OLD_STAMP, staleStamp(pid));
        assertEquals(LockResult.TIMED_OUT, mutex.lock(100, TimeUnit.MILLISECONDS));
        assertEquals(LockResult.BUSY, mutex.tryLock());
        assertEquals(0, mutex.takeovers());
        mem.set(ValueLayout.JAVA_LONG, mutexOff + MutexLayout.OFF_WORD, 0L);
    }

    @Test
    void contendingProcessesNeverTakeALiveLockWhateverTheOldStampSays() throws Exception {
        int perThread = 100_000;
        try (ChildJvm a = ChildJvm.start(SyncChild.class, "count-mutex", name, "" + mutexOff, "" + dataOff, "2", "" + perThread);
             ChildJvm b = ChildJvm.start(SyncChild.class, "count-mutex", name, "" + mutexOff, "" + dataOff, "2", "" + perThread)) {
            a.awaitLine("READY", Duration.ofSeconds(60));
            b.awaitLine("READY", Duration.ofSeconds(60));
            // the worst interleaving of format 1, all the time: the stamp names the current
            // owner's pid with a start time of "an earlier process with the same pid"
            AtomicBoolean stop = new AtomicBoolean();
            Thread hostile = new Thread(() -> {
                long[] stamps = {staleStamp(a.pid()), staleStamp(b.pid())};
                for (int i = 0; !stop.get(); i++) {
                    mem.set(ValueLayout.JAVA_LONG, mutexOff + OLD_STAMP, stamps[i & 1]);
                    Thread.onSpinWait();
                }
            });
            hostile.start();
            mem.set(ValueLayout.JAVA_LONG, dataOff + 16, 1L); // go
            try {
                assertEquals("DONE torn=0", a.awaitLine("DONE", Duration.ofSeconds(300)));
                assertEquals("DONE torn=0", b.awaitLine("DONE", Duration.ofSeconds(300)));
            } finally {
                stop.set(true);
                hostile.join();
            }
            assertEquals(0, a.waitFor(Duration.ofSeconds(30)));
            assertEquals(0, b.waitFor(Duration.ofSeconds(30)));
        }
        assertEquals(4L * perThread, mem.get(ValueLayout.JAVA_LONG, dataOff));
        assertEquals(0, mutex.takeovers(), "a live owner was taken over");
        assertTrue(mutex.isConsistent());
    }
}
