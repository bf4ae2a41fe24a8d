package io.shmkit.alloc;

import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;

import java.util.Optional;

/**
 * Finds the allocators in a segment by the kind recorded in its directory ({@link StructureKind}),
 * so that tools (e.g. {@code shmkit stat}) can open and report on any of them without knowing
 * their types.
 */
public final class Allocators {

    private Allocators() {
    }

    /**
     * Opens the allocator a directory entry describes, or empty if the entry is not an
     * allocator. Opening validates the allocator's own header.
     */
    public static Optional<SharedAllocator> open(Segment segment, DirectoryEntry entry) {
        return StructureKind.of(entry.kind()).filter(StructureKind::isAllocator)
                .map(k -> k.open(segment, entry.name()));
    }
}
