package io.shmkit.sync;

import io.shmkit.internal.ConditionLayout;
import io.shmkit.alloc.FixedPool;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Child JVM for {@link ContainerLivenessTest}, usually started in another pid namespace or as
 * another user. Modes:
 * <ul>
 *   <li>{@code hold-mutex <seg> <offset>}: locks, prints {@code LOCKED <result> pid=<pid>}, sleeps forever</li>
 *   <li>{@code try-mutex <seg> <offset> <millis>}: {@code lock(millis)}; prints {@code RESULT <result>}
 *       (or {@code RESULT <exception>: <message>}); repairs and unlocks what it acquired; exits</li>
 *   <li>{@code pool-cache <seg> <pool> <take> <flagOffset>}: allocates {@code take} slices of a
 *       THREAD_CACHED pool (the rest of the batch stays in this thread's cache), prints
 *       {@code HELD <offsets>}, waits until the long at {@code flagOffset} is non-zero, allocates
 *       until its cache and the pool are empty, prints {@code MORE <offsets>}, sleeps forever</li>
 *   <li>{@code hold-read <seg> <rwOff>}: takes a read lock, prints {@code LOCKED <result>}, sleeps forever</li>
 *   <li>{@code signal-hold <seg> <mutexOff> <condOff>}: once a waiter sleeps on the condition,
 *       signals it under the mutex (requeueing it onto the mutex), prints {@code SIGNALLED},
 *       and sleeps forever holding the mutex</li>
 * </ul>
 */
public final class LivenessChild {

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private LivenessChild() {
    }

    public static void main(String[] args) throws Exception {
        Segment seg = Segment.open(SegmentName.parse(args[1])); // posix by default, or sysv:KEY
        MemorySegment mem = seg.memory();
        switch (args[0]) {
            case "hold-mutex" -> {
                ShmMutex m = ShmMutex.open(mem, Long.parseLong(args[2]));
                System.out.println("LOCKED " + m.lock() + " pid=" + ProcessHandle.current().pid());
                System.out.flush();
                Thread.sleep(Long.MAX_VALUE);
            }
            case "try-mutex" -> {
                String result;
                try {
                    ShmMutex m = ShmMutex.open(mem, Long.parseLong(args[2]));
                    LockResult r = m.lock(Long.parseLong(args[3]), TimeUnit.MILLISECONDS);
                    if (r == LockResult.OWNER_DIED) {
                        m.markConsistent();
                    }
                    if (r.acquired()) {
                        m.unlock();
                    }
                    result = r.toString();
                } catch (Throwable e) {
                    result = e.getClass().getSimpleName() + ": " + e.getMessage();
                }
                System.out.println("RESULT " + result);
            }
            case "pool-cache" -> {
                FixedPool pool = FixedPool.open(seg, args[2]);
                int take = Integer.parseInt(args[3]);
                long flag = Long.parseLong(args[4]);
                List<Long> held = new ArrayList<>();
                for (int i = 0; i < take; i++) {
                    held.add(pool.allocateSlice());
                }
                System.out.println("HELD " + join(held));
                System.out.flush();
                while ((long) LONG.getVolatile(mem, flag) == 0) {
                    Thread.sleep(1);
                }
                List<Long> more = new ArrayList<>();
                for (long off; (off = pool.tryAllocate(pool.sliceSize(), 8)) != 0; ) {
                    more.add(off);
                }
                System.out.println("MORE " + join(more));
                System.out.flush();
                Thread.sleep(Long.MAX_VALUE);
            }
            case "hold-read" -> {
                ShmRwLock l = ShmRwLock.open(mem, Long.parseLong(args[2]));
                System.out.println("LOCKED " + l.readLock());
                System.out.flush();
                Thread.sleep(Long.MAX_VALUE);
            }
            case "signal-hold" -> {
                ShmMutex m = ShmMutex.open(mem, Long.parseLong(args[2]));
                long condOff = Long.parseLong(args[3]);
                ShmCondition c = ShmCondition.open(mem, condOff);
                while (true) {
                    m.lock();
                    if ((int) mem.get(ValueLayout.JAVA_INT, condOff + ConditionLayout.OFF_WAITERS) > 0) {
                        c.signal(m);
                        System.out.println("SIGNALLED");
                        System.out.flush();
                        Thread.sleep(Long.MAX_VALUE);
                    }
                    m.unlock();
                    Thread.sleep(1);
                }
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
        System.out.flush();
        seg.close();
    }

    private static String join(List<Long> offsets) {
        StringBuilder b = new StringBuilder();
        for (long o : offsets) {
            b.append(b.isEmpty() ? "" : ",").append(o);
        }
        return b.isEmpty() ? "-" : b.toString();
    }
}
