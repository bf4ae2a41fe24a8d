package io.shmkit.internal;

/**
 * Binary layout of a {@code SlabAllocator} inside its reserved range. Offsets of header fields
 * are relative to the range start (64-byte aligned); pages start on a multiple of the page size
 * counted from the segment start, so every block is aligned to its size class.
 *
 * <pre>
 *  range start
 *  +0    magic          u64  {@link #MAGIC_VALUE}, stored last with a release store
 *  +8    page size      u64  power of two in [256, 65536]
 *  +16   page count     u64
 *  +24   flags          u64  bit 0: single-threaded (no lock), bit 1: per-thread caches
 *  +32   desc at        u64  offset of page descriptor 0 from the range start
 *  +40   pages at       u64  offset of page 0 from the range start
 *  +48   class count    u64  size classes 8, 16, ... page size / 2
 *  +56   desc size      u64  bytes per page descriptor
 *  +64   lock           128 bytes (robust lock, own cache lines)
 *  +192  free head      s32  first free page run, -1 = none
 *  +196  (pad)          s32
 *  +200  free pages     u64
 *  +208  large requests u64  requests above half a page (totals = these + the classes')
 *  +216  large failures u64
 *  +224  large pages    u64  pages in whole-page allocations
 *  +232  large allocs   u64  whole-page allocations live
 *  +240  cache entries  u64  registry entries (64 with per-thread caches, else 0)
 *  +248  cache secret   u64  random; a cached block's first word is secret ^ f(offset)
 *  +256  class[count]   48 bytes each:
 *          +0  partial head s32   first page of the class with a free slot, -1 = none
 *          +8  total        u64   slots in pages of this class
 *          +16 used         u64   slots handed out
 *          +24 requests     u64
 *          +32 failures     u64
 *  ...   (pad to 64)
 *  ...   registry[entries] entry size bytes each (a multiple of 64):
 *          +0  in use       s32   1 while a thread owns the entry
 *          +4  owner        s32   owner process: its owner id (OwnerTable.id(), attach-table registration)
 *          +8  pid          u64   owner pid in its own pid namespace (diagnostics)
 *          +16 thread       u64   owner thread id (diagnostics)
 *          +64 per class    (2 + {@link #CACHE_SLOTS}) u64: count, requests, offsets[]
 *                           (written by the owner thread only; count is the commit)
 *  ...   desc[page count] desc size bytes each:
 *          +0  kind         s32   0 free, 1 small (slots), 2 large head, 3 large continuation
 *          +4  info         s32   small: class index; large head: pages; free run head/tail: pages
 *          +8  next         s32   free-run list or class partial list, -1 = end
 *          +12 prev         s32
 *          +16 used slots   s32   small pages
 *          +20 run head     s32   free run tail: index of the run's first page
 *          +24 (reserved)   u64
 *          +32 bitmap       u64[bitmap words], bit i set = slot i in use (small pages)
 *  ...   (pad to page size, counted from the segment start)
 *  ...   pages[page count]
 * </pre>
 *
 * <p>Source of truth for repair: the descriptor kinds, the large-head page counts and the
 * small-page bitmaps. Everything else (lists, counters, run lengths) is derived.
 */
public final class SlabLayout {

    /** "SHMKSLB2" as a little-endian long (format 2: cache registry entries name owner ids). */
    public static final long MAGIC_VALUE = 0x32424C534B4D4853L;
    /** "SHMKSLB1": format 1, whose cache registry named pid and start time; refused with a clear message. */
    public static final long MAGIC_FORMAT_1 = 0x31424C534B4D4853L;

    public static final long MAGIC = 0;
    public static final long PAGE_SIZE = 8;
    public static final long PAGE_COUNT = 16;
    public static final long FLAGS = 24;
    public static final long DESC_AT = 32;
    public static final long PAGES_AT = 40;
    public static final long CLASS_COUNT = 48;
    public static final long DESC_SIZE = 56;
    public static final long LOCK = 64;
    public static final long FREE_HEAD = 192;
    public static final long FREE_PAGES = 200;
    public static final long LARGE_REQUESTS = 208;
    public static final long LARGE_FAILURES = 216;
    public static final long LARGE_PAGES = 224;
    public static final long LARGE_ALLOCS = 232;
    public static final long CACHE_ENTRIES = 240;
    public static final long CACHE_SECRET = 248;
    public static final long CLASSES = 256;

    public static final long CLASS_BYTES = 48;
    public static final long C_PARTIAL = 0;
    public static final long C_TOTAL = 8;
    public static final long C_USED = 16;
    public static final long C_REQUESTS = 24;
    public static final long C_FAILURES = 32;

    public static final long D_KIND = 0;
    public static final long D_INFO = 4;
    public static final long D_NEXT = 8;
    public static final long D_PREV = 12;
    public static final long D_USED = 16;
    public static final long D_RUN_HEAD = 20;
    public static final long D_BITMAP = 32;

    public static final int KIND_FREE = 0;
    public static final int KIND_SMALL = 1;
    public static final int KIND_LARGE = 2;
    public static final int KIND_CONT = 3;

    public static final long FLAG_SINGLE_THREADED = 1;
    public static final long FLAG_THREAD_CACHE = 2;

    /** Registry entries of a slab with per-thread caches. */
    public static final int ENTRIES = 64;
    /** Blocks a thread caches per size class. */
    public static final int CACHE_SLOTS = 8;
    public static final long E_IN_USE = 0;
    public static final long E_OWNER = 4;
    public static final long E_PID = 8;
    public static final long E_THREAD = 16;
    public static final long E_CLASSES = 64;
    public static final long EC_COUNT = 0;
    public static final long EC_REQUESTS = 8;
    public static final long EC_OFFSETS = 16;
    public static final long EC_BYTES = 8L * (2 + CACHE_SLOTS);
    public static final int NONE = -1;
    public static final int MIN_SHIFT = 3;

    private SlabLayout() {
    }

    /** Size classes for a page size: 8 .. pageSize / 2. */
    public static int classCount(long pageSize) {
        return Long.numberOfTrailingZeros(pageSize) - MIN_SHIFT;
    }

    /** Bitmap words per descriptor: enough for pageSize / 8 slots. */
    public static int bitmapWords(long pageSize) {
        return (int) Math.max(1, pageSize / 512);
    }

    public static long descSize(long pageSize) {
        return D_BITMAP + 8L * bitmapWords(pageSize);
    }

    public static long registryStart(long pageSize) {
        long end = CLASSES + CLASS_BYTES * classCount(pageSize);
        return (end + 63) & -64;
    }

    /** Bytes per registry entry. */
    public static long entrySize(long pageSize) {
        long end = E_CLASSES + EC_BYTES * classCount(pageSize);
        return (end + 63) & -64;
    }

    public static long descStart(long pageSize, long entries) {
        return registryStart(pageSize) + entries * entrySize(pageSize);
    }

    /** Offset of page 0 from the range start when the range starts at {@code rangeStart}. */
    public static long pagesStart(long rangeStart, long pageSize, long entries, long pages) {
        long end = rangeStart + descStart(pageSize, entries) + descSize(pageSize) * pages;
        return ((end + pageSize - 1) & -pageSize) - rangeStart;
    }

    /** Upper bound of the bytes needed, wherever the (64-byte aligned) range starts. */
    public static long bytesNeeded(long pageSize, long entries, long pages) {
        return descStart(pageSize, entries) + descSize(pageSize) * pages + (pageSize - 64) + pageSize * pages + 64;
    }
}
