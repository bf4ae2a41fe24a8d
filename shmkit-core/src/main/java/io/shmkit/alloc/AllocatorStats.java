package io.shmkit.alloc;

/**
 * Counters common to all allocators.
 *
 * @param type        allocator type, e.g. {@code "fixed-pool"}
 * @param name        the allocator's name
 * @param capacity    bytes the allocator manages (payload capacity, after its own headers)
 * @param used        bytes currently handed out (including per-block rounding)
 * @param allocations blocks currently handed out
 * @param requests    allocation requests since creation
 * @param failures    requests that could not be satisfied
 */
public record AllocatorStats(String type, String name, long capacity, long used, long allocations,
                             long requests, long failures) {

    /** Bytes not handed out. */
    public long free() {
        return capacity - used;
    }
}
