package io.shmkit.alloc;

import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;
import io.shmkit.table.SharedTable;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * Every kind of structure shmkit records in a segment's directory: its code (the
 * {@link DirectoryEntry#kind()}), its name in tools, and, for allocators, how to open it. This
 * is the one registry that {@link Allocators#open}, {@link Inspection}, {@code shmkit info} and
 * {@code shmkit stat} read: adding a structure kind means adding one constant here (see
 * docs/DECISIONS.md, "Adding a structure kind").
 *
 * <p>Codes: {@code 0x01xx} allocators, {@code 0x02xx} object pools, {@code 0x03xx} tables.
 * Codes below {@code 0x0100} and at or above {@code 0x0F00} are never used by shmkit, so
 * applications may reserve ranges under their own codes there.
 */
public enum StructureKind {

    /** {@link BumpAllocator}. */
    BUMP(BumpAllocator.KIND, "bump", BumpAllocator::open, false),
    /** {@link RingAllocator}. */
    RING(RingAllocator.KIND, "ring", RingAllocator::open, true),
    /** {@link FixedPool}. */
    FIXED_POOL(FixedPool.KIND, "fixed-pool", FixedPool::open, true),
    /** {@link SlabAllocator}. */
    SLAB(SlabAllocator.KIND, "slab", SlabAllocator::open, true),
    /** {@link RegionRegistry}: not an allocator itself, it records the regions over one. */
    REGION_REGISTRY(RegionRegistry.KIND, "region-registry", null, true),
    /** The base record of an object pool ({@code io.shmkit.pool.Pools}). */
    POOL_BASE(0x0201, "pool-base", null, false),
    /** A block of an object pool ({@code io.shmkit.pool.Pools}). */
    POOL_BLOCK(0x0202, "pool-block", null, false),
    /** {@link SharedTable}. */
    SHARED_TABLE(SharedTable.KIND, "table", null, false);

    private static final Map<Integer, StructureKind> BY_CODE = new HashMap<>();

    static {
        for (StructureKind k : values()) {
            BY_CODE.putIfAbsent(k.code, k);
        }
    }

    private final int code;
    private final String label;
    private final BiFunction<Segment, String, ? extends SharedAllocator> opener;
    private final boolean locked;

    StructureKind(int code, String label, BiFunction<Segment, String, ? extends SharedAllocator> opener,
                  boolean locked) {
        this.code = code;
        this.label = label;
        this.opener = opener;
        this.locked = locked;
    }

    /** The kind recorded under {@code code} in a directory, or empty for a code shmkit does not define. */
    public static Optional<StructureKind> of(int code) {
        return Optional.ofNullable(BY_CODE.get(code));
    }

    /** The directory code of this kind. */
    public int code() {
        return code;
    }

    /** The name tools show for this kind, e.g. {@code "fixed-pool"}. */
    public String label() {
        return label;
    }

    /** Whether this kind is a {@link SharedAllocator} that {@link Allocators#open} can open. */
    public boolean isAllocator() {
        return opener != null;
    }

    /**
     * Whether structures of this kind keep a robust lock 64 bytes into their range (a
     * single-threaded one leaves it unused); {@link Inspection} looks for its holder there.
     */
    boolean locked() {
        return locked;
    }

    /** Opens the allocator recorded as {@code name}; only for {@link #isAllocator()} kinds. */
    SharedAllocator open(Segment segment, String name) {
        return opener.apply(segment, name);
    }
}
