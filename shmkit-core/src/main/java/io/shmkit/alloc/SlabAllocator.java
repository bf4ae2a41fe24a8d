package io.shmkit.alloc;

import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.Formats;
import io.shmkit.internal.Mem;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static io.shmkit.internal.SlabLayout.*;

/**
 * A slab allocator in shared memory, after nginx's {@code ngx_slab_pool_t}: the area is cut
 * into pages; requests up to half a page are served from pages dedicated to one power-of-two
 * size class (8 bytes .. page size / 2) with a bitmap per page, larger requests take a run of
 * whole pages, and freed page runs are coalesced with their free neighbours.
 *
 * {@snippet :
 * SlabAllocator slab = SlabAllocator.create(segment, "sessions", 256);   // 256 pages of 4 KiB
 * long small = slab.allocate(100);     // a 128-byte slot
 * long large = slab.allocate(10_000);  // three whole pages
 * slab.free(small);
 * slab.free(large);
 * }
 *
 * <p><b>Thread and process safety</b> ({@link SyncMode}, chosen at creation, stored in the
 * header). {@code LOCKED} (default): every operation runs under one robust lock
 * ({@link io.shmkit.sync.ShmMutex}) in the header, so any thread of any process may call any
 * method. {@code SINGLE_THREADED}: no lock; callers serialise every call, and a call from
 * another process than the last caller first repairs from the bitmaps (linear in the slab's
 * size), since that process may have been killed inside an operation. {@code THREAD_CACHED}:
 * like {@code LOCKED}, but each thread keeps up to 8
 * freed blocks per size class and serves small requests from them without the lock; the cache's
 * contents are recorded in a registry entry in shared memory (per class: a count, written last,
 * and the offsets), and a cached block's first word holds a tag derived from a per-slab random
 * secret and its offset, so that freeing it again is detected. Blocks stay allocated in the
 * bitmaps while cached; stats count them as free. Caches of dead processes, and of threads that
 * ended while their process lives on, are returned to the slab by the next repair, by
 * {@link #verify()}, and when the registry is full; {@link #releaseThreadCache()} returns the
 * calling thread's cache at once.
 *
 * <p><b>Crash consistency.</b> The source of truth is the page descriptors' kinds, the page
 * count of each large head and the small pages' bitmaps; lists, counters and run lengths are
 * derived. Each operation has one commit store: setting the slot bit or the large head's kind
 * (allocate), clearing it (free). Pages taken for a new small page or a large run are marked
 * before the commit in a way the repair reads as free. If a process dies holding the lock, the
 * next locker rebuilds every list and counter from the descriptors: small pages without a set
 * bit and continuation pages without a head become free, free pages are coalesced into runs.
 * A block whose {@code allocate} returned is never lost; one in flight may be (then it is free)
 * or may remain allocated (leaked, never handed out twice).
 *
 * <p><b>Errors.</b> Freeing an offset that is not the start of a live block throws
 * {@link IllegalArgumentException} naming the offset and changes nothing. Corruption found on
 * the way (a list pointing at the wrong page, a bitmap disagreeing with its counter) is
 * {@link SegmentCorruptedException}; every list walk is bounded by the page count.
 *
 * <p>Each empty small page is returned to the free runs unless it is the last partial page of
 * its class (kept to avoid splitting and merging runs on every allocate/free pair), so
 * {@link #freePages()} can be lower than the pages not holding data by one per class.
 */
public final class SlabAllocator implements SharedAllocator {

    /** Directory kind of a slab allocator. */
    public static final int KIND = 0x0104;
    /** Default page size. */
    public static final int DEFAULT_PAGE_SIZE = 4096;

    private final String name;
    private final MemorySegment m;
    private final long base;
    private final long pageSize;
    private final int pageShift;
    private final int pageCount;
    private final int classCount;
    private final long pages;     // segment offset of page 0
    private final long pagesEnd;
    private final AllocLock lock;
    private final SyncMode mode;
    private final int entries;      // registry entries (0 without thread caches)
    /** Size classes, large blocks and free runs. */
    private final SlabPages slab;
    /** The thread caches' blocks. */
    private final SlabCaches cached;
    /** The lock with its repair, and the thread-cache registry (shared with FixedPool). */
    private final CacheRegistry<SlabCaches.Cache> core;
    private final ThreadCaches<SlabCaches.Cache> caches; // null without thread caches

    private SlabAllocator(String name, MemorySegment m, long base, AllocLock lock) {
        this.name = name;
        this.m = m;
        this.base = base;
        this.slab = new SlabPages(name, m, base);
        this.pageSize = slab.pageSize;
        this.pageShift = slab.pageShift;
        this.pageCount = slab.pageCount;
        this.classCount = slab.classCount;
        this.pages = slab.pages;
        this.pagesEnd = slab.pagesEnd;
        this.lock = lock;
        long flags = Mem.getLong(m, base + OFF_FLAGS);
        this.mode = (flags & FLAGS_SINGLE_THREADED) != 0 ? SyncMode.SINGLE_THREADED
                : (flags & FLAGS_THREAD_CACHE) != 0 ? SyncMode.THREAD_CACHED : SyncMode.LOCKED;
        this.entries = (int) Mem.getLong(m, base + OFF_CACHE_ENTRIES);
        this.cached = new SlabCaches(slab, entries, lock);
        this.core = cached.core;
        this.caches = core.caches;
    }

    // ------------------------------------------------------------------ create / open

    /** Creates a locked slab of {@code pageCount} pages of 4096 bytes. */
    public static SlabAllocator create(Segment segment, String name, int pageCount) {
        return create(segment, name, pageCount, DEFAULT_PAGE_SIZE, SyncMode.LOCKED);
    }

    /**
     * Creates a slab in a new range of {@code segment} recorded under {@code name}.
     *
     * @param pageCount pages in the slab
     * @param pageSize  power of two in [256, 65536]; size classes go up to half of it
     * @param mode      how the slab synchronises
     */
    public static SlabAllocator create(Segment segment, String name, int pageCount, int pageSize, SyncMode mode) {
        return segment.createStructure(name, KIND, bytesNeeded(pageCount, pageSize, mode), 64,
                e -> init(name, segment.memory(), e.offset(), e.length(), pageCount, pageSize, mode));
    }

    /** Creates a slab in a raw range {@code [offset, offset + length)} (offset 64-byte aligned). */
    public static SlabAllocator create(MemorySegment memory, long offset, long length, int pageCount, int pageSize,
                                       SyncMode mode) {
        checkParams(pageCount, pageSize);
        return init(rangeName(offset), memory, offset, length, pageCount, pageSize, mode);
    }

    private static String rangeName(long offset) {
        return "slab@" + offset;
    }

    /** Bytes a slab with these parameters needs in a raw range, at most. */
    public static long bytesNeeded(int pageCount, int pageSize, SyncMode mode) {
        checkParams(pageCount, pageSize);
        return io.shmkit.internal.SlabLayout.bytesNeeded(pageSize, entriesFor(mode), pageCount);
    }

    private static int entriesFor(SyncMode mode) {
        return mode == SyncMode.THREAD_CACHED ? ENTRIES : 0;
    }

    /** Opens the slab recorded under {@code name} in {@code segment}, created by any process. */
    public static SlabAllocator open(Segment segment, String name) {
        DirectoryEntry e = Structures.lookup(segment, name, KIND, "slab");
        return open(segment.memory(), e.offset(), e.length(), name);
    }

    /** Opens the slab created in the raw range {@code [offset, offset + length)} of {@code memory}. */
    public static SlabAllocator open(MemorySegment memory, long offset, long length) {
        return open(memory, offset, length, rangeName(offset));
    }

    private static SlabAllocator open(MemorySegment memory, long offset, long length, String name) {
        Structures.checkRange(memory, offset, length, "slab '" + name + "'");
        Published.await(memory, offset + OFF_MAGIC, "slab '" + name + "'");
        Formats.check(memory, offset + OFF_MAGIC, MAGIC, offset + OFF_FORMAT, FORMAT, "slab '" + name + "' at offset="
                + offset, MAGIC_FORMAT_1, MAGIC_FORMAT_2);
        long ps = Mem.getLong(memory, offset + OFF_PAGE_SIZE);
        long pc = Mem.getLong(memory, offset + OFF_PAGE_COUNT);
        long flags = Mem.getLong(memory, offset + OFF_FLAGS);
        long ent = Mem.getLong(memory, offset + OFF_CACHE_ENTRIES);
        if (ps < 256 || ps > 65536 || Long.bitCount(ps) != 1 || pc <= 0 || pc > Integer.MAX_VALUE
                || (flags & ~(FLAGS_SINGLE_THREADED | FLAGS_THREAD_CACHE)) != 0
                || ent != ((flags & FLAGS_THREAD_CACHE) != 0 ? ENTRIES : 0)
                || Mem.getLong(memory, offset + OFF_CLASS_COUNT) != classCount(ps)
                || Mem.getLong(memory, offset + OFF_DESC_SIZE) != descSize(ps)
                || Mem.getLong(memory, offset + OFF_DESC_AT) != descStart(ps, ent)
                || Mem.getLong(memory, offset + OFF_PAGES_AT) != pagesStart(offset, ps, ent, pc)
                || pagesStart(offset, ps, ent, pc) + ps * pc > length) {
            throw new SegmentCorruptedException("slab '" + name + "' at offset=" + offset
                    + ": inconsistent header pageSize=" + ps + " pageCount=" + pc + " flags=" + flags
                    + " entries=" + ent + " length=" + length);
        }
        boolean single = (Mem.getLong(memory, offset + OFF_FLAGS) & FLAGS_SINGLE_THREADED) != 0;
        AllocLock l = single ? AllocLock.lastUser(memory, offset + OFF_LOCK, false)
                : AllocLock.openRobust(memory, offset + OFF_LOCK);
        return new SlabAllocator(name, memory, offset, l);
    }

    private static void checkParams(int pageCount, int pageSize) {
        if (pageSize < 256 || pageSize > 65536 || Integer.bitCount(pageSize) != 1) {
            throw new IllegalArgumentException("pageSize must be a power of two in [256, 65536]: pageSize=" + pageSize);
        }
        if (pageCount <= 0) {
            throw new IllegalArgumentException("pageCount must be positive: pageCount=" + pageCount);
        }
    }

    private static SlabAllocator init(String name, MemorySegment m, long base, long length, int pageCount,
                                      int pageSize, SyncMode mode) {
        Structures.checkRange(m, base, length, "slab '" + name + "'");
        int ent = entriesFor(mode);
        long pagesAt = pagesStart(base, pageSize, ent, pageCount);
        long need = pagesAt + (long) pageSize * pageCount;
        if (need > length || base + length > m.byteSize()) {
            throw new IllegalArgumentException("range too small for slab '" + name + "': length=" + length
                    + " needed=" + need);
        }
        m.asSlice(base, pagesAt).fill((byte) 0);
        Mem.setLong(m, base + OFF_PAGE_SIZE, pageSize);
        Mem.setLong(m, base + OFF_PAGE_COUNT, pageCount);
        Mem.setLong(m, base + OFF_FLAGS, switch (mode) {
            case LOCKED -> 0L;
            case THREAD_CACHED -> FLAGS_THREAD_CACHE;
            case SINGLE_THREADED -> FLAGS_SINGLE_THREADED;
        });
        Mem.setLong(m, base + OFF_CACHE_ENTRIES, ent);
        Mem.setLong(m, base + OFF_CACHE_SECRET, new java.util.SplittableRandom().nextLong() | 1);
        Mem.setLong(m, base + OFF_DESC_AT, descStart(pageSize, ent));
        Mem.setLong(m, base + OFF_PAGES_AT, pagesAt);
        Mem.setLong(m, base + OFF_CLASS_COUNT, classCount(pageSize));
        Mem.setLong(m, base + OFF_DESC_SIZE, descSize(pageSize));
        AllocLock l = mode == SyncMode.SINGLE_THREADED ? AllocLock.lastUser(m, base + OFF_LOCK, true)
                : AllocLock.createRobust(m, base + OFF_LOCK);
        SlabAllocator s = new SlabAllocator(name, m, base, l);
        s.slab.rebuild(); // all descriptors are KIND_FREE: one run, empty class lists, zero counters
        Formats.publish(m, base + OFF_MAGIC, MAGIC, base + OFF_FORMAT, FORMAT); // openers that see the magic see the header
        return s;
    }

    // ------------------------------------------------------------------ accessors

    @Override
    public String name() {
        return name;
    }

    @Override
    public MemorySegment memory() {
        return m;
    }

    public long pageSize() {
        return pageSize;
    }

    @Override
    public SyncMode mode() {
        return mode;
    }

    public int pageCount() {
        return pageCount;
    }

    /** Largest request served from a size class; larger ones take whole pages. */
    public long maxSmallSize() {
        return pageSize >>> 1;
    }

    // ------------------------------------------------------------------ descriptor access

    // ------------------------------------------------------------------ allocate

    @Override
    public long allocate(long size, long align) {
        long off = tryAllocate(size, align);
        if (off == 0) {
            long free;
            lockAndRepair();
            try {
                free = Mem.getLong(m, base + OFF_FREE_PAGES);
            } finally {
                lock.unlock();
            }
            throw new OutOfSharedMemoryException("slab '" + name + "': cannot allocate size=" + size + " align="
                    + align + ", free pages=" + free + " of " + pageCount + " (pageSize=" + pageSize
                    + ", free bytes=" + free * pageSize + " plus free slots in partial pages)");
        }
        return off;
    }

    @Override
    public long tryAllocate(long size, long align) {
        if (size <= 0) {
            throw new IllegalArgumentException("slab '" + name + "': size must be positive: size=" + size);
        }
        if (align <= 0 || Long.bitCount(align) != 1 || align > pageSize) {
            throw new IllegalArgumentException("slab '" + name + "': align must be a power of two <= "
                    + pageSize + ": align=" + align);
        }
        long need = Math.max(size, align);
        if (caches != null && need <= (pageSize >>> 1)) {
            SlabCaches.Cache k = caches.get();
            if (k.entry >= 0) {
                return cached.allocateCached(k, SlabPages.classOf(need));
            }
        }
        lockAndRepair();
        try {
            long off;
            if (need <= (pageSize >>> 1)) {
                int c = SlabPages.classOf(need);
                long ca = slab.cls(c);
                slab.addl(ca + SizeClass.OFF_REQUESTS, 1); // the totals are the sums of class and large counters
                off = slab.allocSmall(c);
                if (off == 0 && core.reclaimDead() > 0) {
                    off = slab.allocSmall(c);
                }
                if (off == 0) {
                    slab.addl(ca + SizeClass.OFF_FAILURES, 1);
                }
            } else {
                slab.addl(base + OFF_LARGE_REQUESTS, 1);
                long n = (size + pageSize - 1) >>> pageShift;
                off = n > pageCount ? 0 : slab.allocLarge((int) n);
                if (off == 0 && n <= pageCount && core.reclaimDead() > 0) {
                    off = slab.allocLarge((int) n);
                }
                if (off == 0) {
                    slab.addl(base + OFF_LARGE_FAILURES, 1);
                }
            }
            return off;
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ free

    @Override
    public void free(long offset) {
        if (offset < pages || offset >= pagesEnd) {
            throw new IllegalArgumentException("slab '" + name + "': offset=" + offset
                    + " is outside the slab's pages [" + pages + ", " + pagesEnd + ")");
        }
        int p = (int) ((offset - pages) >>> pageShift);
        long inPage = (offset - pages) & (pageSize - 1);
        if (caches != null) {
            SlabCaches.Cache k = caches.get();
            if (k.entry >= 0 && cached.freeCached(k, offset, p, inPage)) {
                return;
            }
        }
        lockAndRepair();
        try {
            long dp = slab.d(p);
            int kind = Mem.getInt(m, dp + Descriptor.OFF_KIND);
            if (kind == KIND_SMALL) {
                if (entries > 0 && Mem.getLong(m, offset) == cached.tag(offset)) {
                    throw new IllegalArgumentException("slab '" + name + "': offset=" + offset
                            + " is not allocated (it is in a thread cache; double free?)");
                }
                slab.freeSmall(offset, p, dp, inPage);
            } else if (kind == KIND_LARGE && inPage == 0) {
                int n = Mem.getInt(m, dp + Descriptor.OFF_INFO);
                if (n < 1 || n > pageCount - p) {
                    throw slab.corrupt("large head page " + p + " (descriptor at offset=" + dp + ") has run=" + n);
                }
                Mem.setInt(m, dp + Descriptor.OFF_KIND, KIND_FREE); // the commit: no longer a head
                for (int i = 1; i < n; i++) {
                    Mem.setInt(m, slab.d(p + i) + Descriptor.OFF_KIND, KIND_FREE);
                }
                slab.addl(base + OFF_LARGE_PAGES, -n);
                slab.addl(base + OFF_LARGE_ALLOCS, -1);
                slab.freeRun(p, n);
            } else {
                throw new IllegalArgumentException("slab '" + name + "': offset=" + offset
                        + " is not an allocated block (page " + p + " is " + SlabPages.kindName(kind) + "; double free?)");
            }
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ thread caches

    /**
     * Thread caches this instance gave back because their process died or their thread ended
     * (process-local count, for diagnostics and tests).
     */
    public long reclaimedCaches() {
        return core.reclaimed();
    }

    /**
     * Returns the calling thread's cached blocks to the slab and gives up its registry entry
     * (thread-cached mode; no effect otherwise). Call it before a thread that used the slab
     * ends if the process lives on.
     */
    public void releaseThreadCache() {
        core.releaseCurrent();
    }

    /** Blocks held in thread caches (thread-cached mode), a snapshot. */
    public long cachedBlocks() {
        long n = 0;
        for (long x : cached.cachedPerClass()) {
            n += x;
        }
        return n;
    }

    // ------------------------------------------------------------------ stats

    @Override
    public AllocatorStats stats() {
        lockAndRepair();
        try {
            long used = Mem.getLong(m, base + OFF_LARGE_PAGES) * pageSize;
            long allocs = Mem.getLong(m, base + OFF_LARGE_ALLOCS);
            long requests = Mem.getLong(m, base + OFF_LARGE_REQUESTS);
            long failures = Mem.getLong(m, base + OFF_LARGE_FAILURES);
            long[] inCaches = cached.cachedPerClass();
            long[] cachedRequests = cached.cachedRequestsPerClass();
            for (int c = 0; c < classCount; c++) {
                long ca = slab.cls(c);
                long u = Mem.getLong(m, ca + SizeClass.OFF_USED) - inCaches[c];
                requests += cachedRequests[c];
                used += u << (c + MIN_SHIFT);
                allocs += u;
                requests += Mem.getLong(m, ca + SizeClass.OFF_REQUESTS);
                failures += Mem.getLong(m, ca + SizeClass.OFF_FAILURES);
            }
            return new AllocatorStats("slab", name, (long) pageCount * pageSize, used, allocs, requests, failures);
        } finally {
            lock.unlock();
        }
    }

    /** Per size class counters, smallest class first. */
    public List<SlabClassStats> classStats() {
        lockAndRepair();
        try {
            List<SlabClassStats> out = new ArrayList<>(classCount);
            long[] inCaches = cached.cachedPerClass();
            long[] cachedRequests = cached.cachedRequestsPerClass();
            for (int c = 0; c < classCount; c++) {
                long ca = slab.cls(c);
                out.add(new SlabClassStats(8L << c, Mem.getLong(m, ca + SizeClass.OFF_TOTAL), Mem.getLong(m, ca + SizeClass.OFF_USED) - inCaches[c],
                        Mem.getLong(m, ca + SizeClass.OFF_REQUESTS) + cachedRequests[c], Mem.getLong(m, ca + SizeClass.OFF_FAILURES)));
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** Pages in free runs. */
    public long freePages() {
        lockAndRepair();
        try {
            return Mem.getLong(m, base + OFF_FREE_PAGES);
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ verify

    @Override
    public void verify() {
        lockAndRepair();
        try {
            core.reclaimDead();
            SlabVerifier v = new SlabVerifier(slab, core);
            v.verify();
            v.verifyCaches();
        } finally {
            lock.unlock();
        }
    }

    /** Takes the lock; after a holder died, the core repairs (the common case is the lock call alone). */
    private void lockAndRepair() {
        if (lock.lock()) {
            core.repairTakeover();
        }
    }

    /** The calling thread's registry entry, -1 if it runs on the locked path (thread-cached mode; tests). */
    int threadCacheEntry() {
        return core.threadCacheEntry();
    }

    /** Times a process died holding this allocator's lock and the next one repaired (shared counter). */
    int lockTakeovers() {
        return core.takeovers();
    }

    @Override
    public String toString() {
        return "SlabAllocator[" + name + ", pages=" + pageCount + " x " + pageSize + "]";
    }
}
