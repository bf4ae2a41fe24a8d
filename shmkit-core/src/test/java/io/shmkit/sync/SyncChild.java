package io.shmkit.sync;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * Child JVM for the multi-process lock tests. Modes:
 * <ul>
 *   <li>{@code hold-mutex <seg> <offset>}: locks, prints {@code LOCKED <result>}, sleeps forever</li>
 *   <li>{@code count-mutex <seg> <mutexOff> <dataOff> <threads> <perThread>}: waits for the go
 *       flag at dataOff+16, then increments two counters at dataOff and dataOff+8 under the mutex
 *       and checks that they are equal on entry; prints {@code DONE torn=<n>}</li>
 *   <li>{@code hold-write <seg> <rwOff>} / {@code hold-read <seg> <rwOff>}: takes the rwlock,
 *       prints {@code LOCKED <result>}, sleeps forever</li>
 *   <li>{@code rw-mix <seg> <rwOff> <dataOff> <threads> <writesPerThread>}: after the go flag,
 *       half of the threads write (increment two words), the others read and check the two
 *       words are equal; prints {@code DONE torn=<n>}</li>
 *   <li>{@code pong <seg> <mutexOff> <condOff> <dataOff> <rounds>}: answers pings (see
 *       ShmConditionProcessTest); prints {@code DONE}</li>
 * </ul>
 */
public final class SyncChild {

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private SyncChild() {
    }

    public static void main(String[] args) throws Exception {
        Segment seg = Segment.open(SegmentName.posix(args[1]));
        MemorySegment mem = seg.memory();
        switch (args[0]) {
            case "hold-mutex" -> {
                ShmMutex m = ShmMutex.open(mem, Long.parseLong(args[2]));
                System.out.println("LOCKED " + m.lock());
                Thread.sleep(Long.MAX_VALUE);
            }
            case "hold-write" -> {
                ShmRwLock l = ShmRwLock.open(mem, Long.parseLong(args[2]));
                System.out.println("LOCKED " + l.writeLock());
                Thread.sleep(Long.MAX_VALUE);
            }
            case "hold-read" -> {
                ShmRwLock l = ShmRwLock.open(mem, Long.parseLong(args[2]));
                System.out.println("LOCKED " + l.readLock());
                Thread.sleep(Long.MAX_VALUE);
            }
            case "churn-mutex" -> {
                // lock, repair if told the owner died, update a two-word pair non-atomically
                ShmMutex m = ShmMutex.open(mem, Long.parseLong(args[2]));
                long data = Long.parseLong(args[3]);
                System.out.println("READY");
                System.out.flush();
                while (true) {
                    if (m.lock() == LockResult.OWNER_DIED) {
                        ShmMutexProcessTest.repairPair(mem, data);
                        m.markConsistent();
                    }
                    try {
                        ShmMutexProcessTest.updatePair(mem, data);
                    } finally {
                        m.unlock();
                    }
                }
            }
            case "count-mutex" -> {
                ShmMutex m = ShmMutex.open(mem, Long.parseLong(args[2]));
                long data = Long.parseLong(args[3]);
                int threads = Integer.parseInt(args[4]);
                int per = Integer.parseInt(args[5]);
                long[] torn = new long[threads];
                runThreads(threads, mem, data, t -> {
                    for (int i = 0; i < per; i++) {
                        m.lock();
                        try {
                            long a = mem.get(ValueLayout.JAVA_LONG, data);
                            long b = mem.get(ValueLayout.JAVA_LONG, data + 8);
                            if (a != b) {
                                torn[t]++;
                            }
                            mem.set(ValueLayout.JAVA_LONG, data, a + 1);
                            mem.set(ValueLayout.JAVA_LONG, data + 8, b + 1);
                        } finally {
                            m.unlock();
                        }
                    }
                });
                System.out.println("DONE torn=" + sum(torn));
            }
            case "rw-mix" -> {
                ShmRwLock l = ShmRwLock.open(mem, Long.parseLong(args[2]));
                long data = Long.parseLong(args[3]);
                int threads = Integer.parseInt(args[4]);
                int per = Integer.parseInt(args[5]);
                long[] torn = new long[threads];
                long[] reads = new long[threads];
                runThreads(threads, mem, data, t -> {
                    if (t % 2 == 0) {
                        for (int i = 0; i < per; i++) {
                            l.writeLock();
                            try {
                                long a = mem.get(ValueLayout.JAVA_LONG, data);
                                mem.set(ValueLayout.JAVA_LONG, data, a + 1);
                                Thread.onSpinWait(); // widen the window between the two words
                                long b = mem.get(ValueLayout.JAVA_LONG, data + 8);
                                mem.set(ValueLayout.JAVA_LONG, data + 8, b + 1);
                            } finally {
                                l.writeUnlock();
                            }
                        }
                    } else {
                        // read until the writers of this process are done
                        while ((long) LONG.getVolatile(mem, data + 24) < threads / 2) {
                            l.readLock();
                            try {
                                long a = mem.get(ValueLayout.JAVA_LONG, data);
                                Thread.onSpinWait();
                                long b = mem.get(ValueLayout.JAVA_LONG, data + 8);
                                if (a != b) {
                                    torn[t]++;
                                }
                                reads[t]++;
                            } finally {
                                l.readUnlock();
                            }
                        }
                    }
                    if (t % 2 == 0) {
                        LONG.getAndAdd(mem, data + 24, 1L);
                    }
                });
                System.out.println("DONE torn=" + sum(torn) + " reads=" + sum(reads));
            }
            case "pong" -> {
                ShmMutex m = ShmMutex.open(mem, Long.parseLong(args[2]));
                ShmCondition c = ShmCondition.open(mem, Long.parseLong(args[3]));
                long data = Long.parseLong(args[4]);
                long rounds = Long.parseLong(args[5]);
                System.out.println("READY");
                ShmConditionProcessTest.pong(m, c, mem, data, rounds);
                System.out.println("DONE");
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
        System.out.flush();
        seg.close();
    }

    private static long sum(long[] a) {
        long s = 0;
        for (long x : a) {
            s += x;
        }
        return s;
    }

    interface Body {
        void run(int thread) throws Exception;
    }

    /** Prints READY, waits for the go flag at data+16, runs the threads, joins them. */
    private static void runThreads(int threads, MemorySegment mem, long data, Body body) throws Exception {
        System.out.println("READY");
        while ((long) LONG.getVolatile(mem, data + 16) == 0) {
            Thread.sleep(1);
        }
        List<Thread> ts = new ArrayList<>();
        Throwable[] failure = new Throwable[1];
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                try {
                    body.run(id);
                } catch (Throwable e) {
                    synchronized (failure) {
                        failure[0] = e;
                    }
                }
            });
            th.start();
            ts.add(th);
        }
        for (Thread th : ts) {
            th.join();
        }
        if (failure[0] != null) {
            failure[0].printStackTrace();
            System.exit(3);
        }
    }
}
