package io.shmkit.alloc;

import java.lang.foreign.MemorySegment;

/**
 * The contract every shmkit allocator implements, in the spirit of Swoole's
 * {@code swMemoryPool {alloc, free, destroy}}: allocations are <em>offsets</em> from the start
 * of the memory the allocator lives in (its segment), because every process maps that memory
 * at a different address. Offset 0 is null.
 *
 * <p>Unless an implementation says otherwise, allocators are thread-safe and process-safe,
 * and a process killed at any instruction inside {@code allocate} or {@code free} leaves a
 * structure that the next user either finds untouched (single-word commit) or repairs from its
 * source of truth before going on; {@link #verify()} passes after any such kill.
 */
public interface SharedAllocator {

    /** Default alignment of allocations, in bytes. */
    long DEFAULT_ALIGN = 8;

    /** The allocator's name (its entry in the segment directory). */
    String name();

    /** The memory that offsets refer to (the whole segment, not a slice). */
    MemorySegment memory();

    /** How the allocator synchronises (chosen at creation, the same in every process). */
    SyncMode mode();

    /**
     * Allocates {@code size} bytes aligned to {@link #DEFAULT_ALIGN}.
     *
     * @return the offset of the block
     * @throws io.shmkit.OutOfSharedMemoryException naming the allocator, the request and what is left
     */
    default long allocate(long size) {
        return allocate(size, DEFAULT_ALIGN);
    }

    /** Allocates {@code size} bytes aligned to {@code align} (a power of two). */
    long allocate(long size, long align);

    /** Like {@link #allocate(long)} but returns 0 when there is no room. */
    default long tryAllocate(long size) {
        return tryAllocate(size, DEFAULT_ALIGN);
    }

    /** Like {@link #allocate(long, long)} but returns 0 when there is no room. */
    long tryAllocate(long size, long align);

    /**
     * Returns a block. Freeing an offset this allocator never gave out, or freeing it twice,
     * throws {@link IllegalArgumentException} naming the offset and leaves the structure intact.
     */
    void free(long offset);

    /** A consistent snapshot of the allocator's counters. */
    AllocatorStats stats();

    /**
     * Checks every invariant of the structure and throws
     * {@link io.shmkit.SegmentCorruptedException} saying what is wrong and where. Never loops
     * forever on corrupt data.
     */
    void verify();
}
