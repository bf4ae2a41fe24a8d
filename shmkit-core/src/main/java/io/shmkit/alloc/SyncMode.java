package io.shmkit.alloc;

/**
 * How an allocator synchronises, chosen when it is created and stored in its header so that
 * every process that opens it uses the same mode.
 */
public enum SyncMode {
    /**
     * Process- and thread-safe (the default): any thread of any process may call any method.
     * {@link FixedPool}, {@link SlabAllocator} and {@link RingAllocator} run every operation
     * under their robust cross-process lock; {@link BumpAllocator} needs no lock (one CAS per
     * allocation).
     */
    LOCKED,
    /**
     * Like {@link #LOCKED}, plus a small per-thread cache of freed blocks, served without any
     * lock or atomic instruction; the lock is taken once per batch. Blocks in a thread's cache
     * are unavailable to other threads until it is drained, so an allocation can fail while
     * other threads' caches hold free blocks. Offered by {@link FixedPool} and
     * {@link SlabAllocator}; the other allocators refuse it.
     */
    THREAD_CACHED,
    /** No lock: callers serialise every call themselves (they hold their own lock). */
    SINGLE_THREADED
}
