package io.shmkit.alloc;

/**
 * How an allocator synchronises, chosen when it is created and stored in its header so that
 * every process that opens it uses the same mode.
 */
public enum SyncMode {
    /** Every operation under the allocator's robust cross-process lock (the default). */
    LOCKED,
    /**
     * Like {@link #LOCKED}, plus a small per-thread cache of freed blocks kept in shared memory,
     * served without any lock or atomic instruction; the lock is taken once per batch. Blocks in
     * a thread's cache are unavailable to other threads until it is drained.
     */
    THREAD_CACHED,
    /** No lock: callers serialise every call themselves (they hold their own lock). */
    SINGLE_THREADED
}
