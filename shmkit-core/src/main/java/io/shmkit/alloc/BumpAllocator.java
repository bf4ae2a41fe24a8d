package io.shmkit.alloc;

import io.shmkit.internal.Formats;
import io.shmkit.internal.Mem;
import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;

import java.lang.foreign.MemorySegment;

import static io.shmkit.internal.BumpLayout.*;

/**
 * Bump allocation from a chain of pages inside a shared segment, in the manner of Swoole's
 * {@code MemoryGlobal}: memory is handed out by moving a pointer forward, there is no
 * individual free, and {@link #reset()} gives everything back at once. Use it for state that
 * lives as long as the segment (global counters, tables carved once at start-up).
 *
 * <h2>Capacity, exactly</h2>
 * The allocator's range is split into pages of {@code pageSize} bytes. The first page also
 * holds the allocator's own header, so it has less room than the others (Swoole's check
 * {@code size > pagesize - sizeof(page)} forgets this and admits requests the first page cannot
 * hold). Here {@link #maxAllocation(long)} states the usable size of each page: page 0 has
 * {@code pageSize - 256} bytes, every later page {@code pageSize - 64}. A request of exactly a
 * page's usable size fits into an empty page of that index; a request larger than a later page's
 * usable size can never succeed and fails at once, naming the limit. A request that does not fit
 * in the rest of the current page moves on to the next page; the rest of the old page is not
 * used again until {@link #reset()}. Sizes are rounded up to a multiple of 8.
 *
 * <h2>Thread and process safety, crash consistency</h2>
 * In shared mode (the default) the allocator is lock-free. Every allocation commits with
 * one compare-and-set on the {@code USED} word of its page; chaining a new page commits with one
 * compare-and-set on the {@code NEXT} word of the page before it, and nothing else needs to be
 * initialised because an unused page's words are all 0. The {@code USED} word holds both the
 * bytes consumed and the number of blocks in the page, so the allocation count in
 * {@link #stats()} is exact too. A process killed at any instruction therefore leaves either
 * its allocation committed (the CAS happened) or not made at all; the {@code CURRENT} page index
 * is only a hint that may lag behind the chain. Only the failure counter (and the request count
 * derived from it) is advisory. In single-threaded mode ({@link SyncMode#SINGLE_THREADED}: no atomics, the caller serialises every call) plain stores are used in the same order.
 *
 * <p>{@link #reset()} is <em>not</em> safe against concurrent users: the caller must make sure
 * no thread in any process allocates or uses allocated memory while it runs. A kill during
 * {@code reset()} leaves a valid chain (pages are emptied from the last one backwards).
 *
 * {@snippet :
 * try (Segment s = Segment.create(SegmentName.posix("/app"), 1 << 20)) {
 *     BumpAllocator bump = BumpAllocator.create(s, "globals", 64 * 1024, 4096);
 *     long counters = bump.allocate(256);        // offset from the segment start
 *     s.memory().set(ValueLayout.JAVA_LONG, counters, 42);
 * }
 * }
 */
public final class BumpAllocator implements SharedAllocator {

    /** Directory kind of a bump allocator. */
    public static final int KIND = 0x0101;

    private final MemorySegment memory;
    private final String name;
    private final long base;
    private final long pageSize;
    private final long pageCount;
    private final boolean shared;

    private BumpAllocator(MemorySegment memory, String name, long base) {
        this.memory = memory;
        this.name = name;
        this.base = base;
        this.pageSize = Mem.getLong(memory, base + OFF_PAGE_SIZE);
        this.pageCount = Mem.getLong(memory, base + OFF_PAGE_COUNT);
        this.shared = (Mem.getInt(memory, base + OFF_FLAGS) & FLAGS_SINGLE_THREADED) == 0;
    }

    // ------------------------------------------------------------------ create / open

    /** Creates a process-safe bump allocator of {@code length} bytes in {@code segment}. */
    public static BumpAllocator create(Segment segment, String name, long length, long pageSize) {
        return create(segment, name, length, pageSize, SyncMode.LOCKED);
    }

    /**
     * Creates a bump allocator of {@code length} bytes in {@code segment}, registered as {@code name}.
     *
     * @param mode {@link SyncMode#LOCKED}: process-safe (lock-free: one CAS per allocation);
     *             {@link SyncMode#SINGLE_THREADED}: callers serialise every call
     */
    public static BumpAllocator create(Segment segment, String name, long length, long pageSize, SyncMode mode) {
        boolean single = Structures.singleThreaded(mode, "bump allocator");
        checkGeometry(length, pageSize);
        return segment.createStructure(name, KIND, length, 64,
                e -> init(segment.memory(), name, e.offset(), e.length(), pageSize, single));
    }

    /** Opens the bump allocator registered as {@code name} in {@code segment}. */
    public static BumpAllocator open(Segment segment, String name) {
        DirectoryEntry e = Structures.lookup(segment, name, KIND, "bump allocator");
        return open(segment.memory(), name, e.offset(), e.length());
    }

    /** Creates a bump allocator in the raw range {@code [offset, offset + length)} of {@code memory}. */
    public static BumpAllocator create(MemorySegment memory, long offset, long length, long pageSize, SyncMode mode) {
        boolean single = Structures.singleThreaded(mode, "bump allocator");
        checkGeometry(length, pageSize);
        return init(memory, "bump@" + offset, offset, length, pageSize, single);
    }

    /** Opens the bump allocator created in the raw range at {@code offset}. */
    public static BumpAllocator open(MemorySegment memory, long offset, long length) {
        return open(memory, "bump@" + offset, offset, length);
    }

    private static BumpAllocator open(MemorySegment memory, String name, long offset, long length) {
        Structures.awaitFormat(memory, offset, OFF_MAGIC, MAGIC, OFF_FORMAT, FORMAT, "bump allocator '" + name + "'", LEGACY_MAGICS);
        long pageSize = Mem.getLong(memory, offset + OFF_PAGE_SIZE);
        long pageCount = Mem.getLong(memory, offset + OFF_PAGE_COUNT);
        long storedLength = Mem.getLong(memory, offset + OFF_LENGTH);
        if (storedLength != length || pageSize < MIN_PAGE_BYTES || pageSize > MAX_PAGE_BYTES || (pageSize & 63) != 0
                || pageCount != length / pageSize) {
            throw new SegmentCorruptedException("bump allocator '" + name + "' at offset " + offset
                    + ": header geometry pageSize=" + pageSize + " pageCount=" + pageCount + " length=" + storedLength
                    + " does not match the range length=" + length);
        }
        return new BumpAllocator(memory, name, offset);
    }

    private static void checkGeometry(long length, long pageSize) {
        if (pageSize < MIN_PAGE_BYTES || pageSize > MAX_PAGE_BYTES || (pageSize & 63) != 0) {
            throw new IllegalArgumentException("pageSize must be a multiple of 64 in [" + MIN_PAGE_BYTES + ", "
                    + MAX_PAGE_BYTES + "]: pageSize=" + pageSize);
        }
        if (length < pageSize) {
            throw new IllegalArgumentException("length must hold at least one page: length=" + length
                    + " pageSize=" + pageSize);
        }
    }

    private static BumpAllocator init(MemorySegment memory, String name, long offset, long length, long pageSize,
                                      boolean singleThreaded) {
        Structures.checkRange(memory, offset, length, "bump allocator '" + name + "'");
        long pageCount = length / pageSize;
        // Clear every page header (the range may hold old data), then the structure header.
        for (long i = 0; i < pageCount; i++) {
            long h = offset + pageHeader(pageSize, i);
            Mem.setLong(memory, h + Page.OFF_NEXT, 0L);
            Mem.setLong(memory, h + Page.OFF_USED, 0L);
        }
        Mem.setInt(memory, offset + OFF_FLAGS, singleThreaded ? FLAGS_SINGLE_THREADED : 0);
        Mem.setLong(memory, offset + OFF_PAGE_SIZE, pageSize);
        Mem.setLong(memory, offset + OFF_PAGE_COUNT, pageCount);
        Mem.setLong(memory, offset + OFF_LENGTH, length);
        Mem.setLong(memory, offset + OFF_CURRENT, 0L);
        Mem.setLong(memory, offset + OFF_RETIRED, 0L);
        Mem.setLong(memory, offset + OFF_FAILURES, 0L);
        // release: an opener that sees the magic sees every field above
        Formats.publish(memory, offset + OFF_MAGIC, MAGIC, offset + OFF_FORMAT, FORMAT);
        return new BumpAllocator(memory, name, offset);
    }

    // ------------------------------------------------------------------ geometry

    /** Page size in bytes. */
    public long pageSize() {
        return pageSize;
    }

    /** Number of pages in the range. */
    public long pageCount() {
        return pageCount;
    }

    /**
     * The largest request (at the default alignment) that page {@code pageIndex} can hold when it
     * is empty: {@code pageSize - 256} for page 0 (it also holds the allocator header) and
     * {@code pageSize - 64} for every later page.
     */
    public long maxAllocation(long pageIndex) {
        if (pageIndex < 0 || pageIndex >= pageCount) {
            throw new IllegalArgumentException("pageIndex out of range: pageIndex=" + pageIndex + " pageCount=" + pageCount);
        }
        return usable(pageSize, pageIndex);
    }

    /** The largest request any page can hold (0 is excluded; alignment 8). */
    private long largestPage() {
        return pageCount > 1 ? usable(pageSize, 1) : usable(pageSize, 0);
    }

    // ------------------------------------------------------------------ SharedAllocator

    @Override
    public String name() {
        return name;
    }

    @Override
    public SyncMode mode() {
        return shared ? SyncMode.LOCKED : SyncMode.SINGLE_THREADED;
    }

    @Override
    public MemorySegment memory() {
        return memory;
    }

    /** Offset of the allocator's range from the start of {@link #memory()}. */
    public long rangeOffset() {
        return base;
    }

    @Override
    public long allocate(long size, long align) {
        long off = tryAllocate(size, align);
        if (off == 0) {
            throw new OutOfSharedMemoryException(failureMessage(size, align));
        }
        return off;
    }

    @Override
    public long tryAllocate(long size, long align) {
        if (size <= 0) {
            throw new IllegalArgumentException("size must be positive: size=" + size);
        }
        Structures.checkAlign(align);
        MemorySegment m = memory;
        long b = base;
        long need = (size + 7) & -8L;
        if (need > largestPage() || need < size) {
            count(b + OFF_FAILURES);
            return 0;
        }
        long page = Mem.getLongAcquire(m, b + OFF_CURRENT); // acquire: a hint; any value in the chain is correct
        if (page < 0 || page >= pageCount
                // CURRENT only ever moves to a page after that page was linked, so its predecessor links to it
                || (page > 0 && Mem.getLongAcquire(m, b + pageHeader(pageSize, page - 1) + Page.OFF_NEXT) != page)) {
            throw new SegmentCorruptedException("bump allocator '" + name + "': CURRENT page index " + page
                    + " at offset " + (b + OFF_CURRENT) + " is not a chained page of [0, " + pageCount + ")");
        }
        for (long steps = 0; steps <= pageCount; steps++) {
            long header = b + pageHeader(pageSize, page);
            long data = b + pageData(pageSize, page);
            long cap = usable(pageSize, page);
            while (true) {
                long word = Mem.getLongAcquire(m, header + Page.OFF_USED); // acquire: CAS operand
                long used = usedBytes(word);
                if (used > cap || (used & 7) != 0 || usedCount(word) > used / 8) {
                    throw corruptPage(page, "USED bytes=" + used + " count=" + usedCount(word) + " not in [0, " + cap
                            + "], not a multiple of 8, or more blocks than 8-byte units", header + Page.OFF_USED);
                }
                long at = Structures.alignUp(data + used, align);
                long newBytes = at + need - data;
                if (newBytes > cap) {
                    break;
                }
                long newUsed = word + USED_ONE_BLOCK + (newBytes - used); // one more block, newBytes consumed
                if (shared) {
                    // the commit point of an allocation: one CAS on the page's USED word
                    if (Mem.casLong(m, header + Page.OFF_USED, word, newUsed)) {
                        return at;
                    }
                } else {
                    Mem.setLongRelease(m, header + Page.OFF_USED, newUsed); // release: single-threaded commit, same order
                    return at;
                }
            }
            long next = nextPage(header, page);
            if (next == 0) {
                count(b + OFF_FAILURES);
                return 0;
            }
            if (shared) {
                Mem.casLong(m, b + OFF_CURRENT, page, next); // hint only: losing this race is fine
            } else {
                Mem.setLongRelease(m, b + OFF_CURRENT, next); // release: hint, same order as shared mode
            }
            page = next;
        }
        throw new SegmentCorruptedException("bump allocator '" + name + "': page chain longer than pageCount="
                + pageCount + " starting at CURRENT");
    }

    /** The next page after {@code page}, chaining a fresh one if needed; 0 if the range is full. */
    private long nextPage(long header, long page) {
        MemorySegment m = memory;
        long next = Mem.getLongAcquire(m, header + Page.OFF_NEXT); // acquire: a page linked by another process
        if (next == 0) {
            if (page + 1 >= pageCount) {
                return 0;
            }
            if (shared) {
                // the commit point of chaining: one CAS; the new page's words are already 0
                Mem.casLong(m, header + Page.OFF_NEXT, 0L, page + 1);
                next = Mem.getLongAcquire(m, header + Page.OFF_NEXT); // acquire: whoever won linked page + 1
            } else {
                Mem.setLongRelease(m, header + Page.OFF_NEXT, page + 1); // release: same commit order as shared mode
                next = page + 1;
            }
        }
        if (next != page + 1) {
            throw corruptPage(page, "NEXT=" + next + ", expected 0 or " + (page + 1), header + Page.OFF_NEXT);
        }
        return next;
    }

    private void count(long at) {
        if (shared) {
            Mem.getAndAddLong(memory, at, 1L);
        } else {
            Mem.setLong(memory, at, Mem.getLong(memory, at) + 1);
        }
    }

    private SegmentCorruptedException corruptPage(long page, String what, long at) {
        return new SegmentCorruptedException("bump allocator '" + name + "': page " + page + ": " + what
                + " (field at offset " + at + ")");
    }

    private String failureMessage(long size, long align) {
        long need = (size + 7) & -8L;
        if (need > largestPage() || need < size) {
            return "bump allocator '" + name + "': request size=" + size + " align=" + align
                    + " exceeds the largest page's usable size=" + largestPage() + " (pageSize=" + pageSize
                    + ", first page usable=" + usable(pageSize, 0) + "); free=" + stats().free() + " bytes in total";
        }
        AllocatorStats s = stats();
        return "bump allocator '" + name + "': out of memory for size=" + size + " align=" + align + "; left="
                + s.free() + " bytes in total (free=" + s.free() + "), " + leftInCurrentPage() + " in the current page, pages=" + pageCount;
    }

    private long leftInCurrentPage() {
        long page = Mem.getLongAcquire(memory, base + OFF_CURRENT);
        if (page < 0 || page >= pageCount) {
            return 0;
        }
        return usable(pageSize, page) - usedBytes(Mem.getLongAcquire(memory, base + pageHeader(pageSize, page) + Page.OFF_USED));
    }

    /**
     * Always throws: a bump allocator has no individual free. Memory comes back all at once with
     * {@link #reset()}.
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public void free(long offset) {
        throw new UnsupportedOperationException("bump allocator '" + name + "' cannot free single blocks (offset="
                + offset + "); use reset()");
    }

    /**
     * Gives every page back: all offsets handed out become invalid. Not safe against concurrent
     * use: the caller must ensure that no thread in any process allocates from this allocator or
     * uses its memory while this runs. Counters are kept.
     */
    public void reset() {
        MemorySegment m = memory;
        long b = base;
        Mem.setLongRelease(m, b + OFF_CURRENT, 0L); // release: start from page 0 before pages are emptied
        long last = 0;
        for (long i = 0; i < pageCount; i++) {
            long next = Mem.getLongAcquire(m, b + pageHeader(pageSize, i) + Page.OFF_NEXT);
            if (next != i + 1) {
                break;
            }
            last = next;
        }
        long retired = 0;
        for (long i = 0; i <= last; i++) {
            retired += usedCount(Mem.getLongAcquire(m, b + pageHeader(pageSize, i) + Page.OFF_USED));
        }
        // advisory: a kill between this store and the emptying below over-counts requests
        Mem.setLongRelease(m, b + OFF_RETIRED, Mem.getLongAcquire(m, b + OFF_RETIRED) + retired);
        // Empty from the last chained page backwards: a kill in between leaves a shorter, valid chain.
        for (long i = last; i >= 0; i--) {
            long h = b + pageHeader(pageSize, i);
            Mem.setLongRelease(m, h + Page.OFF_USED, 0L); // release: page emptied before it is unlinked
            Mem.setLongRelease(m, h + Page.OFF_NEXT, 0L); // release: unlink after emptying
        }
    }

    /**
     * {@code capacity} is the usable bytes of all pages, {@code used} the bytes consumed in
     * chained pages including alignment padding, {@code allocations} the blocks handed out since
     * the last reset (exact, read from the pages' commit words), {@code requests} every request
     * since creation and {@code failures} those that failed.
     */
    @Override
    public AllocatorStats stats() {
        MemorySegment m = memory;
        long capacity = usable(pageSize, 0) + (pageCount - 1) * (pageSize - Page.BYTES);
        long used = 0;
        long blocks = 0;
        long page = 0;
        for (long steps = 0; steps < pageCount; steps++) {
            long h = base + pageHeader(pageSize, page);
            long word = Mem.getLongAcquire(m, h + Page.OFF_USED); // acquire: committed allocations
            used += usedBytes(word);
            blocks += usedCount(word);
            long next = Mem.getLongAcquire(m, h + Page.OFF_NEXT);
            if (next != page + 1 || next >= pageCount) {
                break;
            }
            page = next;
        }
        long retired = Mem.getLongAcquire(m, base + OFF_RETIRED);
        long failures = Mem.getLongAcquire(m, base + OFF_FAILURES);
        return new AllocatorStats("bump", name, capacity, used, blocks, retired + blocks + failures, failures);
    }

    /**
     * Whether {@code offset} lies in memory handed out and not reset: inside a chained page,
     * below its {@code USED} mark. Bump allocation keeps no per-block records, so any offset
     * inside an allocated block answers {@code true}. For tests and diagnostics.
     */
    public boolean isAllocated(long offset) {
        long page = 0;
        for (long steps = 0; steps < pageCount; steps++) {
            long h = base + pageHeader(pageSize, page);
            long data = base + pageData(pageSize, page);
            long used = usedBytes(Mem.getLongAcquire(memory, h + Page.OFF_USED)); // acquire: committed allocations
            if (offset >= data && offset < data + used) {
                return true;
            }
            long next = Mem.getLongAcquire(memory, h + Page.OFF_NEXT);
            if (next != page + 1 || next >= pageCount) {
                return false;
            }
            page = next;
        }
        return false;
    }

    /** Pages currently in the chain (at least 1). */
    public long chainedPages() {
        long page = 0;
        for (long steps = 0; steps < pageCount; steps++) {
            long next = Mem.getLongAcquire(memory, base + pageHeader(pageSize, page) + Page.OFF_NEXT);
            if (next != page + 1 || next >= pageCount) {
                break;
            }
            page = next;
        }
        return page + 1;
    }

    /**
     * Checks the header, the page chain (each page links only to the one after it, {@code USED}
     * within the page, pages after the chain untouched) and the {@code CURRENT} hint. Run it while
     * no other thread allocates, or it may report a page chained in between as a false alarm.
     */
    @Override
    public void verify() {
        MemorySegment m = memory;
        long b = base;
        long magic = Mem.getLongAcquire(m, b + OFF_MAGIC);
        if (magic != MAGIC) {
            throw new SegmentCorruptedException("bump allocator '" + name + "': bad magic 0x" + Long.toHexString(magic)
                    + " at offset " + (b + OFF_MAGIC));
        }
        if (Mem.getLong(m, b + OFF_PAGE_SIZE) != pageSize || Mem.getLong(m, b + OFF_PAGE_COUNT) != pageCount) {
            throw new SegmentCorruptedException("bump allocator '" + name + "': PAGE_SIZE/PAGE_COUNT at offset "
                    + (b + OFF_PAGE_SIZE) + " changed: " + Mem.getLong(m, b + OFF_PAGE_SIZE) + "/" + Mem.getLong(m, b + OFF_PAGE_COUNT)
                    + ", opened with " + pageSize + "/" + pageCount);
        }
        long chainEnd = -1;
        for (long i = 0; i < pageCount; i++) {
            long h = b + pageHeader(pageSize, i);
            long word = Mem.getLongAcquire(m, h + Page.OFF_USED);
            long used = usedBytes(word);
            long next = Mem.getLongAcquire(m, h + Page.OFF_NEXT);
            long cap = usable(pageSize, i);
            if (chainEnd < 0) {
                if (used > cap || (used & 7) != 0 || usedCount(word) > used / 8) {
                    throw corruptPage(i, "USED bytes=" + used + " count=" + usedCount(word) + " not in [0, " + cap
                            + "], not a multiple of 8, or more blocks than 8-byte units", h + Page.OFF_USED);
                }
                if (next != 0 && (next != i + 1 || next >= pageCount)) {
                    throw corruptPage(i, "NEXT=" + next + ", expected 0 or " + (i + 1)
                            + (i + 1 >= pageCount ? " (last page must have NEXT=0)" : ""), h + Page.OFF_NEXT);
                }
                if (next == 0) {
                    chainEnd = i;
                }
            } else if (word != 0 || next != 0) {
                throw corruptPage(i, "page is not in the chain (chain ends at page " + chainEnd + ") but has USED="
                        + used + " NEXT=" + next, word != 0 ? h + Page.OFF_USED : h + Page.OFF_NEXT);
            }
        }
        long current = Mem.getLongAcquire(m, b + OFF_CURRENT);
        if (current < 0 || current > chainEnd) {
            throw new SegmentCorruptedException("bump allocator '" + name + "': CURRENT=" + current + " at offset "
                    + (b + OFF_CURRENT) + " is not a chained page (chain is pages 0.." + chainEnd + ")");
        }
        long retired = Mem.getLongAcquire(m, b + OFF_RETIRED);
        long failures = Mem.getLongAcquire(m, b + OFF_FAILURES);
        if (failures < 0 || retired < 0) {
            throw new SegmentCorruptedException("bump allocator '" + name + "': negative counters retired="
                    + retired + " failures=" + failures + " at offset " + (b + OFF_RETIRED));
        }
    }

    @Override
    public String toString() {
        return "BumpAllocator[name=" + name + ", offset=" + base + ", pageSize=" + pageSize + ", pages=" + pageCount + "]";
    }
}
