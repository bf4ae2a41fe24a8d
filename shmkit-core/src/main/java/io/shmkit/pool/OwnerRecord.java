package io.shmkit.pool;

import io.shmkit.SegmentInUseException;
import io.shmkit.internal.Procs;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The one live owner of a process section's pools, recorded in the base record ({@code +0
 * stamp u64 = pid << 40 | start time (40 bits)}, {@code +8 pid}, {@code +16 start time},
 * {@code +24 since ms}). Claimed with one CAS on the stamp, so two starters never both win.
 *
 * <p>The liveness question "is the recorded owner still running" is answered in
 * {@link #alive} only. It fails closed: an owner counts as dead only on positive evidence
 * (no such process, or its pid now belongs to a process with another start time).
 */
final class OwnerRecord {

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final long START_MASK = (1L << 40) - 1;
    static final long STAMP = 0;
    static final long PID = 8;
    static final long START = 16;
    static final long SINCE = 24;

    private OwnerRecord() {
    }

    static long myStamp() {
        return ((long) Procs.PID << 40) | (Procs.START_TIME & START_MASK);
    }

    /**
     * Claims ownership for this process.
     *
     * @return the pid of the dead previous owner, 0 if there was none
     * @throws SegmentInUseException if a live process owns it (or this process already does)
     */
    static long claim(MemorySegment m, long at, String process) {
        long me = myStamp();
        while (true) {
            long cur = (long) LONG.getVolatile(m, at + STAMP);
            long pid = (long) LONG.getVolatile(m, at + PID);
            long start = (long) LONG.getVolatile(m, at + START);
            if (cur == me) {
                throw new SegmentInUseException("the pools of process '" + process + "' are already open in this process (pid "
                        + Procs.PID + "); close the other Pools first", Procs.PID);
            }
            if (cur != 0 && alive(cur, pid, start)) {
                throw new SegmentInUseException("the pools of process '" + process + "' are owned by live pid "
                        + (cur >>> 40) + "; stop it first (one live owner per process section)", cur >>> 40);
            }
            // CAS on the stamp: the commit point; pid/start below are details for messages
            if (LONG.compareAndSet(m, at + STAMP, cur, me)) {
                LONG.setRelease(m, at + PID, (long) Procs.PID);
                LONG.setRelease(m, at + START, Procs.START_TIME);
                LONG.setRelease(m, at + SINCE, System.currentTimeMillis());
                return cur == 0 ? 0 : cur >>> 40;
            }
        }
    }

    /** Gives ownership up (on close). */
    static void release(MemorySegment m, long at) {
        LONG.compareAndSet(m, at + STAMP, myStamp(), 0L);
    }

    /** The owner's pid, or 0 if none. */
    static long ownerPid(MemorySegment m, long at) {
        return (long) LONG.getVolatile(m, at + STAMP) >>> 40;
    }

    /** Whether the recorded owner is alive (false if none is recorded). */
    static boolean ownerAlive(MemorySegment m, long at) {
        long cur = (long) LONG.getVolatile(m, at + STAMP);
        return cur != 0 && alive(cur, (long) LONG.getVolatile(m, at + PID), (long) LONG.getVolatile(m, at + START));
    }

    /** The single liveness test of pool owners. */
    static boolean alive(long stamp, long pid, long start) {
        long p = stamp >>> 40;
        if (pid != p) {
            start = stamp & START_MASK; // the details were not written yet: the stamp's own start bits
            long actual = Procs.startTime(p);
            return actual >= 0 && (actual & START_MASK) == start;
        }
        return Procs.isAlive(p, start);
    }
}
