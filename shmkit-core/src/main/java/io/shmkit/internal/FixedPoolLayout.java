package io.shmkit.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * Binary layout of a {@code FixedPool} inside its reserved range. All offsets are relative to
 * the start of the range (which is 64-byte aligned); offsets handed to users are relative to
 * the start of the segment.
 *
 * <pre>
 *  range start
 *  +0    magic         u64   {@link #MAGIC} "SHMKFXPL", published last (Formats)
 *  +8    slice size    u64   bytes per slice (multiple of the alignment)
 *  +16   slice count   u64
 *  +24   alignment     u64   power of two, slices start on it (relative to the segment start)
 *  +32   flags         u64   {@link #FLAGS_SINGLE_THREADED} (no lock), {@link #FLAGS_THREAD_CACHE}
 *  +40   slices at     u64   offset of slice 0 from the range start
 *  +48   next at       u64   offset of the next[] array
 *  +56   state at      u64   offset of the state[] array
 *  +64   lock          128 bytes (robust lock, own cache lines)
 *  +192  head          s32   index of the first free slice, {@link #LINK_NONE} = none   \
 *  +196  (pad)         s32                                                        |
 *  +200  used          u64   slices handed out                                    | own cache line
 *  +208  requests      u64                                                        |
 *  +216  failures      u64                                                        /
 *  +224  cache entries u64   registry entries ({@link #ENTRIES} with per-thread caches, else 0)
 *  +232  format        u32   {@link #FORMAT}
 *  +236  (reserved)
 *  +256  registry[entries], {@link Entry#BYTES} bytes each (one cache line per thread):
 *          +0  owner record  24 bytes, OwnerRecordLayout (in use, owner id, pid, thread)
 *          +24 cache word    u64  (requests served from the cache &lt;&lt; 6) | slices in the cache;
 *                            written by the owner only, for statistics (not a commit)
 *  ...   next[count]   s32   free-list link of each free slice, {@link #LINK_NONE} = end
 *  ...   state[64 * ceil(count / 64)]  u8  the source of truth: {@link #STATE_FREE} (on the shared
 *                            list), {@link #STATE_USED}, {@link #STATE_CACHED} + e = in the cache of
 *                            registry entry e. Stored transposed ({@link #statePosition}): consecutive
 *                            slices, which threads take in batches, have their bytes on different
 *                            cache lines, so two threads' caches rarely write the same line
 *  ...   (pad to alignment)
 *  ...   slices[count] slice size bytes each
 * </pre>
 */
public final class FixedPoolLayout {

    /** "SHMKFXPL": the kind's magic in every format. */
    public static final long MAGIC = Formats.magic("SHMKFXPL");
    /** Format 1 of the "SHMKFXPL" scheme (the bytes of the "SHMKFXP3" format, plus the format field). */
    public static final int FORMAT = 1;
    /** "SHMKFXP3": registry entries named owner ids; refused as an older format. */
    public static final long MAGIC_FORMAT_3 = Formats.magic("SHMKFXP3");
    /** "SHMKFXP2": registry entries named pid and start time; refused as an older format. */
    public static final long MAGIC_FORMAT_2 = Formats.magic("SHMKFXP2");
    /** "SHMKFXP1": thread caches were lists in the registry; refused as an older format. */
    public static final long MAGIC_FORMAT_1 = Formats.magic("SHMKFXP1");

    /** The header as a memory layout; the offsets below are derived from it. */
    public static final StructLayout HEADER = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("magic"),
            ValueLayout.JAVA_LONG.withName("sliceSize"),
            ValueLayout.JAVA_LONG.withName("sliceCount"),
            ValueLayout.JAVA_LONG.withName("align"),
            ValueLayout.JAVA_LONG.withName("flags"),
            ValueLayout.JAVA_LONG.withName("slicesAt"),
            ValueLayout.JAVA_LONG.withName("nextAt"),
            ValueLayout.JAVA_LONG.withName("stateAt"),
            MemoryLayout.sequenceLayout(128, ValueLayout.JAVA_BYTE).withName("lock"),
            ValueLayout.JAVA_INT.withName("head"),
            MemoryLayout.paddingLayout(4),
            ValueLayout.JAVA_LONG.withName("used"),
            ValueLayout.JAVA_LONG.withName("requests"),
            ValueLayout.JAVA_LONG.withName("failures"),
            ValueLayout.JAVA_LONG.withName("cacheEntries"),
            ValueLayout.JAVA_INT.withName("format"),
            MemoryLayout.paddingLayout(20));

    public static final long OFF_MAGIC = Layouts.offset(HEADER, "magic");
    public static final long OFF_SLICE_SIZE = Layouts.offset(HEADER, "sliceSize");
    public static final long OFF_SLICE_COUNT = Layouts.offset(HEADER, "sliceCount");
    public static final long OFF_ALIGN = Layouts.offset(HEADER, "align");
    public static final long OFF_FLAGS = Layouts.offset(HEADER, "flags");
    public static final long OFF_SLICES_AT = Layouts.offset(HEADER, "slicesAt");
    public static final long OFF_NEXT_AT = Layouts.offset(HEADER, "nextAt");
    public static final long OFF_STATE_AT = Layouts.offset(HEADER, "stateAt");
    public static final long OFF_LOCK = Layouts.offset(HEADER, "lock");
    public static final long LOCK_BYTES = 128;
    public static final long OFF_HEAD = Layouts.offset(HEADER, "head");
    public static final long OFF_USED = Layouts.offset(HEADER, "used");
    public static final long OFF_REQUESTS = Layouts.offset(HEADER, "requests");
    public static final long OFF_FAILURES = Layouts.offset(HEADER, "failures");
    public static final long OFF_CACHE_ENTRIES = Layouts.offset(HEADER, "cacheEntries");
    public static final long OFF_FORMAT = Layouts.offset(HEADER, "format");
    /** Bytes of the header; the registry starts here. */
    public static final long HEADER_BYTES = 256;
    public static final long OFF_REGISTRY = HEADER_BYTES;

    /** A registry entry: one thread's cache. */
    public static final class Entry {
        /** The entry's owner record (OwnerRecordLayout). */
        public static final long OFF_OWNER_RECORD = 0;
        public static final long OFF_CACHE_WORD = OwnerRecordLayout.BYTES;
        public static final long BYTES = 64;

        private Entry() {
        }
    }

    public static final int CACHE_COUNT_BITS = 6;
    public static final long CACHE_COUNT_MASK = (1L << CACHE_COUNT_BITS) - 1;
    /** Registry entries of a pool with per-thread caches (at most 64: dead ones are found with a 64-bit mask). */
    public static final int ENTRIES = 64;

    public static final long FLAGS_SINGLE_THREADED = 1;
    public static final long FLAGS_THREAD_CACHE = 2;

    public static final byte STATE_FREE = 0;
    public static final byte STATE_USED = 1;
    /** State of a slice in the thread cache of registry entry {@code e} is {@code STATE_CACHED + e}. */
    public static final byte STATE_CACHED = 2;
    /** End of the free list (head and next[] links). */
    public static final int LINK_NONE = -1;

    static {
        if (HEADER.byteSize() != HEADER_BYTES || OFF_LOCK != 64 || OFF_HEAD != 192 || OFF_FORMAT != 232) {
            throw new AssertionError("FixedPoolLayout: header is " + HEADER.byteSize() + " bytes, head at " + OFF_HEAD);
        }
    }

    private FixedPoolLayout() {
    }

    /** Offset of the next[] array with {@code entries} registry entries. */
    public static long nextArray(long entries) {
        return OFF_REGISTRY + Entry.BYTES * entries;
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
