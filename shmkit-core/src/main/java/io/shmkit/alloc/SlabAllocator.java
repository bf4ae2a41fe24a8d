package io.shmkit.alloc;

import io.shmkit.LayoutMismatchException;
import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.OwnerTable;
import io.shmkit.internal.Procs;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.BitSet;
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
 * method. {@code SINGLE_THREADED}: no lock; callers serialise every call. {@code THREAD_CACHED}:
 * like {@code LOCKED}, but each thread keeps up to {@value io.shmkit.internal.SlabLayout#CACHE_SLOTS}
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

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    // Plain accesses use the unaligned layouts: every offset is aligned by construction, and the
    // aligned layouts' per-access alignment check cost 6% of a locked operation (profiled).
    // Atomic accesses go through LONG, which needs (and checks) alignment.
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG_UNALIGNED;

    private final String name;
    private final MemorySegment m;
    private final long base;
    private final long pageSize;
    private final int pageShift;
    private final int pageCount;
    private final int classCount;
    private final long descBase;
    private final long descSize;
    private final long pages;     // segment offset of page 0
    private final long pagesEnd;
    private final AllocLock lock;
    /** Liveness of registry owners: the attach table of the segment this structure is in. */
    private final OwnerTable owners;
    /** See {@link #reclaimedCaches()}; written under the lock. */
    private long reclaimedCaches;
    private final SyncMode mode;
    private final int entries;      // registry entries (0 without thread caches)
    private final long registry;    // segment offset of registry entry 0
    private final long entrySize;
    private final long secret;      // cached-block tag key
    private final ThreadCaches<Cache> caches; // null without thread caches

    /** A thread's cache: per class a stack of block offsets, mirrored in its registry entry. */
    private final class Cache extends ThreadCaches.Cache {
        final long[] stack;        // class c's blocks at [c * CACHE_SLOTS, c * CACHE_SLOTS + n[c])
        final int[] n;
        final long[] requests;

        Cache(int entry, long entryAt) {
            super(entry, entryAt);
            this.stack = new long[classCount * CACHE_SLOTS];
            this.n = new int[classCount];
            this.requests = new long[classCount];
        }
    }

    private SlabAllocator(String name, MemorySegment m, long base, AllocLock lock) {
        this.name = name;
        this.m = m;
        this.base = base;
        this.pageSize = m.get(L, base + PAGE_SIZE);
        this.pageShift = Long.numberOfTrailingZeros(pageSize);
        this.pageCount = (int) m.get(L, base + PAGE_COUNT);
        this.classCount = classCount(pageSize);
        this.descBase = base + m.get(L, base + DESC_AT);
        this.descSize = descSize(pageSize);
        this.pages = base + m.get(L, base + PAGES_AT);
        this.pagesEnd = pages + (long) pageCount * pageSize;
        this.lock = lock;
        this.owners = OwnerTable.of(m, base);
        long flags = m.get(L, base + FLAGS);
        this.mode = (flags & FLAG_SINGLE_THREADED) != 0 ? SyncMode.SINGLE_THREADED
                : (flags & FLAG_THREAD_CACHE) != 0 ? SyncMode.THREAD_CACHED : SyncMode.LOCKED;
        this.entries = (int) m.get(L, base + CACHE_ENTRIES);
        this.registry = base + registryStart(pageSize);
        this.entrySize = entrySize(pageSize);
        this.secret = m.get(L, base + CACHE_SECRET);
        this.caches = mode == SyncMode.THREAD_CACHED ? new ThreadCaches<>(entries, this::register) : null;
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
    public static SlabAllocator create(MemorySegment memory, long offset, long length, String name, int pageCount,
                                       int pageSize, SyncMode mode) {
        checkParams(pageCount, pageSize);
        return init(name, memory, offset, length, pageCount, pageSize, mode);
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

    /** Opens a slab created in a raw range. */
    public static SlabAllocator open(MemorySegment memory, long offset, long length, String name) {
        Structures.checkRange(memory, offset, length, "slab '" + name + "'");
        if (memory.get(L, offset + MAGIC) == MAGIC_FORMAT_1) {
            throw new LayoutMismatchException("slab '" + name + "' at offset=" + offset + " has format 1 (an older"
                    + " shmkit); this library reads format 2: recreate the slab");
        }
        Structures.awaitMagic(memory, offset + MAGIC, MAGIC_VALUE, "slab '" + name + "'");
        long ps = memory.get(L, offset + PAGE_SIZE);
        long pc = memory.get(L, offset + PAGE_COUNT);
        long flags = memory.get(L, offset + FLAGS);
        long ent = memory.get(L, offset + CACHE_ENTRIES);
        if (ps < 256 || ps > 65536 || Long.bitCount(ps) != 1 || pc <= 0 || pc > Integer.MAX_VALUE
                || (flags & ~(FLAG_SINGLE_THREADED | FLAG_THREAD_CACHE)) != 0
                || ent != ((flags & FLAG_THREAD_CACHE) != 0 ? ENTRIES : 0)
                || memory.get(L, offset + CLASS_COUNT) != classCount(ps)
                || memory.get(L, offset + DESC_SIZE) != descSize(ps)
                || memory.get(L, offset + DESC_AT) != descStart(ps, ent)
                || memory.get(L, offset + PAGES_AT) != pagesStart(offset, ps, ent, pc)
                || pagesStart(offset, ps, ent, pc) + ps * pc > length) {
            throw new SegmentCorruptedException("slab '" + name + "' at offset=" + offset
                    + ": inconsistent header pageSize=" + ps + " pageCount=" + pc + " flags=" + flags
                    + " entries=" + ent + " length=" + length);
        }
        boolean single = (memory.get(L, offset + FLAGS) & FLAG_SINGLE_THREADED) != 0;
        AllocLock l = single ? AllocLock.busyWord(memory, offset + LOCK, false)
                : AllocLock.openRobust(memory, offset + LOCK);
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
        m.set(L, base + PAGE_SIZE, pageSize);
        m.set(L, base + PAGE_COUNT, pageCount);
        m.set(L, base + FLAGS, switch (mode) {
            case LOCKED -> 0L;
            case THREAD_CACHED -> FLAG_THREAD_CACHE;
            case SINGLE_THREADED -> FLAG_SINGLE_THREADED;
        });
        m.set(L, base + CACHE_ENTRIES, ent);
        m.set(L, base + CACHE_SECRET, new java.util.SplittableRandom().nextLong() | 1);
        m.set(L, base + DESC_AT, descStart(pageSize, ent));
        m.set(L, base + PAGES_AT, pagesAt);
        m.set(L, base + CLASS_COUNT, classCount(pageSize));
        m.set(L, base + DESC_SIZE, descSize(pageSize));
        AllocLock l = mode == SyncMode.SINGLE_THREADED ? AllocLock.busyWord(m, base + LOCK, true)
                : AllocLock.createRobust(m, base + LOCK);
        SlabAllocator s = new SlabAllocator(name, m, base, l);
        s.rebuild(); // all descriptors are KIND_FREE: one run, empty class lists, zero counters
        LONG.setRelease(m, base + MAGIC, MAGIC_VALUE); // release: openers that see the magic see the header
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

    private long d(int page) {
        return descBase + page * descSize;
    }

    private long cls(int c) {
        return base + CLASSES + c * CLASS_BYTES;
    }

    private int gi(long off) {
        return m.get(I, off);
    }

    private void si(long off, int v) {
        m.set(I, off, v);
    }

    private long gl(long off) {
        return m.get(L, off);
    }

    private void sl(long off, long v) {
        m.set(L, off, v);
    }

    private void addl(long off, long delta) {
        m.set(L, off, m.get(L, off) + delta);
    }

    private static int classOf(long size) {
        int bits = 64 - Long.numberOfLeadingZeros(size - 1);
        return Math.max(0, bits - MIN_SHIFT);
    }

    private int slotsOf(int c) {
        return (int) (pageSize >>> (c + MIN_SHIFT));
    }

    // ------------------------------------------------------------------ allocate

    @Override
    public long allocate(long size, long align) {
        long off = tryAllocate(size, align);
        if (off == 0) {
            long free;
            lockAndRepair();
            try {
                free = gl(base + FREE_PAGES);
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
            Cache k = caches.get();
            if (k.entry >= 0) {
                return allocateCached(k, classOf(need));
            }
        }
        lockAndRepair();
        try {
            long off;
            if (need <= (pageSize >>> 1)) {
                int c = classOf(need);
                long ca = cls(c);
                addl(ca + C_REQUESTS, 1); // the totals are the sums of class and large counters
                off = allocSmall(c);
                if (off == 0 && reclaimDeadCaches() > 0) {
                    off = allocSmall(c);
                }
                if (off == 0) {
                    addl(ca + C_FAILURES, 1);
                }
            } else {
                addl(base + LARGE_REQUESTS, 1);
                long n = (size + pageSize - 1) >>> pageShift;
                off = n > pageCount ? 0 : allocLarge((int) n);
                if (off == 0 && n <= pageCount && reclaimDeadCaches() > 0) {
                    off = allocLarge((int) n);
                }
                if (off == 0) {
                    addl(base + LARGE_FAILURES, 1);
                }
            }
            return off;
        } finally {
            lock.unlock();
        }
    }

    private long allocSmall(int c) {
        long ca = cls(c);
        int p = gi(ca + C_PARTIAL);
        int slots = slotsOf(c);
        if (p == NONE) {
            p = takePages(1);
            if (p < 0) {
                return 0;
            }
            long dp = d(p);
            m.asSlice(dp + D_BITMAP, descSize - D_BITMAP).fill((byte) 0);
            si(dp + D_INFO, c);
            si(dp + D_USED, 0);
            si(dp + D_KIND, KIND_SMALL); // an empty small page: repair reads it as free
            push(ca + C_PARTIAL, p);
            addl(ca + C_TOTAL, slots);
        } else if (p < 0 || p >= pageCount || gi(d(p) + D_KIND) != KIND_SMALL || gi(d(p) + D_INFO) != c) {
            throw corrupt("partial list of class " + (8L << c) + " at offset=" + (ca + C_PARTIAL)
                    + " points at page " + p + ", which is not a small page of that class");
        }
        long dp = d(p);
        int words = (slots + 63) >>> 6;
        for (int w = 0; w < words; w++) {
            long wa = dp + D_BITMAP + 8L * w;
            long bits = gl(wa);
            if (bits != -1L) {
                int bit = Long.numberOfTrailingZeros(~bits);
                int slot = (w << 6) + bit;
                if (slot >= slots) {
                    break;
                }
                sl(wa, bits | (1L << bit)); // the commit: the bitmap says used
                int used = gi(dp + D_USED) + 1;
                si(dp + D_USED, used);
                if (used == slots) {
                    remove(ca + C_PARTIAL, p);
                }
                addl(ca + C_USED, 1);
                return pages + ((long) p << pageShift) + ((long) slot << (c + MIN_SHIFT));
            }
        }
        throw corrupt("page " + p + " (descriptor at offset=" + dp + ") is on the partial list of class "
                + (8L << c) + " but its bitmap has no free slot");
    }

    private long allocLarge(int n) {
        int h = takePages(n);
        if (h < 0) {
            return 0;
        }
        for (int i = 1; i < n; i++) {
            si(d(h + i) + D_KIND, KIND_CONT);
        }
        si(d(h) + D_INFO, n);
        si(d(h) + D_KIND, KIND_LARGE); // the commit: a head with its page count
        addl(base + LARGE_PAGES, n);
        addl(base + LARGE_ALLOCS, 1);
        return pages + ((long) h << pageShift);
    }

    /** First fit over the free runs; returns the first page of {@code n} taken pages, or -1. */
    private int takePages(int n) {
        long headAddr = base + FREE_HEAD;
        int h = gi(headAddr);
        for (int steps = 0; h != NONE; steps++) {
            if (steps > pageCount || h < 0 || h >= pageCount) {
                throw corrupt("free page list is broken near page " + h + " (after " + steps + " runs)");
            }
            long dh = d(h);
            int len = gi(dh + D_INFO);
            if (gi(dh + D_KIND) != KIND_FREE || len < 1 || len > pageCount - h) {
                throw corrupt("free page list holds page " + h + " (descriptor at offset=" + dh + ") with kind="
                        + gi(dh + D_KIND) + " run=" + len);
            }
            if (len >= n) {
                remove(headAddr, h);
                if (len > n) {
                    setRun(h + n, len - n);
                    push(headAddr, h + n);
                }
                addl(base + FREE_PAGES, -n);
                return h;
            }
            h = gi(dh + D_NEXT);
        }
        return -1;
    }

    private void setRun(int h, int len) {
        long dh = d(h);
        si(dh + D_KIND, KIND_FREE);
        si(dh + D_INFO, len);
        si(dh + D_RUN_HEAD, h);
        long dt = d(h + len - 1);
        si(dt + D_INFO, len);
        si(dt + D_RUN_HEAD, h);
    }

    /** A page link read at {@code at}: {@code NONE} or a page index; anything else is damage. */
    private int link(long at) {
        int q = gi(at);
        if (q != NONE && (q < 0 || q >= pageCount)) {
            throw corrupt("page list link at offset=" + at + " is " + q + ", not a page in [0, " + pageCount + ")");
        }
        return q;
    }

    private void push(long headAddr, int p) {
        int old = link(headAddr);
        long dp = d(p);
        si(dp + D_NEXT, old);
        si(dp + D_PREV, NONE);
        if (old != NONE) {
            si(d(old) + D_PREV, p);
        }
        si(headAddr, p);
    }

    private void remove(long headAddr, int p) {
        long dp = d(p);
        int next = link(dp + D_NEXT);
        int prev = link(dp + D_PREV);
        if (prev == NONE) {
            si(headAddr, next);
        } else {
            si(d(prev) + D_NEXT, next);
        }
        if (next != NONE) {
            si(d(next) + D_PREV, prev);
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
            Cache k = caches.get();
            if (k.entry >= 0 && freeCached(k, offset, p, inPage)) {
                return;
            }
        }
        lockAndRepair();
        try {
            long dp = d(p);
            int kind = gi(dp + D_KIND);
            if (kind == KIND_SMALL) {
                if (entries > 0 && m.get(L, offset) == tag(offset)) {
                    throw new IllegalArgumentException("slab '" + name + "': offset=" + offset
                            + " is not allocated (it is in a thread cache; double free?)");
                }
                freeSmall(offset, p, dp, inPage);
            } else if (kind == KIND_LARGE && inPage == 0) {
                int n = gi(dp + D_INFO);
                if (n < 1 || n > pageCount - p) {
                    throw corrupt("large head page " + p + " (descriptor at offset=" + dp + ") has run=" + n);
                }
                si(dp + D_KIND, KIND_FREE); // the commit: no longer a head
                for (int i = 1; i < n; i++) {
                    si(d(p + i) + D_KIND, KIND_FREE);
                }
                addl(base + LARGE_PAGES, -n);
                addl(base + LARGE_ALLOCS, -1);
                freeRun(p, n);
            } else {
                throw new IllegalArgumentException("slab '" + name + "': offset=" + offset
                        + " is not an allocated block (page " + p + " is " + kindName(kind) + "; double free?)");
            }
        } finally {
            lock.unlock();
        }
    }

    private void freeSmall(long offset, int p, long dp, long inPage) {
        int c = gi(dp + D_INFO);
        if (c < 0 || c >= classCount) {
            throw corrupt("small page " + p + " (descriptor at offset=" + dp + ") has class index " + c);
        }
        int shift = c + MIN_SHIFT;
        if ((inPage & ((1L << shift) - 1)) != 0) {
            throw new IllegalArgumentException("slab '" + name + "': offset=" + offset
                    + " is not the start of a " + (1L << shift) + "-byte slot");
        }
        int slot = (int) (inPage >>> shift);
        long wa = dp + D_BITMAP + 8L * (slot >>> 6);
        long bits = gl(wa);
        long bit = 1L << (slot & 63);
        if ((bits & bit) == 0) {
            throw new IllegalArgumentException("slab '" + name + "': offset=" + offset
                    + " is not allocated (slot " + slot + " of page " + p + " is free; double free?)");
        }
        sl(wa, bits & ~bit); // the commit: the bitmap says free
        int slots = slotsOf(c);
        int used = gi(dp + D_USED) - 1;
        si(dp + D_USED, used);
        long ca = cls(c);
        addl(ca + C_USED, -1);
        if (used == slots - 1) {
            push(ca + C_PARTIAL, p);
        }
        if (used == 0 && (gi(ca + C_PARTIAL) != p || gi(dp + D_NEXT) != NONE)) {
            remove(ca + C_PARTIAL, p);
            addl(ca + C_TOTAL, -slots);
            si(dp + D_KIND, KIND_FREE);
            freeRun(p, 1);
        }
    }

    /** Returns pages {@code [p, p + n)} (already marked free) to the runs, merging with free neighbours. */
    private void freeRun(int p, int n) {
        long headAddr = base + FREE_HEAD;
        int start = p;
        int len = n;
        int right = p + n;
        if (right < pageCount && gi(d(right) + D_KIND) == KIND_FREE) {
            long dr = d(right);
            int rlen = gi(dr + D_INFO);
            if (gi(dr + D_RUN_HEAD) != right || rlen < 1 || rlen > pageCount - right) {
                throw corrupt("free page " + right + " (descriptor at offset=" + dr
                        + ") after a used run is not the head of a valid free run");
            }
            remove(headAddr, right);
            len += rlen;
        }
        int left = p - 1;
        if (left >= 0 && gi(d(left) + D_KIND) == KIND_FREE) {
            long dl = d(left);
            int lh = gi(dl + D_RUN_HEAD);
            if (lh < 0 || lh > left || gi(d(lh) + D_KIND) != KIND_FREE || lh + gi(d(lh) + D_INFO) != p) {
                throw corrupt("free page " + left + " (descriptor at offset=" + dl
                        + ") before a used run is not the tail of a valid free run (run head=" + lh + ")");
            }
            remove(headAddr, lh);
            start = lh;
            len += p - lh;
        }
        setRun(start, len);
        push(headAddr, start);
        addl(base + FREE_PAGES, n);
    }

    private static String kindName(int kind) {
        return switch (kind) {
            case KIND_FREE -> "free";
            case KIND_SMALL -> "small";
            case KIND_LARGE -> "the head of a large block";
            case KIND_CONT -> "inside a large block";
            default -> "of unknown kind " + kind;
        };
    }

    // ------------------------------------------------------------------ thread caches

    /** The first word of a block while it sits in a thread cache. */
    private long tag(long offset) {
        return secret ^ (offset * 0x9E3779B97F4A7C15L);
    }

    private long classAt(Cache k, int c) {
        return k.entryAt + E_CLASSES + c * EC_BYTES;
    }

    private long allocateCached(Cache k, int c) {
        int n = k.n[c];
        if (n == 0) {
            n = refill(k, c);
            if (n == 0) {
                return 0;
            }
        }
        long ea = classAt(k, c);
        n--;
        long off = k.stack[c * CACHE_SLOTS + n];
        k.n[c] = n;
        // release: the pop is committed before the block is handed out (repair reads the count)
        LONG.setRelease(m, ea + EC_COUNT, (long) n);
        m.set(L, ea + EC_REQUESTS, ++k.requests[c]); // plain: written by this thread only
        m.set(L, off, 0L); // the block no longer carries the cached tag
        return off;
    }

    /** Fills the empty class-{@code c} stack of {@code k} with up to half a stack; returns the count. */
    private int refill(Cache k, int c) {
        long ea = classAt(k, c);
        lockAndRepair();
        try {
            int n = 0;
            while (n < CACHE_SLOTS / 2) {
                long off = allocSmall(c);
                if (off == 0 && n == 0 && reclaimDeadCaches() > 0) {
                    off = allocSmall(c);
                }
                if (off == 0) {
                    break;
                }
                m.set(L, off, tag(off));
                m.set(L, ea + EC_OFFSETS + 8L * n, off);
                k.stack[c * CACHE_SLOTS + n] = off;
                n++;
                LONG.setRelease(m, ea + EC_COUNT, (long) n); // release: the offset is recorded before it counts
            }
            k.n[c] = n;
            if (n == 0) {
                long ca = cls(c);
                addl(ca + C_REQUESTS, 1);
                addl(ca + C_FAILURES, 1);
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Puts a small block into the calling thread's cache; returns false (nothing changed) when
     * the block is not a small one, so the locked path handles it and reports errors.
     */
    private boolean freeCached(Cache k, long offset, int p, long inPage) {
        long dp = d(p);
        // plain reads: while the caller owns a block of this page, its kind and class are fixed
        if (gi(dp + D_KIND) != KIND_SMALL) {
            return false;
        }
        int c = gi(dp + D_INFO);
        if (c < 0 || c >= classCount) {
            return false;
        }
        int shift = c + MIN_SHIFT;
        if ((inPage & ((1L << shift) - 1)) != 0) {
            return false;
        }
        int slot = (int) (inPage >>> shift);
        // racy read of a word others change under the lock; this slot's bit only changes by its owner
        long bits = (long) LONG.getOpaque(m, dp + D_BITMAP + 8L * (slot >>> 6));
        if ((bits & (1L << (slot & 63))) == 0) {
            return false; // not allocated: the locked path throws
        }
        if (m.get(L, offset) == tag(offset)) {
            throw new IllegalArgumentException("slab '" + name + "': offset=" + offset
                    + " is not allocated (it is in a thread cache; double free?)");
        }
        int n = k.n[c];
        if (n == CACHE_SLOTS) {
            drain(k, c, CACHE_SLOTS / 2);
            n = k.n[c];
        }
        long ea = classAt(k, c);
        m.set(L, offset, tag(offset));
        m.set(L, ea + EC_OFFSETS + 8L * n, offset);
        k.stack[c * CACHE_SLOTS + n] = offset;
        k.n[c] = n + 1;
        LONG.setRelease(m, ea + EC_COUNT, (long) (n + 1)); // release: the commit, after the offset is recorded
        return true;
    }

    /** Returns {@code howMany} blocks of class {@code c} from {@code k} to the slab. */
    private void drain(Cache k, int c, int howMany) {
        long ea = classAt(k, c);
        lockAndRepair();
        try {
            int n = k.n[c];
            for (int i = 0; i < howMany && n > 0; i++) {
                n--;
                long off = k.stack[c * CACHE_SLOTS + n];
                m.set(L, off, 0L);
                LONG.setRelease(m, ea + EC_COUNT, (long) n); // release: out of the cache before it is freed
                releaseSmall(off);
            }
            // keep the remaining offsets at the bottom of the stack (they already are)
            k.n[c] = n;
        } finally {
            lock.unlock();
        }
    }

    /** Frees a small block that was in a cache (lock held); tolerates a block already free. */
    private void releaseSmall(long off) {
        if (off < pages || off >= pagesEnd) {
            return;
        }
        int p = (int) ((off - pages) >>> pageShift);
        long dp = d(p);
        if (gi(dp + D_KIND) != KIND_SMALL) {
            return;
        }
        long inPage = (off - pages) & (pageSize - 1);
        int c = gi(dp + D_INFO);
        if (c < 0 || c >= classCount || (inPage & ((1L << (c + MIN_SHIFT)) - 1)) != 0) {
            return;
        }
        int slot = (int) (inPage >>> (c + MIN_SHIFT));
        if ((gl(dp + D_BITMAP + 8L * (slot >>> 6)) & (1L << (slot & 63))) != 0) {
            freeSmall(off, p, dp, inPage);
        }
    }

    private Cache register() {
        lockAndRepair();
        try {
            for (int pass = 0; pass < 2; pass++) {
                for (int e = 0; e < entries; e++) {
                    long at = registry + e * entrySize;
                    if (gi(at + E_IN_USE) == 0) {
                        m.asSlice(at, entrySize).fill((byte) 0);
                        si(at + E_OWNER, owners.id());
                        sl(at + E_PID, Procs.PID); // diagnostics
                        sl(at + E_THREAD, Thread.currentThread().threadId());
                        si(at + E_IN_USE, 1);
                        Cache k = new Cache(e, at);
                        caches.registered(k);
                        return k;
                    }
                }
                if (pass == 0 && reclaimDeadCaches() == 0) {
                    break; // registry full of live threads: this thread uses the locked path
                }
            }
            return new Cache(-1, 0);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Frees every block cached by threads of dead processes, and by threads of this process that
     * ended without {@link #releaseThreadCache()}, and their registry entries (lock held).
     */
    /**
     * Thread caches this instance gave back because their process died or their thread ended
     * (process-local count, for diagnostics and tests).
     */
    public long reclaimedCaches() {
        return reclaimedCaches;
    }

    private int reclaimDeadCaches() {
        int freed = 0;
        for (int e = 0; e < entries; e++) {
            long at = registry + e * entrySize;
            if (gi(at + E_IN_USE) == 0) {
                continue;
            }
            int owner = gi(at + E_OWNER);
            if (owner == owners.id() || caches.holds(e)) {
                Cache k = caches.ended(e);
                if (k == null) {
                    continue; // a live thread, or another instance's
                }
                caches.forget(k);
            } else if (!owners.check(owner).dead()) { // alive or unknown: fail closed
                continue;
            }
            emptyEntry(at);
            freed++;
        }
        reclaimedCaches += freed;
        return freed;
    }

    /** Frees the blocks recorded in the entry at {@code at}, folds its counters, releases it (lock held). */
    private void emptyEntry(long at) {
        for (int c = 0; c < classCount; c++) {
            long ea = at + E_CLASSES + c * EC_BYTES;
            long n = Math.min(Math.max(gl(ea + EC_COUNT), 0), CACHE_SLOTS);
            for (int i = 0; i < n; i++) {
                long off = gl(ea + EC_OFFSETS + 8L * i);
                // only a block that carries the cached tag is in a cache: a damaged or stale
                // entry must never free a live block (it would be handed out twice); such a
                // block is leaked instead, and the tag is cleared before the release so that
                // two entries naming one block cannot free it twice
                if (off < pages || off >= pagesEnd || (off & 7) != 0 || m.get(L, off) != tag(off)) {
                    continue;
                }
                m.set(L, off, 0L);
                releaseSmall(off);
            }
            sl(ea + EC_COUNT, 0);
            addl(cls(c) + C_REQUESTS, gl(ea + EC_REQUESTS));
            sl(ea + EC_REQUESTS, 0);
        }
        si(at + E_IN_USE, 0);
    }

    /**
     * Returns the calling thread's cached blocks to the slab and gives up its registry entry
     * (thread-cached mode; no effect otherwise). Call it before a thread that used the slab
     * ends if the process lives on.
     */
    public void releaseThreadCache() {
        if (caches == null) {
            return;
        }
        Cache k = caches.removeCurrent();
        if (k == null) {
            return; // this thread never used the allocator
        }
        if (k.entry < 0) {
            caches.forget(k);
            return;
        }
        lockAndRepair();
        try {
            caches.forget(k);
            emptyEntry(k.entryAt);
        } finally {
            lock.unlock();
        }
    }

    /** Blocks held in thread caches, per class (a snapshot). */
    private long[] cachedPerClass() {
        long[] out = new long[classCount];
        for (int e = 0; e < entries; e++) {
            long at = registry + e * entrySize;
            if (gi(at + E_IN_USE) != 0) {
                for (int c = 0; c < classCount; c++) {
                    out[c] += (long) LONG.getAcquire(m, at + E_CLASSES + c * EC_BYTES + EC_COUNT);
                }
            }
        }
        return out;
    }

    private long[] cachedRequestsPerClass() {
        long[] out = new long[classCount];
        for (int e = 0; e < entries; e++) {
            long at = registry + e * entrySize;
            if (gi(at + E_IN_USE) != 0) {
                for (int c = 0; c < classCount; c++) {
                    out[c] += gl(at + E_CLASSES + c * EC_BYTES + EC_REQUESTS);
                }
            }
        }
        return out;
    }

    /** Blocks held in thread caches (thread-cached mode), a snapshot. */
    public long cachedBlocks() {
        long n = 0;
        for (long x : cachedPerClass()) {
            n += x;
        }
        return n;
    }

    // ------------------------------------------------------------------ stats

    @Override
    public AllocatorStats stats() {
        lockAndRepair();
        try {
            long used = gl(base + LARGE_PAGES) * pageSize;
            long allocs = gl(base + LARGE_ALLOCS);
            long requests = gl(base + LARGE_REQUESTS);
            long failures = gl(base + LARGE_FAILURES);
            long[] cached = cachedPerClass();
            long[] cachedRequests = cachedRequestsPerClass();
            for (int c = 0; c < classCount; c++) {
                long ca = cls(c);
                long u = gl(ca + C_USED) - cached[c];
                requests += cachedRequests[c];
                used += u << (c + MIN_SHIFT);
                allocs += u;
                requests += gl(ca + C_REQUESTS);
                failures += gl(ca + C_FAILURES);
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
            long[] cached = cachedPerClass();
            long[] cachedRequests = cachedRequestsPerClass();
            for (int c = 0; c < classCount; c++) {
                long ca = cls(c);
                out.add(new SlabClassStats(8L << c, gl(ca + C_TOTAL), gl(ca + C_USED) - cached[c],
                        gl(ca + C_REQUESTS) + cachedRequests[c], gl(ca + C_FAILURES)));
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
            return gl(base + FREE_PAGES);
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ verify

    @Override
    public void verify() {
        lockAndRepair();
        try {
            reclaimDeadCaches();
            verifyLocked();
            verifyCaches();
        } finally {
            lock.unlock();
        }
    }

    private void verifyLocked() {
        long[] total = new long[classCount];
        long[] used = new long[classCount];
        BitSet partial = new BitSet(pageCount);
        long freeCount = 0;
        long largePages = 0;
        long largeAllocs = 0;
        int i = 0;
        while (i < pageCount) {
            long di = d(i);
            int kind = gi(di + D_KIND);
            switch (kind) {
                case KIND_FREE -> {
                    freeCount++;
                    i++;
                }
                case KIND_SMALL -> {
                    int c = gi(di + D_INFO);
                    if (c < 0 || c >= classCount) {
                        throw corrupt("small page " + i + " (descriptor at offset=" + di + ") has class index " + c);
                    }
                    int slots = slotsOf(c);
                    int bitsSet = countBits(i, di, slots);
                    int u = gi(di + D_USED);
                    if (u != bitsSet) {
                        throw corrupt("small page " + i + " (descriptor at offset=" + di + "): used counter " + u
                                + " but bitmap at offset=" + (di + D_BITMAP) + " has " + bitsSet + " bits set");
                    }
                    total[c] += slots;
                    used[c] += u;
                    if (u < slots) {
                        partial.set(i);
                    }
                    i++;
                }
                case KIND_LARGE -> {
                    int n = gi(di + D_INFO);
                    if (n < 1 || n > pageCount - i) {
                        throw corrupt("large head page " + i + " (descriptor at offset=" + di + ") has run=" + n);
                    }
                    for (int j = 1; j < n; j++) {
                        if (gi(d(i + j) + D_KIND) != KIND_CONT) {
                            throw corrupt("page " + (i + j) + " (descriptor at offset=" + d(i + j)
                                    + ") should continue the large block at page " + i + " but has kind="
                                    + gi(d(i + j) + D_KIND));
                        }
                    }
                    largePages += n;
                    largeAllocs++;
                    i += n;
                }
                case KIND_CONT -> throw corrupt("page " + i + " (descriptor at offset=" + di
                        + ") continues a large block but follows no large head");
                default -> throw corrupt("page " + i + " (descriptor at offset=" + di + ") has unknown kind=" + kind);
            }
        }
        verifyFreeRuns(freeCount);
        for (int c = 0; c < classCount; c++) {
            verifyClass(c, total[c], used[c], partial);
        }
        if (!partial.isEmpty()) {
            int p = partial.nextSetBit(0);
            throw corrupt("small page " + p + " has free slots but is on no partial list");
        }
        if (gl(base + LARGE_PAGES) != largePages || gl(base + LARGE_ALLOCS) != largeAllocs) {
            throw corrupt("large counters at offset=" + (base + LARGE_PAGES) + " say pages=" + gl(base + LARGE_PAGES)
                    + " allocs=" + gl(base + LARGE_ALLOCS) + " but descriptors say pages=" + largePages
                    + " allocs=" + largeAllocs);
        }
    }

    /** Every block recorded in a live thread cache is an allocated small slot of its class. */
    private void verifyCaches() {
        for (int e = 0; e < entries; e++) {
            long at = registry + e * entrySize;
            if (gi(at + E_IN_USE) == 0) {
                continue;
            }
            for (int c = 0; c < classCount; c++) {
                long ea = at + E_CLASSES + c * EC_BYTES;
                long n = (long) LONG.getAcquire(m, ea + EC_COUNT); // acquire: offsets below it are written
                if (n < 0 || n > CACHE_SLOTS) {
                    throw corrupt("thread cache " + e + " class " + (8L << c) + ": count at offset=" + (ea + EC_COUNT)
                            + " is " + n);
                }
                for (int i = 0; i < n; i++) {
                    long where = ea + EC_OFFSETS + 8L * i;
                    long off = gl(where);
                    int p = (int) ((off - pages) >>> pageShift);
                    boolean ok = off >= pages && off < pagesEnd && gi(d(p) + D_KIND) == KIND_SMALL
                            && gi(d(p) + D_INFO) == c && (((off - pages) & (pageSize - 1)) & ((8L << c) - 1)) == 0;
                    if (ok) {
                        int slot = (int) (((off - pages) & (pageSize - 1)) >>> (c + MIN_SHIFT));
                        ok = (gl(d(p) + D_BITMAP + 8L * (slot >>> 6)) & (1L << (slot & 63))) != 0;
                    }
                    if (!ok) {
                        throw corrupt("thread cache " + e + " holds offset=" + off + " (recorded at offset=" + where
                                + ") which is not an allocated " + (8L << c) + "-byte slot");
                    }
                }
            }
        }
    }

    private int countBits(int page, long di, int slots) {
        int words = (slots + 63) >>> 6;
        int n = 0;
        for (int w = 0; w < bitmapWords(pageSize); w++) {
            long bits = gl(di + D_BITMAP + 8L * w);
            long valid = w < words - 1 ? -1L : w == words - 1 ? (slots - (w << 6) == 64 ? -1L : (1L << (slots - (w << 6))) - 1) : 0;
            if ((bits & ~valid) != 0) {
                throw corrupt("small page " + page + ": bitmap word at offset=" + (di + D_BITMAP + 8L * w)
                        + " has bits set beyond the page's " + slots + " slots");
            }
            n += Long.bitCount(bits);
        }
        return n;
    }

    private void verifyFreeRuns(long freeCount) {
        BitSet seen = new BitSet(pageCount);
        long listed = 0;
        int prev = NONE;
        long where = base + FREE_HEAD;
        int h = gi(where);
        for (int steps = 0; h != NONE; steps++) {
            if (steps > pageCount || h < 0 || h >= pageCount) {
                throw corrupt("free page list link at offset=" + where + " is " + h
                        + (steps > pageCount ? " (cycle)" : " (out of range)"));
            }
            long dh = d(h);
            int len = gi(dh + D_INFO);
            if (gi(dh + D_KIND) != KIND_FREE || len < 1 || len > pageCount - h || seen.get(h)) {
                throw corrupt("free page list link at offset=" + where + " points at page " + h + " (kind="
                        + gi(dh + D_KIND) + " run=" + len + (seen.get(h) ? ", listed twice: the list has a cycle" : "") + ")");
            }
            if (gi(dh + D_PREV) != prev) {
                throw corrupt("free run at page " + h + ": back link at offset=" + (dh + D_PREV) + " is "
                        + gi(dh + D_PREV) + ", expected " + prev);
            }
            for (int j = h; j < h + len; j++) {
                if (gi(d(j) + D_KIND) != KIND_FREE) {
                    throw corrupt("free run at page " + h + " of " + len + " pages contains page " + j
                            + " of kind " + gi(d(j) + D_KIND));
                }
            }
            long dt = d(h + len - 1);
            if (gi(dt + D_RUN_HEAD) != h || gi(dt + D_INFO) != len) {
                throw corrupt("free run at page " + h + ": tail descriptor at offset=" + dt
                        + " says head=" + gi(dt + D_RUN_HEAD) + " run=" + gi(dt + D_INFO));
            }
            if ((h > 0 && gi(d(h - 1) + D_KIND) == KIND_FREE)
                    || (h + len < pageCount && gi(d(h + len) + D_KIND) == KIND_FREE)) {
                throw corrupt("free run at page " + h + " of " + len + " pages touches another free page (not coalesced)");
            }
            seen.set(h, h + len);
            listed += len;
            prev = h;
            where = dh + D_NEXT;
            h = gi(where);
        }
        if (listed != freeCount) {
            throw corrupt("free runs hold " + listed + " pages but " + freeCount + " descriptors say free");
        }
        if (gl(base + FREE_PAGES) != freeCount) {
            throw corrupt("free pages counter at offset=" + (base + FREE_PAGES) + " is " + gl(base + FREE_PAGES)
                    + ", descriptors say " + freeCount);
        }
    }

    private void verifyClass(int c, long total, long used, BitSet partial) {
        long ca = cls(c);
        if (gl(ca + C_TOTAL) != total || gl(ca + C_USED) != used) {
            throw corrupt("class " + (8L << c) + " counters at offset=" + ca + " say total=" + gl(ca + C_TOTAL)
                    + " used=" + gl(ca + C_USED) + " but bitmaps say total=" + total + " used=" + used);
        }
        int prev = NONE;
        long where = ca + C_PARTIAL;
        int p = gi(where);
        for (int steps = 0; p != NONE; steps++) {
            if (steps > pageCount || p < 0 || p >= pageCount) {
                throw corrupt("partial list of class " + (8L << c) + ": link at offset=" + where + " is " + p
                        + (steps > pageCount ? " (cycle)" : " (out of range)"));
            }
            long dp = d(p);
            if (gi(dp + D_KIND) != KIND_SMALL || gi(dp + D_INFO) != c || !partial.get(p)) {
                throw corrupt("partial list of class " + (8L << c) + ": link at offset=" + where + " points at page "
                        + p + " which is not a partial page of that class (or is listed twice)");
            }
            if (gi(dp + D_PREV) != prev) {
                throw corrupt("partial list of class " + (8L << c) + ": back link at offset=" + (dp + D_PREV)
                        + " is " + gi(dp + D_PREV) + ", expected " + prev);
            }
            partial.clear(p);
            prev = p;
            where = dp + D_NEXT;
            p = gi(where);
        }
    }

    private SegmentCorruptedException corrupt(String what) {
        return new SegmentCorruptedException("slab '" + name + "' at offset=" + base + ": " + what);
    }

    // ------------------------------------------------------------------ repair

    private void lockAndRepair() {
        if (lock.lock()) {
            try {
                rebuild();
                reclaimDeadCaches();
            } catch (RuntimeException e) {
                lock.unlock();
                throw e;
            }
            lock.markConsistent();
        }
    }

    /**
     * Rebuilds every list and counter from the descriptors' kinds, the large heads' page counts
     * and the bitmaps (lock held). Small pages without a set bit and orphan continuation pages
     * become free; free pages are coalesced into maximal runs.
     */
    private void rebuild() {
        si(base + FREE_HEAD, NONE);
        sl(base + FREE_PAGES, 0);
        sl(base + LARGE_PAGES, 0);
        sl(base + LARGE_ALLOCS, 0);
        for (int c = 0; c < classCount; c++) {
            long ca = cls(c);
            si(ca + C_PARTIAL, NONE);
            sl(ca + C_TOTAL, 0);
            sl(ca + C_USED, 0);
        }
        int i = 0;
        while (i < pageCount) {
            long di = d(i);
            int kind = gi(di + D_KIND);
            if (kind == KIND_LARGE) {
                int n = gi(di + D_INFO);
                if (n >= 1 && n <= pageCount - i) {
                    for (int j = 1; j < n; j++) {
                        si(d(i + j) + D_KIND, KIND_CONT);
                    }
                    addl(base + LARGE_PAGES, n);
                    addl(base + LARGE_ALLOCS, 1);
                    i += n;
                    continue;
                }
                throw corrupt("cannot repair: large head page " + i + " (descriptor at offset=" + di + ") has run=" + n);
            }
            if (kind == KIND_SMALL) {
                int c = gi(di + D_INFO);
                if (c < 0 || c >= classCount) {
                    throw corrupt("cannot repair: small page " + i + " (descriptor at offset=" + di
                            + ") has class index " + c);
                }
                int slots = slotsOf(c);
                int u = countBits(i, di, slots);
                if (u > 0) {
                    si(di + D_USED, u);
                    long ca = cls(c);
                    addl(ca + C_TOTAL, slots);
                    addl(ca + C_USED, u);
                    if (u < slots) {
                        push(ca + C_PARTIAL, i);
                    }
                    i++;
                    continue;
                }
            } else if (kind != KIND_FREE && kind != KIND_CONT) {
                throw corrupt("cannot repair: page " + i + " (descriptor at offset=" + di + ") has unknown kind=" + kind);
            }
            si(di + D_KIND, KIND_FREE);
            i++;
        }
        for (int p = 0; p < pageCount; ) {
            if (gi(d(p) + D_KIND) != KIND_FREE) {
                p++;
                continue;
            }
            int q = p;
            while (q < pageCount && gi(d(q) + D_KIND) == KIND_FREE) {
                q++;
            }
            setRun(p, q - p);
            push(base + FREE_HEAD, p);
            addl(base + FREE_PAGES, q - p);
            p = q;
        }
    }

    /** The calling thread's registry entry, -1 if it runs on the locked path (thread-cached mode; tests). */
    int threadCacheEntry() {
        return caches == null ? -1 : caches.get().entry;
    }

    /** Times a process died holding this allocator's lock and the next one repaired (shared counter). */
    int lockTakeovers() {
        return lock.takeovers();
    }

    @Override
    public String toString() {
        return "SlabAllocator[" + name + ", pages=" + pageCount + " x " + pageSize + "]";
    }
}
