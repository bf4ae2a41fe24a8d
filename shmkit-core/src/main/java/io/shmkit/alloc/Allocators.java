package io.shmkit.alloc;

import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;

import java.util.Optional;

/**
 * Finds the allocators in a segment by the kind recorded in its directory, so that tools
 * (e.g. {@code shmkit stat}) can open and report on any of them without knowing their types.
 */
public final class Allocators {

    private Allocators() {
    }

    /** The allocator type name for a directory kind, or empty if the kind is not an allocator. */
    public static Optional<String> typeName(int kind) {
        return Optional.ofNullable(switch (kind) {
            case BumpAllocator.KIND -> "bump";
            case RingAllocator.KIND -> "ring";
            case FixedPool.KIND -> "fixed-pool";
            case SlabAllocator.KIND -> "slab";
            default -> null;
        });
    }

    /**
     * Opens the allocator a directory entry describes, or empty if the entry is not an
     * allocator. Opening validates the allocator's own header.
     */
    public static Optional<SharedAllocator> open(Segment segment, DirectoryEntry entry) {
        return Optional.ofNullable(switch (entry.kind()) {
            case BumpAllocator.KIND -> BumpAllocator.open(segment, entry.name());
            case RingAllocator.KIND -> RingAllocator.open(segment, entry.name());
            case FixedPool.KIND -> FixedPool.open(segment, entry.name());
            case SlabAllocator.KIND -> SlabAllocator.open(segment, entry.name());
            default -> null;
        });
    }
}
