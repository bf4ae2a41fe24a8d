package io.shmkit.alloc;

import io.shmkit.internal.Procs;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * A small robust spin lock in shared memory, used by the allocators until the project's
 * {@code ShmMutex} is available to them. Its critical sections are a few dozen instructions,
 * so spinning (then yielding) costs less than sleeping.
 *
 * <pre>
 *  offset  size  field
 *  +0      8     owner: (pid << 32) | (thread id & 0xffffffff), 0 = free
 *  +8      8     owner start time (clock ticks since boot, 0 = not yet written)
 *  +16     8     inconsistent: 1 while a new owner repairs after a dead one
 * </pre>
 *
 * <p>Dead owner detection: a waiter that has spun for a while reads the owner's pid and start
 * time and asks {@link Procs#isAlive}; if the owner is gone it takes the lock over with a CAS
 * from the dead owner's word to its own and reports the death to its caller, who repairs.
 */
final class RobustAllocLock implements AllocLock {

    static final long OWNER = 0;
    static final long OWNER_START = 8;
    static final long INCONSISTENT = 16;

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final int SPINS_BEFORE_YIELD = 200;
    private static final int YIELDS_BEFORE_CHECK = 50;

    private final MemorySegment m;
    private final long base;

    private RobustAllocLock(MemorySegment m, long base) {
        this.m = m;
        this.base = base;
    }

    static RobustAllocLock create(MemorySegment m, long offset) {
        check(offset);
        m.asSlice(offset, AllocLock.RESERVED).fill((byte) 0);
        return new RobustAllocLock(m, offset);
    }

    static RobustAllocLock open(MemorySegment m, long offset) {
        check(offset);
        return new RobustAllocLock(m, offset);
    }

    private static void check(long offset) {
        if ((offset & 63) != 0) {
            throw new IllegalArgumentException("lock offset must be 64-byte aligned: offset=" + offset);
        }
    }

    private static long self() {
        return ((long) Procs.PID << 32) | (Thread.currentThread().threadId() & 0xffff_ffffL);
    }

    @Override
    public boolean lock() {
        long me = self();
        if (LONG.compareAndSet(m, base + OWNER, 0L, me)) { // CAS: acquire semantics for the critical section
            LONG.set(m, base + OWNER_START, Procs.START_TIME); // plain: only read by waiters after they see our owner word
            return (long) LONG.getAcquire(m, base + INCONSISTENT) != 0; // acquire: a previous repair was abandoned
        }
        return lockSlowPath(me);
    }

    private boolean lockSlowPath(long me) {
        int spins = 0;
        int yields = 0;
        while (true) {
            long owner = (long) LONG.getVolatile(m, base + OWNER);
            if (owner == 0) {
                if (LONG.compareAndSet(m, base + OWNER, 0L, me)) {
                    LONG.set(m, base + OWNER_START, Procs.START_TIME);
                    return (long) LONG.getAcquire(m, base + INCONSISTENT) != 0;
                }
                continue;
            }
            if (owner == me) {
                throw new IllegalStateException("lock is not reentrant: owner=" + Long.toHexString(owner));
            }
            if (spins < SPINS_BEFORE_YIELD) {
                spins++;
                Thread.onSpinWait();
                continue;
            }
            Thread.yield();
            if (++yields < YIELDS_BEFORE_CHECK) {
                continue;
            }
            yields = 0;
            long start = (long) LONG.getVolatile(m, base + OWNER_START);
            if (ownerDead(owner, start)
                    && (long) LONG.getVolatile(m, base + OWNER_START) == start // same owner generation
                    && LONG.compareAndSet(m, base + OWNER, owner, me)) {
                LONG.set(m, base + OWNER_START, Procs.START_TIME);
                // volatile: repair flag must be visible before we touch the structure
                LONG.setVolatile(m, base + INCONSISTENT, 1L);
                return true;
            }
        }
    }

    private static boolean ownerDead(long owner, long start) {
        long pid = owner >>> 32;
        if (pid == Procs.PID) {
            return false; // a thread of ours: threads never die holding it except by JVM exit
        }
        long actual = Procs.startTime(pid);
        // no such process, or the pid now belongs to a process started later (pid reuse)
        return actual < 0 || (start != 0 && actual != start);
    }

    @Override
    public void markConsistent() {
        LONG.setRelease(m, base + INCONSISTENT, 0L); // release: the repair's writes precede the flag
    }

    @Override
    public void unlock() {
        LONG.set(m, base + OWNER_START, 0L);
        LONG.setRelease(m, base + OWNER, 0L); // release: the critical section's writes precede the unlock
    }
}
