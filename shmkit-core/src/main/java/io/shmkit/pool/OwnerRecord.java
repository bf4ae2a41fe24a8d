package io.shmkit.pool;

import io.shmkit.SegmentInUseException;
import io.shmkit.internal.Mem;
import io.shmkit.internal.OwnerTable;
import io.shmkit.internal.Procs;
import io.shmkit.segment.Liveness;

import java.lang.foreign.MemorySegment;

/**
 * The one live owner of a process section's pools, in the base record: {@code +0 owner id
 * u64} (the owner's registration in the base segment's attach table, see {@link OwnerTable}),
 * {@code +8 pid}, {@code +16 start time}, {@code +24 since ms} (diagnostics only). Claimed with
 * one CAS on the id word, so two starters never both win.
 *
 * <p>"Is the recorded owner still running" is the single shmkit liveness check,
 * {@link OwnerTable#check}: a kernel-held token (an OFD lock on the owner's attach slot) for
 * POSIX segments, valid in every pid namespace, so a restarted server that has its
 * predecessor's pid (pid 1 in a new container) resumes. It fails closed: an owner the system
 * cannot judge counts as alive.
 */
final class OwnerRecord {

    static final long ID = 0;
    static final long PID = 8;
    static final long START = 16;
    static final long SINCE = 24;

    private OwnerRecord() {
    }

    /**
     * Claims ownership for this process (its registration on the segment {@code m} belongs to).
     *
     * @return the pid of the dead previous owner, 0 if there was none
     * @throws SegmentInUseException if a live (or undecidable) owner holds it, or this process does
     */
    static long claim(MemorySegment m, long at, String process) {
        OwnerTable table = OwnerTable.of(m, at);
        long me = Integer.toUnsignedLong(table.id());
        while (true) {
            long cur = Mem.getLongVolatile(m, at + ID);
            long pid = Mem.getLongVolatile(m, at + PID);
            if (cur != 0) {
                OwnerTable.Verdict v = table.check((int) cur);
                if (cur == me || v.liveness().mayBeAlive()) {
                    long livePid = cur == me ? Procs.PID : Math.max(pid, table.pidOf((int) cur));
                    throw new SegmentInUseException("the pools of process '" + process + "' are owned by "
                            + (v.liveness() == Liveness.UNKNOWN ? "pid " + livePid + ", which may be alive (" + v.reason() + ")"
                            : "live pid " + livePid) + "; stop it first (one live owner per process section)", livePid);
                }
            }
            // CAS on the id: the commit point; the fields below are diagnostics
            if (Mem.casLong(m, at + ID, cur, me)) {
                Mem.setLongRelease(m, at + PID, (long) Procs.PID);
                Mem.setLongRelease(m, at + START, Procs.START_TIME);
                Mem.setLongRelease(m, at + SINCE, System.currentTimeMillis());
                return cur == 0 ? 0 : Math.max(1, pid);
            }
        }
    }

    /** Gives ownership up (on close, before the segment detaches). */
    static void release(MemorySegment m, long at) {
        Mem.casLong(m, at + ID, Integer.toUnsignedLong(OwnerTable.of(m, at).id()), 0L);
    }

    /** The recorded owner's pid (as it saw itself), or 0 if none. */
    static long ownerPid(MemorySegment m, long at) {
        return Mem.getLongVolatile(m, at + ID) == 0 ? 0 : Mem.getLongVolatile(m, at + PID);
    }

    /** The recorded owner's liveness (DEAD if none is recorded). */
    static Liveness ownerLiveness(MemorySegment m, long at) {
        long cur = Mem.getLongVolatile(m, at + ID);
        return cur == 0 ? Liveness.DEAD : OwnerTable.of(m, at).check((int) cur).liveness();
    }
}
