package io.shmkit.internal;

/**
 * Binary layout of a pool data block segment and of the object slots inside it. A data block
 * is a whole segment (one {@code ShmKey} of {@code memorypool.ini}); its structure
 * {@code "pool-block"} starts at the segment's data offset and holds a small header, then the
 * chunks of slots handed to types (bump-allocated, recorded in the base's block table).
 *
 * <pre>
 *  block record (64 bytes at the start of the reserved range)
 *  +0   magic        u64  {@link #MAGIC_VALUE}, stored last (release)
 *  +8   epoch        u64  the base's cold-start epoch: a block of another base is foreign
 *  +16  block index  u32
 *  +20  (reserved)
 *
 *  slot (stride bytes, the first at a 64-byte aligned chunk start)
 *  +0   meta     u64  generation << 8 | state ({@link #FREE} or {@link #ALLOCATED})
 *  +8   version  u64  even = stable; odd while a transaction writes the object
 *  +16  key      u64  keyed types only: the object's key (record starts at +32)
 *  +16/+32 record     the registered MemoryLayout; while free, its first 8 bytes link the
 *                     free list (next slot or -1)
 * </pre>
 *
 * <p>A slot's meta word is the source of truth for "is this object allocated"; a handle is
 * valid exactly when its generation and the meta word's generation agree and the state is
 * {@link #ALLOCATED}.
 */
public final class PoolBlockLayout {

    private PoolBlockLayout() {
    }

    /** "SHMKPBK1" as a little-endian long. */
    public static final long MAGIC_VALUE = 0x314B42504B4D4853L;
    public static final int KIND = 0x0202;
    public static final String STRUCTURE = "pool-block";
    public static final long MAGIC = 0;
    public static final long EPOCH = 8;
    public static final long INDEX = 16;
    public static final long HEADER_BYTES = 64;

    public static final long S_META = 0;
    public static final long S_VERSION = 8;
    public static final long S_KEY = 16;
    public static final long RECORD_PLAIN = 16;
    public static final long RECORD_KEYED = 32;

    public static final long FREE = 1;
    public static final long ALLOCATED = 2;
    public static final long STATE_MASK = 0xFF;

    public static long meta(long generation, long state) {
        return (generation << 8) | state;
    }

    public static long generation(long meta) {
        return meta >>> 8;
    }

    /** Slot stride for a record of {@code size} bytes aligned to {@code align} (at most 16). */
    public static long stride(long size, long align, boolean keyed) {
        long header = keyed ? RECORD_KEYED : RECORD_PLAIN;
        long unit = Math.max(8, align);
        long s = header + Math.max(8, size);
        return (s + unit - 1) / unit * unit;
    }
}
