package io.shmkit.alloc;

/**
 * The tiny lock interface the allocators of this package are written against, so that the
 * lock implementation (an internal robust spin lock, or {@code io.shmkit.sync.ShmMutex}) can
 * be swapped without touching allocator logic.
 */
interface AllocLock {

    /**
     * Acquires the lock.
     *
     * @return {@code true} if the previous owner died while holding it: the caller must repair
     *         the structure from its source of truth and then call {@link #markConsistent()}
     */
    boolean lock();

    /** Declares the structure repaired after {@link #lock()} reported a dead owner. */
    void markConsistent();

    void unlock();

    /** A lock that does nothing, for {@link Concurrency#SINGLE_THREADED} allocators. */
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
