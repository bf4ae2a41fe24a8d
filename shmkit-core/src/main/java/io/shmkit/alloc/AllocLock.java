package io.shmkit.alloc;

import io.shmkit.sync.LockResult;
import io.shmkit.sync.ShmMutex;

import java.lang.foreign.MemorySegment;

/**
 * The lock an allocator takes around each operation: a robust cross-process lock, or nothing
 * in single-threaded mode ({@link #NONE}). The robust one is a {@link ShmMutex}: a process that
 * dies holding it is detected by the next acquirer, which is told so and repairs.
 */
interface AllocLock {

    /** Bytes reserved for the lock's state in shared memory (one or two cache lines). */
    long RESERVED = 128;

    /**
     * Takes the lock.
     *
     * @return {@code true} if the previous owner died holding it: the caller must repair the
     *         structure from its source of truth and then call {@link #markConsistent()}
     */
    boolean lock();

    /** Declares the structure repaired after {@link #lock()} returned {@code true}. */
    void markConsistent();

    void unlock();

    /** How often a dead owner's lock was taken over (0 without a lock). */
    default int takeovers() {
        return 0;
    }

    /** Creates the robust lock at {@code offset} (64-byte aligned, {@link #RESERVED} bytes). */
    static AllocLock createRobust(MemorySegment memory, long offset) {
        return new Robust(ShmMutex.create(memory, offset));
    }

    /** Opens the robust lock created at {@code offset}. */
    static AllocLock openRobust(MemorySegment memory, long offset) {
        return new Robust(ShmMutex.open(memory, offset));
    }

    /** A {@link ShmMutex} behind this interface. */
    record Robust(ShmMutex mutex) implements AllocLock {

        public Robust {
            if (ShmMutex.SIZE > RESERVED) {
                throw new IllegalStateException("ShmMutex.SIZE=" + ShmMutex.SIZE + " exceeds the " + RESERVED
                        + " bytes allocators reserve for their lock");
            }
        }

        @Override
        public boolean lock() {
            return mutex.lock() == LockResult.OWNER_DIED;
        }

        @Override
        public void markConsistent() {
            mutex.markConsistent();
        }

        @Override
        public void unlock() {
            mutex.unlock();
        }

        @Override
        public int takeovers() {
            return mutex.takeovers();
        }
    }

    /** No locking: the caller serialises every call (single-threaded mode). */
    AllocLock NONE = new AllocLock() {
        @Override
        public boolean lock() {
            return false;
        }

        @Override
        public void markConsistent() {
        }

        @Override
        public void unlock() {
        }
    };
}
