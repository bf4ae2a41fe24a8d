package io.shmkit.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * Binary layout of a {@code SlabAllocator} inside its reserved range. Offsets of header fields
 * are relative to the range start (64-byte aligned); pages start on a multiple of the page size
 * counted from the segment start, so every block is aligned to its size class.
 *
 * <pre>
 *  range start
 *  +0    magic          u64  {@link #MAGIC} "SHMKSLAB", published last (Formats)
 *  +8    page size      u64  power of two in [256, 65536]
 *  +16   page count     u64
 *  +24   flags          u64  {@link #FLAGS_SINGLE_THREADED} (no lock), {@link #FLAGS_THREAD_CACHE}
 *  +32   desc at        u64  offset of page descriptor 0 from the range start
 *  +40   pages at       u64  offset of page 0 from the range start
 *  +48   class count    u64  size classes 8, 16, ... page size / 2
 *  +56   desc size      u64  bytes per page descriptor
 *  +64   lock           128 bytes (robust lock, own cache lines)
 *  +192  free head      s32  first free page run, {@link #LINK_NONE} = none
 *  +196  format         u32  {@link #FORMAT}
 *  +200  free pages     u64
 *  +208  large requests u64  requests above half a page (totals = these + the classes')
 *  +216  large failures u64
 *  +224  large pages    u64  pages in whole-page allocations
 *  +232  large allocs   u64  whole-page allocations live
 *  +240  cache entries  u64  registry entries ({@link #ENTRIES} with per-thread caches, else 0)
 *  +248  cache secret   u64  random; a cached block's first word is secret ^ f(offset)
 *  +256  class[count]   {@link SizeClass#BYTES} bytes each:
 *          +0  partial head s32   first page of the class with a free slot, {@link #LINK_NONE} = none
 *          +8  total        u64   slots in pages of this class
 *          +16 used         u64   slots handed out
 *          +24 requests     u64
 *          +32 failures     u64
 *  ...   (pad to 64)
 *  ...   registry[entries] {@link #entrySize} bytes each (a multiple of 64):
 *          +0  owner record 24 bytes, OwnerRecordLayout (in use, owner id, pid, thread)
 *          +64 per class    {@link CacheClass#BYTES}: count, requests, offsets[{@link #CACHE_SLOTS}]
 *                           (written by the owner thread only; count is the commit)
 *  ...   desc[page count] desc size bytes each ({@link Descriptor}):
 *          +0  kind         s32   {@link #KIND_FREE}, {@link #KIND_SMALL} (slots), {@link #KIND_LARGE} head,
 *                                 {@link #KIND_CONT} (large continuation)
 *          +4  info         s32   small: class index; large head: pages; free run head/tail: pages
 *          +8  next         s32   free-run list or class partial list, {@link #LINK_NONE} = end
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

    /** "SHMKSLAB": the kind's magic in every format. */
    public static final long MAGIC = Formats.magic("SHMKSLAB");
    /** Format 1 of the "SHMKSLAB" scheme (the bytes of the "SHMKSLB2" format, plus the format field). */
    public static final int FORMAT = 1;
    /** "SHMKSLB2": refused as an older format. */
    public static final long MAGIC_FORMAT_2 = Formats.magic("SHMKSLB2");
    /** "SHMKSLB1": the cache registry named pid and start time; refused as an older format. */
    public static final long MAGIC_FORMAT_1 = Formats.magic("SHMKSLB1");

    /** The header as a memory layout; the offsets below are derived from it. */
    public static final StructLayout HEADER = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("magic"),
            ValueLayout.JAVA_LONG.withName("pageSize"),
            ValueLayout.JAVA_LONG.withName("pageCount"),
            ValueLayout.JAVA_LONG.withName("flags"),
            ValueLayout.JAVA_LONG.withName("descAt"),
            ValueLayout.JAVA_LONG.withName("pagesAt"),
            ValueLayout.JAVA_LONG.withName("classCount"),
            ValueLayout.JAVA_LONG.withName("descSize"),
            MemoryLayout.sequenceLayout(128, ValueLayout.JAVA_BYTE).withName("lock"),
            ValueLayout.JAVA_INT.withName("freeHead"),
            ValueLayout.JAVA_INT.withName("format"),
            ValueLayout.JAVA_LONG.withName("freePages"),
            ValueLayout.JAVA_LONG.withName("largeRequests"),
            ValueLayout.JAVA_LONG.withName("largeFailures"),
            ValueLayout.JAVA_LONG.withName("largePages"),
            ValueLayout.JAVA_LONG.withName("largeAllocs"),
            ValueLayout.JAVA_LONG.withName("cacheEntries"),
            ValueLayout.JAVA_LONG.withName("cacheSecret"));

    public static final long OFF_MAGIC = Layouts.offset(HEADER, "magic");
    public static final long OFF_PAGE_SIZE = Layouts.offset(HEADER, "pageSize");
    public static final long OFF_PAGE_COUNT = Layouts.offset(HEADER, "pageCount");
    public static final long OFF_FLAGS = Layouts.offset(HEADER, "flags");
    public static final long OFF_DESC_AT = Layouts.offset(HEADER, "descAt");
    public static final long OFF_PAGES_AT = Layouts.offset(HEADER, "pagesAt");
    public static final long OFF_CLASS_COUNT = Layouts.offset(HEADER, "classCount");
    public static final long OFF_DESC_SIZE = Layouts.offset(HEADER, "descSize");
    public static final long OFF_LOCK = Layouts.offset(HEADER, "lock");
    public static final long OFF_FREE_HEAD = Layouts.offset(HEADER, "freeHead");
    public static final long OFF_FORMAT = Layouts.offset(HEADER, "format");
    public static final long OFF_FREE_PAGES = Layouts.offset(HEADER, "freePages");
    public static final long OFF_LARGE_REQUESTS = Layouts.offset(HEADER, "largeRequests");
    public static final long OFF_LARGE_FAILURES = Layouts.offset(HEADER, "largeFailures");
    public static final long OFF_LARGE_PAGES = Layouts.offset(HEADER, "largePages");
    public static final long OFF_LARGE_ALLOCS = Layouts.offset(HEADER, "largeAllocs");
    public static final long OFF_CACHE_ENTRIES = Layouts.offset(HEADER, "cacheEntries");
    public static final long OFF_CACHE_SECRET = Layouts.offset(HEADER, "cacheSecret");
    /** Bytes of the header; the size classes start here. */
    public static final long HEADER_BYTES = 256;
    public static final long OFF_CLASSES = HEADER_BYTES;

    /** The counters of one size class. */
    public static final class SizeClass {
        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                ValueLayout.JAVA_INT.withName("partial"),
                MemoryLayout.paddingLayout(4),
                ValueLayout.JAVA_LONG.withName("total"),
                ValueLayout.JAVA_LONG.withName("used"),
                ValueLayout.JAVA_LONG.withName("requests"),
                ValueLayout.JAVA_LONG.withName("failures"),
                MemoryLayout.paddingLayout(8));
        public static final long OFF_PARTIAL = Layouts.offset(LAYOUT, "partial");
        public static final long OFF_TOTAL = Layouts.offset(LAYOUT, "total");
        public static final long OFF_USED = Layouts.offset(LAYOUT, "used");
        public static final long OFF_REQUESTS = Layouts.offset(LAYOUT, "requests");
        public static final long OFF_FAILURES = Layouts.offset(LAYOUT, "failures");
        public static final long BYTES = 48;

        private SizeClass() {
        }
    }

    /** A page descriptor (its bitmap has {@link #bitmapWords} words). */
    public static final class Descriptor {
        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                ValueLayout.JAVA_INT.withName("kind"),
                ValueLayout.JAVA_INT.withName("info"),
                ValueLayout.JAVA_INT.withName("next"),
                ValueLayout.JAVA_INT.withName("prev"),
                ValueLayout.JAVA_INT.withName("used"),
                ValueLayout.JAVA_INT.withName("runHead"),
                MemoryLayout.paddingLayout(8));
        public static final long OFF_KIND = Layouts.offset(LAYOUT, "kind");
        public static final long OFF_INFO = Layouts.offset(LAYOUT, "info");
        public static final long OFF_NEXT = Layouts.offset(LAYOUT, "next");
        public static final long OFF_PREV = Layouts.offset(LAYOUT, "prev");
        public static final long OFF_USED = Layouts.offset(LAYOUT, "used");
        public static final long OFF_RUN_HEAD = Layouts.offset(LAYOUT, "runHead");
        /** The bitmap follows the fixed fields. */
        public static final long OFF_BITMAP = 32;

        private Descriptor() {
        }
    }

    /** A registry entry: one thread's caches, {@link #entrySize} bytes. */
    public static final class Entry {
        /** The entry's owner record (OwnerRecordLayout). */
        public static final long OFF_OWNER_RECORD = 0;
        /** Per size class, a {@link CacheClass} record. */
        public static final long OFF_CLASSES = 64;

        private Entry() {
        }
    }

    /** One size class of a thread's cache inside a registry entry. */
    public static final class CacheClass {
        /** Blocks recorded below; stored with release after the offset it adds (the commit). */
        public static final long OFF_COUNT = 0;
        public static final long OFF_REQUESTS = 8;
        public static final long OFF_OFFSETS = 16;
        public static final long BYTES = 8L * (2 + CACHE_SLOTS);

        private CacheClass() {
        }
    }

    public static final int KIND_FREE = 0;
    public static final int KIND_SMALL = 1;
    public static final int KIND_LARGE = 2;
    public static final int KIND_CONT = 3;

    public static final long FLAGS_SINGLE_THREADED = 1;
    public static final long FLAGS_THREAD_CACHE = 2;

    /** Registry entries of a slab with per-thread caches (at most 64: dead ones are found with a 64-bit mask). */
    public static final int ENTRIES = 64;
    /** Blocks a thread caches per size class. */
    public static final int CACHE_SLOTS = 8;
    /** End of a page list (free runs, partial pages). */
    public static final int LINK_NONE = -1;
    /** log2 of the smallest size class. */
    public static final int MIN_SHIFT = 3;

    static {
        if (HEADER.byteSize() != HEADER_BYTES || OFF_LOCK != 64 || OFF_FREE_HEAD != 192
                || SizeClass.LAYOUT.byteSize() != SizeClass.BYTES || Descriptor.LAYOUT.byteSize() != Descriptor.OFF_BITMAP
                // a descriptor's kind and info are one aligned little-endian word (kind low), which
                // the thread-cache free reads in one access
                || Descriptor.OFF_KIND % 8 != 0 || Descriptor.OFF_INFO != Descriptor.OFF_KIND + 4) {
            throw new AssertionError("SlabLayout: header is " + HEADER.byteSize() + " bytes, descriptor kind at "
                    + Descriptor.OFF_KIND + " and info at " + Descriptor.OFF_INFO);
        }
    }

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
        return Descriptor.OFF_BITMAP + 8L * bitmapWords(pageSize);
    }

    public static long registryStart(long pageSize) {
        long end = OFF_CLASSES + SizeClass.BYTES * classCount(pageSize);
        return (end + 63) & -64;
    }

    /** Bytes per registry entry. */
    public static long entrySize(long pageSize) {
        long end = Entry.OFF_CLASSES + CacheClass.BYTES * classCount(pageSize);
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
