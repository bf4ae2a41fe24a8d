package io.shmkit.sync;

import io.shmkit.internal.MutexLayout;
import io.shmkit.internal.ConditionLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ShmCondition} with threads of one process. */
class ShmConditionTest {

    private Arena arena;
    private MemorySegment mem;
    private ShmMutex mutex;
    private ShmCondition cond;
    private static final long FLAG = 256;

    @BeforeEach
    void setUp() {
        arena = Arena.ofShared();
        mem = arena.allocate(4096, 64);
        mutex = ShmMutex.create(mem, 0);
        cond = ShmCondition.create(mem, 64);
    }

    @AfterEach
    void tearDown() {
        arena.close();
    }

    @Test
    void signalWakesAWaiterThatHoldsTheMutexAgain() throws Exception {
        CompletableFuture<Boolean> held = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            mutex.lock();
            try {
                while (mem.get(ValueLayout.JAVA_LONG, FLAG) == 0) {
                    cond.await(mutex);
                }
                held.complete(mutex.isHeldByCurrentThread());
            } finally {
                mutex.unlock();
            }
        });
        t.start();
        Thread.sleep(50);
        assertFalse(held.isDone());
        mutex.lock();
        mem.set(ValueLayout.JAVA_LONG, FLAG, 1L);
        cond.signal();
        mutex.unlock();
        assertTrue(held.get(10, TimeUnit.SECONDS));
        t.join(10_000);
    }

    /**
     * Starts {@code n} threads that each wait on {@code cond} under {@code mutex} until the flag
     * word is positive, then count themselves in {@code woke} (and, with {@code consumeToken},
     * take one from the flag word, so that each signal lets exactly one through).
     */
    private List<Thread> startWaiters(int n, AtomicInteger woke, boolean consumeToken) {
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Thread t = new Thread(() -> {
                mutex.lock();
                try {
                    while (mem.get(ValueLayout.JAVA_LONG, FLAG) <= 0) {
                        cond.await(mutex);
                    }
                    if (consumeToken) {
                        mem.set(ValueLayout.JAVA_LONG, FLAG, mem.get(ValueLayout.JAVA_LONG, FLAG) - 1);
                    }
                    woke.incrementAndGet();
                } finally {
                    mutex.unlock();
                }
            });
            t.start();
            ts.add(t);
        }
        return ts;
    }

    /** Waits (up to 10 s) until {@code n} threads sleep on the condition. */
    private void awaitWaiters(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (mem.get(ValueLayout.JAVA_INT, 64 + ConditionLayout.OFF_WAITERS) < n && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
    }

    @Test
    void signalAllWakesEveryWaiter() throws Exception {
        int n = 4;
        AtomicInteger woke = new AtomicInteger();
        List<Thread> ts = startWaiters(n, woke, false);
        Thread.sleep(100);
        assertEquals(0, woke.get());
        mutex.lock();
        mem.set(ValueLayout.JAVA_LONG, FLAG, 1L);
        cond.signalAll();
        mutex.unlock();
        for (Thread t : ts) {
            t.join(10_000);
        }
        assertEquals(n, woke.get());
    }

    @Test
    void signalUnderTheMutexHandsWaitersOverOneByOne() throws Exception {
        int n = 4;
        AtomicInteger woke = new AtomicInteger();
        List<Thread> ts = startWaiters(n, woke, true);
        awaitWaiters(n);
        for (int i = 1; i <= n; i++) {
            mutex.lock();
            mem.set(ValueLayout.JAVA_LONG, FLAG, mem.get(ValueLayout.JAVA_LONG, FLAG) + 1);
            cond.signal(mutex);
            mutex.unlock();
            int expected = i;
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (woke.get() < expected && System.nanoTime() < until) {
                Thread.sleep(1);
            }
            assertEquals(expected, woke.get());
        }
        for (Thread t : ts) {
            t.join(10_000);
        }
        assertFalse(mutex.isLocked());
    }

    @Test
    void signalAllUnderTheMutexWakesEveryWaiter() throws Exception {
        int n = 4;
        AtomicInteger woke = new AtomicInteger();
        List<Thread> ts = startWaiters(n, woke, false);
        awaitWaiters(n);
        mutex.lock();
        mem.set(ValueLayout.JAVA_LONG, FLAG, 1L);
        cond.signalAll(mutex);
        assertThrows(IllegalMonitorStateException.class, () -> {
            Thread other = new Thread(() -> cond.signal(mutex));
            CompletableFuture<Throwable> f = new CompletableFuture<>();
            other.setUncaughtExceptionHandler((th, e) -> f.complete(e));
            other.start();
            other.join();
            throw f.getNow(new AssertionError("signal(mutex) without the mutex did not throw"));
        });
        mutex.unlock();
        for (Thread t : ts) {
            t.join(10_000);
        }
        assertEquals(n, woke.get());
        assertFalse(mutex.isLocked());
    }

    @Test
    void timedAwaitTimesOutHoldingTheMutex() {
        mutex.lock();
        long t0 = System.nanoTime();
        assertEquals(LockResult.TIMED_OUT, cond.await(mutex, 30, TimeUnit.MILLISECONDS));
        assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(30));
        assertTrue(mutex.isHeldByCurrentThread());
        mutex.unlock();
    }

    @Test
    void awaitWithoutTheMutexThrows() {
        assertThrows(IllegalMonitorStateException.class, () -> cond.await(mutex));
    }

    @Test
    void awaitReportsAMutexOwnerThatDiedWhileWaiting() throws Exception {
        mutex.lock();
        CompletableFuture<LockResult> r = new CompletableFuture<>();
        // the waiter releases the mutex; then we forge a dead owner and signal
        Thread t = new Thread(() -> {
            mutex.lock();
            r.complete(cond.await(mutex, 5, TimeUnit.SECONDS));
            mutex.markConsistent();
            mutex.unlock();
        });
        mutex.unlock();
        t.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (mem.get(ValueLayout.JAVA_INT, ConditionLayout.OFF_WAITERS + 64) == 0 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertEquals(LockResult.ACQUIRED, mutex.lock());
        mem.set(ValueLayout.JAVA_LONG, MutexLayout.OFF_WORD, Owners.WAITERS); // garbage: owner lost
        cond.signal();
        assertEquals(LockResult.OWNER_DIED, r.get(10, TimeUnit.SECONDS));
        t.join(10_000);
    }

    @Test
    void openRejectsGarbage() {
        assertThrows(io.shmkit.SegmentCorruptedException.class, () -> ShmCondition.open(mem, 512));
    }

    @Test
    void openRefusesFormat1() {
        mem.set(ValueLayout.JAVA_LONG, 512 + ConditionLayout.OFF_MAGIC, ConditionLayout.MAGIC_FORMAT_1);
        io.shmkit.UnsupportedFormatException e = assertThrows(io.shmkit.UnsupportedFormatException.class,
                () -> ShmCondition.open(mem, 512));
        assertTrue(e.getMessage().contains("older format") && e.getMessage().contains("SHMCOND1"), e.getMessage());
    }
}
