package io.shmkit.sync;

import io.shmkit.internal.MutexLayout;
import io.shmkit.testing.ChildJvm;
import io.shmkit.sync.LockProcesses.Holder;
import io.shmkit.sync.LockProcesses.Timed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ShmMutex} across real child JVMs, including owners killed with SIGKILL. */
class ShmMutexProcessTest {

    private LockProcesses procs;
    private MemorySegment mem;
    private long mutexOff;
    private long dataOff;
    private ShmMutex mutex;

    @BeforeEach
    void setUp() {
        procs = LockProcesses.create("mutex");
        mem = procs.mem;
        mutexOff = procs.base;
        dataOff = mutexOff + 128;
        mutex = ShmMutex.create(mem, mutexOff);
    }

    @AfterEach
    void tearDown() {
        procs.close();
    }

    @Test
    void twoProcessesWithTwoThreadsEachCountToAMillionExactly() throws Exception {
        int perThread = 250_000;
        try (ChildJvm a = procs.start("count-mutex", mutexOff, dataOff, 2, perThread);
             ChildJvm b = procs.start("count-mutex", mutexOff, dataOff, 2, perThread)) {
            LockProcesses.awaitReady(a, b);
            procs.go(dataOff);
            assertEquals(List.of("DONE torn=0", "DONE torn=0"), LockProcesses.awaitDone(Duration.ofSeconds(120), a, b));
            LockProcesses.assertExitClean(a, b);
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
                kids[i] = procs.startReady("churn-mutex", mutexOff, dataOff);
            }
            for (int k = 0; k < kills; k++) {
                Thread.sleep(20 + rnd.nextInt(80));
                int victim = rnd.nextInt(kids.length);
                kids[victim].kill9();
                kids[victim].close();
                // the survivor and this process must get through within moments
                Timed<LockResult> t = LockProcesses.timed(() -> mutex.lock(5, TimeUnit.SECONDS));
                LockResult r = t.value();
                assertTrue(r.acquired(), "lock wedged after kill " + k + ": " + r);
                assertTrue(t.millis() < 1000, "took " + t.millis() + " ms after kill " + k);
                if (r == LockResult.OWNER_DIED) {
                    repairPair(mem, dataOff);
                    mutex.markConsistent();
                }
                assertEquals(mem.get(ValueLayout.JAVA_LONG, dataOff), mem.get(ValueLayout.JAVA_LONG, dataOff + 8));
                mutex.unlock();
                kids[victim] = procs.startReady("churn-mutex", mutexOff, dataOff);
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
        try (Holder h = procs.hold("hold-mutex", mutexOff)) {
            ChildJvm child = h.child();
            assertEquals("LOCKED ACQUIRED", h.line());
            assertEquals(child.pid(), mutex.ownerPid());
            assertEquals(LockResult.BUSY, mutex.tryLock());
            child.kill9();
            Timed<LockResult> t = LockProcesses.timed(() -> mutex.lock(10, TimeUnit.SECONDS));
            assertEquals(LockResult.OWNER_DIED, t.value());
            assertTrue(t.millis() < 500, "took " + t.millis() + " ms");
            assertTrue(mutex.lastRecovery().contains("pid " + child.pid()), mutex.lastRecovery());
            mutex.markConsistent();
            mutex.unlock();
        }
        assertEquals(LockResult.ACQUIRED, mutex.lock());
        mutex.unlock();
    }

    @Test
    void sleepingWaiterWakesWhenTheOwnerIsKilled() throws Exception {
        try (Holder h = procs.hold("hold-mutex", mutexOff)) {
            ChildJvm child = h.child();
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
        try (ChildJvm a = procs.start("count-mutex", mutexOff, dataOff, 2, perThread);
             ChildJvm b = procs.start("count-mutex", mutexOff, dataOff, 2, perThread)) {
            LockProcesses.awaitReady(a, b);
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
            procs.go(dataOff);
            try {
                assertEquals(List.of("DONE torn=0", "DONE torn=0"), LockProcesses.awaitDone(Duration.ofSeconds(300), a, b));
            } finally {
                stop.set(true);
                hostile.join();
            }
            LockProcesses.assertExitClean(a, b);
        }
        assertEquals(4L * perThread, mem.get(ValueLayout.JAVA_LONG, dataOff));
        assertEquals(0, mutex.takeovers(), "a live owner was taken over");
        assertTrue(mutex.isConsistent());
    }
}
