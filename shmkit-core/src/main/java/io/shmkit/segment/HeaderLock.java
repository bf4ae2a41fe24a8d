package io.shmkit.segment;

import io.shmkit.internal.Mem;
import io.shmkit.internal.OwnerTable;
import io.shmkit.internal.Procs;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

import static io.shmkit.internal.SegmentHeader.OFF_GROW_LOCK_OWNER;
import static io.shmkit.internal.SegmentHeader.OFF_GROW_LOCK_PID;

/**
 * The segment header's lock (fields in {@code SegmentHeader}): serialises growing and every
 * change to the directory, across processes. The word holds the holder's owner id
 * ({@code OwnerTable.id()}, unsigned); a holder is taken over only when the owner table says it
 * is positively dead (checked at most once a millisecond), never on a guess. Every step a holder
 * takes under it is a single committed store or none, so a dead holder leaves nothing to repair.
 * The pid beside it is a diagnostic. Stateless.
 */
final class HeaderLock {

    private static final long STEAL_CHECK_NANOS = 1_000_000L;

    private HeaderLock() {
    }

    /** Runs {@code action} holding the lock of the header in {@code m}. */
    static <T> T with(MemorySegment m, OwnerTable owners, Supplier<T> action) {
        lock(m, owners);
        try {
            return action.get();
        } finally {
            unlock(m);
        }
    }

    static void lock(MemorySegment m, OwnerTable owners) {
        long me = Integer.toUnsignedLong(owners.id());
        long lastCheck = System.nanoTime();
        for (int spins = 0; ; spins++) {
            long owner = Mem.getLongVolatile(m, OFF_GROW_LOCK_OWNER);
            if (owner == 0) {
                if (Mem.casLong(m, OFF_GROW_LOCK_OWNER, 0L, me)) {
                    Mem.setLongRelease(m, OFF_GROW_LOCK_PID, (long) Procs.PID); // diagnostic only
                    return;
                }
                continue;
            }
            long now = System.nanoTime();
            if (now - lastCheck > STEAL_CHECK_NANOS) {
                lastCheck = now;
                if (owners.check((int) owner).dead() && Mem.casLong(m, OFF_GROW_LOCK_OWNER, owner, me)) {
                    // The dead owner's step was a single committed store or none (see reserve/grow).
                    Mem.setLongRelease(m, OFF_GROW_LOCK_PID, (long) Procs.PID);
                    return;
                }
            }
            if (spins < 100) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(50_000L);
            }
        }
    }

    static void unlock(MemorySegment m) {
        Mem.setLongRelease(m, OFF_GROW_LOCK_PID, 0L);
        Mem.setLongRelease(m, OFF_GROW_LOCK_OWNER, 0L);
    }
}
