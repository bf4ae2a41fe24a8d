package io.shmkit.alloc;

/**
 * How an allocator protects its structure. The mode is fixed when the allocator is created and
 * stored in its header, so every process that opens it follows the same rule.
 */
public enum Concurrency {
    /** Thread-safe and process-safe (robust lock or single-word atomic commits). The default. */
    SHARED,
    /**
     * No internal synchronisation at all: the caller guarantees that one thread at a time, in
     * one process at a time, uses the allocator (for example because it holds its own lock).
     * Faster; a crash still leaves a structure that {@code verify()} accepts, because the
     * commit order is the same as in {@link #SHARED} mode.
     */
    SINGLE_THREADED
}
