package io.shmkit.internal;

/**
 * Binary layout of a {@code io.shmkit.alloc.BumpAllocator}. All offsets are relative to the start of the
 * allocator's range, which is 64-byte aligned. Page {@code i} starts at {@code i * pageSize}.
 *
 * <pre>
 * range start = page 0
 * +-------------------------------------------------------------------------+
 * | +0   MAGIC      u64  'SHMBUMP1', stored last with release on create      |
 * | +8   VERSION    u32                                                      |
 * | +12  FLAGS      u32  bit 0 = single-threaded                             |
 * | +16  PAGE_SIZE  u64                                                      |
 * | +24  PAGE_COUNT u64  pages that fit in the range                         |
 * | +32  LENGTH     u64  range length                                        |
 * +-- line 1 ---------------------------------------------------------------+
 * | +64  CURRENT    u64  index of the page allocation starts from (a hint)   |
 * +-- line 2 ---------------------------------------------------------------+
 * | +128 RETIRED    u64  allocations given back by reset() (for requests)    |
 * | +136 FAILURES   u64  failed requests (advisory after a crash)            |
 * +-- STRUCT_HEADER_SIZE = 192 ---------------------------------------------+
 * | page header of page 0 (PAGE_HEADER_SIZE bytes, see below)               |
 * +-- FIRST_PAGE_DATA = 256 -------------------------------------------------+
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
 */
public final class BumpLayout {

    private BumpLayout() {
    }

    public static final long MAGIC_VALUE = 0x3150_4D55_424D_4853L; // "SHMBUMP1" little-endian
    public static final int VERSION_VALUE = 1;
    public static final int FLAG_SINGLE_THREADED = 1;

    public static final long MAGIC = 0;
    public static final long VERSION = 8;
    public static final long FLAGS = 12;
    public static final long PAGE_SIZE = 16;
    public static final long PAGE_COUNT = 24;
    public static final long LENGTH = 32;
    public static final long CURRENT = 64;
    public static final long RETIRED = 128;
    public static final long FAILURES = 136;
    public static final long STRUCT_HEADER_SIZE = 192;

    /** Page header fields, relative to the page header. */
    public static final long PAGE_NEXT = 0;
    public static final long PAGE_USED = 8;
    public static final long PAGE_HEADER_SIZE = 64;

    /** Where page 0's data starts. */
    public static final long FIRST_PAGE_DATA = STRUCT_HEADER_SIZE + PAGE_HEADER_SIZE;

    public static final long MIN_PAGE_SIZE = 512;
    /** So that a page's block count (at most pageSize / 8) fits the 24-bit COUNT field. */
    public static final long MAX_PAGE_SIZE = 1L << 26;

    public static final int USED_BYTES_BITS = 40;
    public static final long USED_BYTES_MASK = (1L << USED_BYTES_BITS) - 1;
    public static final long USED_ONE_BLOCK = 1L << USED_BYTES_BITS;

    public static long usedBytes(long usedWord) {
        return usedWord & USED_BYTES_MASK;
    }

    public static long usedCount(long usedWord) {
        return usedWord >>> USED_BYTES_BITS;
    }

    /** Offset (relative to the range) of page {@code index}'s header. */
    public static long pageHeader(long pageSize, long index) {
        return index == 0 ? STRUCT_HEADER_SIZE : index * pageSize;
    }

    /** Offset (relative to the range) of page {@code index}'s first data byte. */
    public static long pageData(long pageSize, long index) {
        return pageHeader(pageSize, index) + PAGE_HEADER_SIZE;
    }

    /** Usable data bytes of page {@code index}. */
    public static long usable(long pageSize, long index) {
        return index == 0 ? pageSize - FIRST_PAGE_DATA : pageSize - PAGE_HEADER_SIZE;
    }
}
