package io.shmkit.alloc;

/**
 * Counters of one slab size class, like nginx's {@code ngx_slab_stat_t}.
 *
 * @param size     slot size in bytes (a power of two)
 * @param total    slots in the pages currently given to this class
 * @param used     slots handed out
 * @param requests requests served by this class since creation
 * @param failures requests of this class that could not be satisfied
 */
public record SlabClassStats(long size, long total, long used, long requests, long failures) {
}
