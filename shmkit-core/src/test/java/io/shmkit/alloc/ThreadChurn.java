package io.shmkit.alloc;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Several threads at once allocate, fill with their own pattern, check and free blocks, while
 * each of them is replaced over and over by a new thread (the old one ends holding its cache):
 * a thread that used another thread's cache, or two threads given one block, shows as a
 * pattern overwritten by someone else.
 */
final class ThreadChurn {

    private ThreadChurn() {
    }

    /**
     * Runs {@code lanes} concurrent lanes of {@code generations} short-lived threads each, each
     * thread doing {@code ops} operations on blocks of {@code size} bytes; returns after all ended.
     */
    static void run(SharedAllocator a, long size, int lanes, int generations, int ops) throws InterruptedException {
        MemorySegment m = a.memory();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> laneThreads = new ArrayList<>();
        for (int lane = 0; lane < lanes; lane++) {
            int laneNo = lane;
            Thread t = new Thread(() -> {
                for (int g = 0; g < generations && failure.get() == null; g++) {
                    long pattern = ((long) laneNo << 48) | ((long) g << 24);
                    Thread worker = new Thread(() -> {
                        try {
                            work(a, m, size, ops, pattern, new SplittableRandom(pattern));
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                    }, "churn-" + laneNo + "-" + g);
                    worker.start();
                    try {
                        worker.join();
                    } catch (InterruptedException e) {
                        failure.compareAndSet(null, e);
                        return;
                    }
                }
            }, "churn-lane-" + lane);
            laneThreads.add(t);
            t.start();
        }
        for (Thread t : laneThreads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("a churn thread failed", failure.get());
        }
    }

    private static void work(SharedAllocator a, MemorySegment m, long size, int ops, long pattern, SplittableRandom r) {
        long[] held = new long[16];
        int n = 0;
        for (int i = 0; i < ops; i++) {
            if (n < held.length && (n == 0 || r.nextBoolean())) {
                long off = a.tryAllocate(size);
                if (off != 0) {
                    m.set(ValueLayout.JAVA_LONG_UNALIGNED, off, pattern + off);
                    m.set(ValueLayout.JAVA_LONG_UNALIGNED, off + size - 8, pattern + off);
                    held[n++] = off;
                }
            } else {
                int k = r.nextInt(n);
                long off = held[k];
                check(m, off, pattern + off, m.get(ValueLayout.JAVA_LONG_UNALIGNED, off));
                check(m, off, pattern + off, m.get(ValueLayout.JAVA_LONG_UNALIGNED, off + size - 8));
                a.free(off);
                held[k] = held[--n];
            }
        }
        for (int k = 0; k < n; k++) {
            check(m, held[k], pattern + held[k], m.get(ValueLayout.JAVA_LONG_UNALIGNED, held[k]));
            a.free(held[k]);
        }
    }

    private static void check(MemorySegment m, long off, long expected, long actual) {
        if (actual != expected) {
            throw new AssertionError("block at offset=" + off + " was overwritten by another thread: expected "
                    + Long.toHexString(expected) + ", found " + Long.toHexString(actual));
        }
    }

    /** Runs {@code r} in a new thread that then ends (without releasing any cache), and rethrows its failure. */
    static void runInNewThread(Runnable r) throws InterruptedException {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                r.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        t.join();
        if (failure.get() != null) {
            throw new AssertionError("worker thread failed", failure.get());
        }
    }
}
