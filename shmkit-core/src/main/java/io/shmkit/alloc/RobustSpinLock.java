package io.shmkit.alloc;

import io.shmkit.internal.Procs;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * A process-shared spin lock in one 64-bit word whose value names the owner
 * ({@code pid << 32 | thread tag}); 0 is unlocked. A waiter that finds the owner's process gone
 * (no {@code /proc/<pid>}, or a zombie) takes the lock over with a CAS and reports
 * "owner died" to its caller, which repairs the structure. Spins, then yields, then parks in
 * short naps; it never sleeps on a futex, so it suits short critical sections only.
 *
 * <p>Stand-in for {@code io.shmkit.sync.ShmMutex} behind {@link AllocLock}.
 */
final class RobustSpinLock implements AllocLock {

    /** Bytes the lock occupies (one word, padded to its own cache line). */
    static final long SIZE = 64;

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final int LIVENESS_CHECK_EVERY = 1 << 12;

    private final MemorySegment memory;
    private final long offset;

    RobustSpinLock(MemorySegment memory, long offset) {
        if ((offset & 7) != 0) {
            throw new IllegalArgumentException("lock word must be 8-byte aligned: offset=" + offset);
        }
        this.memory = memory;
        this.offset = offset;
    }

    private static long ownerWord() {
        return ((long) Procs.PID << 32) | (Thread.currentThread().threadId() & 0xFFFF_FFFFL) | 1L << 31;
    }

    @Override
    public boolean lock() {
        long me = ownerWord();
        if (LONG.compareAndSet(memory, offset, 0L, me)) {
            return false;
        }
        return lockSlowPath(me);
    }

    private boolean lockSlowPath(long me) {
        for (int spins = 1; ; spins++) {
            long v = (long) LONG.getAcquire(memory, offset); // acquire: see the structure the last owner released
            if (v == 0) {
                if (LONG.compareAndSet(memory, offset, 0L, me)) {
                    return false;
                }
                continue;
            }
            if ((spins & (LIVENESS_CHECK_EVERY - 1)) == 0) {
                long pid = v >>> 32;
                if (pid != Procs.PID && Procs.startTime(pid) < 0 && LONG.compareAndSet(memory, offset, v, me)) {
                    return true;
                }
            }
            if (spins < 64) {
                Thread.onSpinWait();
            } else if (spins < 256) {
                Thread.yield();
            } else {
                LockSupport.parkNanos(20_000);
            }
        }
    }

    @Override
    public void markConsistent() {
        // the word itself carries no "inconsistent" state: reporting once is enough
    }

    @Override
    public void unlock() {
        // release: the next owner sees every write made under the lock
        LONG.setRelease(memory, offset, 0L);
    }
}
