package io.shmkit.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Binary layout of a {@code io.shmkit.alloc.BumpAllocator}. All offsets are relative to the start
 * of the allocator's range, which is 64-byte aligned. Page {@code i} starts at {@code i * pageSize}.
 *
 * <pre>
 * range start = page 0
 * +-------------------------------------------------------------------------+
 * | +0   MAGIC      u64  'SHMKBUMP', stored last with release (Formats)      |
 * | +8   FORMAT     u32  FORMAT (2)                                          |
 * | +12  FLAGS      u32  bit 0 = single-threaded                             |
 * | +16  PAGE_SIZE  u64                                                      |
 * | +24  PAGE_COUNT u64  pages that fit in the range                         |
 * | +32  LENGTH     u64  range length                                        |
 * +-- line 1 ---------------------------------------------------------------+
 * | +64  CURRENT    u64  index of the page allocation starts from (a hint)   |
 * +-- line 2 ---------------------------------------------------------------+
 * | +128 RETIRED    u64  allocations given back by reset() (for requests)    |
 * | +136 FAILURES   u64  failed requests (advisory after a crash)            |
 * +-- HEADER_BYTES = 192 ---------------------------------------------------+
 * | page header of page 0 (Page.BYTES, see below)                           |
 * +-- OFF_PAGE0_DATA = 256 -------------------------------------------------+
 * | data of page 0 ... up to pageSize                                       |
 * +=========================================================================+
 * page i (i >= 1), at i * pageSize:
 * | +0   NEXT       u64  index of the next page in the chain, 0 = none       |
 * | +8   USED       u64  commit word: COUNT(24) &lt;&lt; 40 | BYTES(40): blocks  |
 * |                      handed out from this page and bytes they consumed  |
 * | +16 .. +64      padding (the header has its own cache line)             |
 * | +64  data ... up to pageSize                                            |
 * </pre>
 *
 * Usable bytes: page 0 has {@code pageSize - 256}, every later page {@code pageSize - 64}.
 * Format 1 (magic {@code 'SHMBUMP1'}, a version field at +8) had the same fields; it is refused
 * as unsupported ({@link #LEGACY_MAGICS}).
 */
public final class BumpLayout {

    private BumpLayout() {
    }

    public static final long MAGIC = Formats.magic("SHMKBUMP");
    public static final int FORMAT = 2;
    /** Magics of the formats from before the {@link Formats} scheme: {@code 'SHMBUMP1'}. */
    public static final long[] LEGACY_MAGICS = {0x3150_4D55_424D_4853L};

    public static final int FLAGS_SINGLE_THREADED = 1;

    /** The structure header (cache lines 0-2 of page 0). */
    public static final StructLayout HEADER = MemoryLayout.structLayout(
            JAVA_LONG.withName("magic"),
            JAVA_INT.withName("format"),
            JAVA_INT.withName("flags"),
            JAVA_LONG.withName("pageSize"),
            JAVA_LONG.withName("pageCount"),
            JAVA_LONG.withName("length"),
            MemoryLayout.paddingLayout(24),
            JAVA_LONG.withName("current"),
            MemoryLayout.paddingLayout(56),
            JAVA_LONG.withName("retired"),
            JAVA_LONG.withName("failures"),
            MemoryLayout.paddingLayout(48));

    public static final long OFF_MAGIC = 0;
    public static final long OFF_FORMAT = 8;
    public static final long OFF_FLAGS = 12;
    public static final long OFF_PAGE_SIZE = 16;
    public static final long OFF_PAGE_COUNT = 24;
    public static final long OFF_LENGTH = 32;
    public static final long OFF_CURRENT = 64;
    public static final long OFF_RETIRED = 128;
    public static final long OFF_FAILURES = 136;
    public static final long HEADER_BYTES = 192;

    /** A page header, relative to its own start. */
    public static final class Page {

        private Page() {
        }

        public static final long OFF_NEXT = 0;
        public static final long OFF_USED = 8;
        public static final long BYTES = 64;
    }

    /** Where page 0's data starts. */
    public static final long OFF_PAGE0_DATA = HEADER_BYTES + Page.BYTES;

    public static final long MIN_PAGE_BYTES = 512;
    /** So that a page's block count (at most pageSize / 8) fits the 24-bit COUNT field. */
    public static final long MAX_PAGE_BYTES = 1L << 26;

    public static final int USED_BYTES_BITS = 40;
    public static final long USED_BYTES_MASK = (1L << USED_BYTES_BITS) - 1;
    public static final long USED_ONE_BLOCK = 1L << USED_BYTES_BITS;

    static {
        Layouts.check(HEADER, HEADER_BYTES, "magic", OFF_MAGIC, "format", OFF_FORMAT, "flags", OFF_FLAGS,
                "pageSize", OFF_PAGE_SIZE, "pageCount", OFF_PAGE_COUNT, "length", OFF_LENGTH,
                "current", OFF_CURRENT, "retired", OFF_RETIRED, "failures", OFF_FAILURES);
    }

    public static long usedBytes(long usedWord) {
        return usedWord & USED_BYTES_MASK;
    }

    public static long usedCount(long usedWord) {
        return usedWord >>> USED_BYTES_BITS;
    }

    /** Offset (relative to the range) of page {@code index}'s header. */
    public static long pageHeader(long pageSize, long index) {
        return index == 0 ? HEADER_BYTES : index * pageSize;
    }

    /** Offset (relative to the range) of page {@code index}'s first data byte. */
    public static long pageData(long pageSize, long index) {
        return pageHeader(pageSize, index) + Page.BYTES;
    }

    /** Usable data bytes of page {@code index}. */
    public static long usable(long pageSize, long index) {
        return index == 0 ? pageSize - OFF_PAGE0_DATA : pageSize - Page.BYTES;
    }
}
