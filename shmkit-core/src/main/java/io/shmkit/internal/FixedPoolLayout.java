package io.shmkit.internal;

/**
 * Binary layout of a {@code FixedPool} inside its reserved range. All offsets are relative to
 * the start of the range (which is 64-byte aligned); offsets handed to users are relative to
 * the start of the segment.
 *
 * <pre>
 *  range start
 *  +0    magic         u64   {@link #MAGIC_VALUE}, stored last with a release store
 *  +8    slice size    u64   bytes per slice (multiple of the alignment)
 *  +16   slice count   u64
 *  +24   alignment     u64   power of two, slices start on it (relative to the segment start)
 *  +32   flags         u64   bit 0: single-threaded (no lock), bit 1: per-thread caches
 *  +40   slices at     u64   offset of slice 0 from the range start
 *  +48   next at       u64   offset of the next[] array
 *  +56   state at      u64   offset of the state[] array
 *  +64   lock          128 bytes (robust lock, own cache lines)
 *  +192  head          s32   index of the first free slice, -1 = none   \
 *  +196  (pad)         s32                                               |
 *  +200  used          u64   slices handed out                           | own cache line
 *  +208  requests      u64                                               |
 *  +216  failures      u64                                               /
 *  +224  cache entries u64   registry entries (64 with per-thread caches, else 0)
 *  +232  (reserved)    u64
 *  +256  registry[entries], {@link #ENTRY_BYTES} bytes each (one cache line per thread):
 *          +0  in use    s32   1 while a thread owns the entry
 *          +4  owner     s32   owner process: its owner id (OwnerTable.id(), attach-table
 *                            registration); liveness is asked of OwnerTable only
 *          +8  pid       u64   owner pid in its own pid namespace (diagnostics)
 *          +16 thread    u64   owner thread id (diagnostics)
 *          +24 cache word u64  (requests served from the cache << 6) | slices in the cache;
 *                            written by the owner only, for statistics (not a commit)
 *  ...   next[count]   s32   free-list link of each free slice, -1 = end
 *  ...   state[64 * ceil(count / 64)]  u8  the source of truth: 0 = free (on the shared list),
 *                            1 = allocated, {@link #STATE_CACHED} + e = in the cache of registry
 *                            entry e. Stored transposed ({@link #statePosition}): consecutive
 *                            slices, which threads take in batches, have their bytes on different
 *                            cache lines, so two threads' caches rarely write the same line
 *  ...   (pad to alignment)
 *  ...   slices[count] slice size bytes each
 * </pre>
 */
public final class FixedPoolLayout {

    /**
     * "SHMKFXP3" as a little-endian long (format 3: registry entries name owner ids; format 2
     * named pid and start time, and marked cached slices in their state byte as 3 does).
     */
    public static final long MAGIC_VALUE = 0x3350584B464D4853L;
    /** "SHMKFXP2": format 2, whose registry named pid and start time; refused with a clear message. */
    public static final long MAGIC_FORMAT_2 = 0x3250584B464D4853L;
    /** "SHMKFXP1": format 1, whose thread caches were lists in the registry; refused with a clear message. */
    public static final long MAGIC_FORMAT_1 = 0x3150584B464D4853L;

    public static final long MAGIC = 0;
    public static final long SLICE_SIZE = 8;
    public static final long SLICE_COUNT = 16;
    public static final long ALIGN = 24;
    public static final long FLAGS = 32;
    public static final long SLICES_AT = 40;
    public static final long NEXT_AT = 48;
    public static final long STATE_AT = 56;
    public static final long LOCK = 64;
    public static final long LOCK_BYTES = 128;
    public static final long HEAD = 192;
    public static final long USED = 200;
    public static final long REQUESTS = 208;
    public static final long FAILURES = 216;
    public static final long CACHE_ENTRIES = 224;
    public static final long REGISTRY = 256;

    public static final long ENTRY_BYTES = 64;
    public static final long E_IN_USE = 0;
    public static final long E_OWNER = 4;
    public static final long E_PID = 8;
    public static final long E_THREAD = 16;
    public static final long E_CACHED = 24;
    public static final int CACHE_COUNT_BITS = 6;
    public static final long CACHE_COUNT_MASK = (1L << CACHE_COUNT_BITS) - 1;
    /** Registry entries of a pool with per-thread caches (at most 64: dead ones are found with a 64-bit mask). */
    public static final int ENTRIES = 64;

    public static final long FLAG_SINGLE_THREADED = 1;
    public static final long FLAG_THREAD_CACHE = 2;

    public static final byte STATE_FREE = 0;
    public static final byte STATE_USED = 1;
    /** State of a slice in the thread cache of registry entry {@code e} is {@code STATE_CACHED + e}. */
    public static final byte STATE_CACHED = 2;
    public static final int NONE = -1;

    private FixedPoolLayout() {
    }

    /** Offset of the next[] array with {@code entries} registry entries. */
    public static long nextArray(long entries) {
        return REGISTRY + ENTRY_BYTES * entries;
    }

    /** Offset of the state[] array. */
    public static long stateArray(long entries, long count) {
        return nextArray(entries) + 4 * count;
    }

    /** Bytes of the state array: one per slice, rounded up to a multiple of 64. */
    public static long stateBytes(long count) {
        return 64 * stateStride(count);
    }

    private static long stateStride(long count) {
        return (count + 63) / 64;
    }

    /**
     * Position of slice {@code index}'s state byte in the state array of a pool of {@code count}
     * slices: the array is a 64 x stride matrix filled column by column.
     */
    public static long statePosition(long count, long index) {
        return (index & 63) * stateStride(count) + (index >>> 6);
    }

    /**
     * Offset of slice 0 from the range start, such that {@code rangeStart + result} is a
     * multiple of {@code align}.
     */
    public static long slicesStart(long rangeStart, long entries, long count, long align) {
        long end = rangeStart + stateArray(entries, count) + stateBytes(count);
        return ((end + align - 1) & -align) - rangeStart;
    }

    /** Bytes a pool needs when its range starts at {@code rangeStart}. */
    public static long bytesNeeded(long rangeStart, long entries, long sliceSize, long count, long align) {
        return slicesStart(rangeStart, entries, count, align) + sliceSize * count;
    }
}
