package io.shmkit.alloc;

import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.FixedPoolLayout;
import io.shmkit.internal.Formats;
import io.shmkit.internal.Mem;
import io.shmkit.internal.OwnerRecords;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;

import java.lang.foreign.MemorySegment;

import static io.shmkit.internal.FixedPoolLayout.*;

/**
 * Equal-size slices in shared memory (after Swoole's {@code FixedPool}): O(1) allocate and
 * free through a free list of slice indices, plus one state byte per slice.
 *
 * {@snippet :
 * try (Segment seg = Segment.create(SegmentName.posix("game"), 1 << 20)) {
 *     FixedPool pool = FixedPool.create(seg, "players", 64, 1000);
 *     long off = pool.allocate(64);          // offset from the segment start
 *     seg.memory().set(ValueLayout.JAVA_LONG, off, 42L);
 *     pool.free(off);
 * }
 * }
 *
 * <p><b>Modes</b> (chosen at creation, stored in the header, so every process uses the same):
 * <ul>
 *   <li>{@link SyncMode#LOCKED} (default): every operation runs under a robust lock
 *       ({@link io.shmkit.sync.ShmMutex}) in the pool's header; any thread of any process that
 *       opened the pool may call any method.</li>
 *   <li>{@link SyncMode#THREAD_CACHED}: like {@code LOCKED}, but each thread of each process keeps
 *       up to {@value #CACHE_SLICES} freed slices in a private cache (like glibc's tcache) and
 *       serves allocations from it without any atomic instruction; the shared lock is taken
 *       only to refill or drain {@value #CACHE_BATCH} slices at a time. Slices in a cache are
 *       not available to other threads, so {@code tryAllocate} can return 0 while up to
 *       {@value #CACHE_SLICES} slices per other thread sit in caches. Each cache has an entry in
 *       a registry of 64 in the header; a
 *       thread that finds the registry full falls back to the locked path. A cached slice's
 *       state byte names the registry entry that holds it, so a cache hit is one byte store
 *       (plus a statistics word in the thread's own registry entry), and freeing a cached slice
 *       again is detected from the same byte.</li>
 *   <li>{@link SyncMode#SINGLE_THREADED}: no lock at all; callers serialise every call themselves
 *       (for callers that hold their own lock). A last-user word names the process that made
 *       the last call; a call from another process repairs from the state bytes first (linear
 *       in the pool's size), as after a dead lock owner, since that process may have been killed
 *       inside an operation.</li>
 * </ul>
 *
 * <p><b>Publication.</b> In the locked modes the lock's release/acquire orders a slice's
 * contents written before {@link #free} before the next owner's use of it.
 *
 * <p><b>Crash consistency.</b> The state bytes are the source of truth: a slice is
 * free (on the shared list) when its state byte is {@code 0}, allocated when it is {@code 1},
 * and in the cache of registry entry {@code e} when it is {@code 2 + e}. Each operation commits
 * with the single store of that byte: allocate sets it before it returns, free changes it first.
 * The free list and the {@code used} counter are derived data. If a process dies holding the
 * lock, the next locker is told so and rebuilds the free list and counter from the state bytes
 * before it goes on. Slices in the caches of a process that died (its registration in the
 * segment's attach table is gone) are found by their state bytes and returned to
 * the shared list by that repair, by {@link #verify()}, and before an allocation is refused for
 * lack of slices. A process killed inside {@code allocate} may leak the slice it was taking
 * (its state byte says allocated; nobody will free it), never hands it out twice. The cache of
 * a thread that ends while its process lives on is returned when the registry is full or the
 * pool runs out, or at once by {@link #releaseThreadCache()} on that thread.
 *
 * <p><b>Why not lock-free.</b> A tagged Treiber stack makes the free-list pop one CAS, but
 * then the state byte and the list can no longer change together: a process killed between the
 * pop and the state store leaves a slice that is neither listed nor marked, and no other
 * process can tell that from an allocation in flight. The robust lock makes the repair
 * decidable; its uncontended cost is two CAS per operation, and {@link SyncMode#THREAD_CACHED}
 * takes it once per {@value #CACHE_BATCH} operations.
 *
 * <p><b>Errors.</b> Freeing an offset that is not the start of a slice, or a slice that is not
 * allocated, throws {@link IllegalArgumentException} naming the offset and changes nothing
 * (in {@code THREAD_CACHED} mode two threads freeing the same slice at the same instant are a
 * race the state byte check cannot always catch, as with C's {@code free}). A corrupted free
 * list is reported as {@link SegmentCorruptedException}; no walk is longer than the slice count.
 */
public final class FixedPool implements SharedAllocator {

    /** Directory kind of a fixed pool. */
    public static final int KIND = 0x0103;
    /** Slices a thread cache holds at most. */
    public static final int CACHE_SLICES = 32;
    /** Slices moved between a thread cache and the shared list at once. */
    public static final int CACHE_BATCH = 16;

    private final String name;
    private final MemorySegment m;
    private final long base;
    private final long sliceSize;
    private final int count;
    private final long align;
    private final long slices;   // segment offset of slice 0
    private final long slicesEnd;
    private final int sliceShift; // log2(sliceSize) when it is a power of two, else -1
    private final long next;     // segment offset of next[0]
    private final long state;    // segment offset of state[0]
    private final long stateStride; // state bytes per column of the transposed state array
    private final int entries;   // registry entries (0 without thread caches)
    private final SyncMode mode;
    private final AllocLock lock;
    /** The lock with its repair, and the thread-cache registry (shared with SlabAllocator). */
    private final CacheRegistry<FixedPoolCaches.Cache> core;
    /** The thread caches' slices. */
    private final FixedPoolCaches cached;
    private final ThreadCaches<FixedPoolCaches.Cache> caches; // null without thread caches

    private FixedPool(String name, MemorySegment m, long base, AllocLock lock) {
        this.name = name;
        this.m = m;
        this.base = base;
        this.sliceSize = Mem.getLong(m, base + OFF_SLICE_SIZE);
        this.count = (int) Mem.getLong(m, base + OFF_SLICE_COUNT);
        this.align = Mem.getLong(m, base + OFF_ALIGN);
        this.slices = base + Mem.getLong(m, base + OFF_SLICES_AT);
        this.slicesEnd = slices + sliceSize * count;
        this.sliceShift = Long.bitCount(sliceSize) == 1 ? Long.numberOfTrailingZeros(sliceSize) : -1;
        this.next = base + Mem.getLong(m, base + OFF_NEXT_AT);
        this.state = base + Mem.getLong(m, base + OFF_STATE_AT);
        this.stateStride = stateBytes(count) / 64;
        this.entries = (int) Mem.getLong(m, base + OFF_CACHE_ENTRIES);
        long flags = Mem.getLong(m, base + OFF_FLAGS);
        this.mode = (flags & FLAGS_SINGLE_THREADED) != 0 ? SyncMode.SINGLE_THREADED
                : (flags & FLAGS_THREAD_CACHE) != 0 ? SyncMode.THREAD_CACHED : SyncMode.LOCKED;
        this.lock = lock;
        this.cached = new FixedPoolCaches(this, m, base, count, entries, sliceSize, slices, state, stateStride, lock);
        this.core = cached.core;
        this.caches = core.caches;
    }

    // ------------------------------------------------------------------ create / open

    /** Creates a locked pool of {@code count} slices of {@code sliceSize} bytes, 8-byte aligned. */
    public static FixedPool create(Segment segment, String name, long sliceSize, int count) {
        return create(segment, name, sliceSize, count, DEFAULT_ALIGN, SyncMode.LOCKED);
    }

    /**
     * Creates a pool in a new range of {@code segment} recorded under {@code name}.
     *
     * @param sliceSize bytes per slice, rounded up to {@code align}
     * @param count     number of slices
     * @param align     alignment of every slice (power of two, at most 4096)
     * @param mode      how the pool synchronises
     */
    public static FixedPool create(Segment segment, String name, long sliceSize, int count, long align, SyncMode mode) {
        long length = bytesNeeded(sliceSize, count, align, mode);
        return segment.createStructure(name, KIND, length, 64,
                e -> init(name, segment.memory(), e.offset(), e.length(), sliceSize, count, align, mode));
    }

    /** Creates a pool in a raw range {@code [offset, offset + length)} of {@code memory} (offset 64-byte aligned). */
    public static FixedPool create(MemorySegment memory, long offset, long length, long sliceSize, int count,
                                   long align, SyncMode mode) {
        checkParams(sliceSize, count, align);
        return init(rangeName(offset), memory, offset, length, sliceSize, count, align, mode);
    }

    private static String rangeName(long offset) {
        return "fixed-pool@" + offset;
    }

    /** Bytes a pool with these parameters needs in a raw range (at most; alignment padding included). */
    public static long bytesNeeded(long sliceSize, int count, long align, SyncMode mode) {
        checkParams(sliceSize, count, align);
        return FixedPoolLayout.bytesNeeded(0, entriesFor(mode), sliceSizeFor(sliceSize, align), count, align)
                + Math.max(0, align - 64);
    }

    /** Slice size as stored: rounded up to the alignment. */
    private static long sliceSizeFor(long sliceSize, long align) {
        return Structures.alignUp(sliceSize, align);
    }

    private static int entriesFor(SyncMode mode) {
        return mode == SyncMode.THREAD_CACHED ? ENTRIES : 0;
    }

    /** Opens the pool recorded under {@code name} in {@code segment}, created by any process. */
    public static FixedPool open(Segment segment, String name) {
        DirectoryEntry e = Structures.lookup(segment, name, KIND, "fixed pool");
        return open(segment.memory(), e.offset(), e.length(), name);
    }

    /** Opens the pool created in the raw range {@code [offset, offset + length)} of {@code memory}. */
    public static FixedPool open(MemorySegment memory, long offset, long length) {
        return open(memory, offset, length, rangeName(offset));
    }

    private static FixedPool open(MemorySegment memory, long offset, long length, String name) {
        Structures.checkRange(memory, offset, length, "fixed pool '" + name + "'");
        Published.await(memory, offset + OFF_MAGIC, "fixed pool '" + name + "'");
        Formats.check(memory, offset + OFF_MAGIC, MAGIC, offset + OFF_FORMAT, FORMAT, "fixed pool '" + name + "' at offset="
                + offset, MAGIC_FORMAT_1, MAGIC_FORMAT_2, MAGIC_FORMAT_3);
        long sliceSize = Mem.getLong(memory, offset + OFF_SLICE_SIZE);
        long cnt = Mem.getLong(memory, offset + OFF_SLICE_COUNT);
        long al = Mem.getLong(memory, offset + OFF_ALIGN);
        long flags = Mem.getLong(memory, offset + OFF_FLAGS);
        long ent = Mem.getLong(memory, offset + OFF_CACHE_ENTRIES);
        if (al <= 0 || Long.bitCount(al) != 1 || al > Segment.PAGE_SIZE || sliceSize <= 0 || sliceSize % al != 0
                || cnt <= 0 || cnt > Integer.MAX_VALUE || (flags & ~(FLAGS_SINGLE_THREADED | FLAGS_THREAD_CACHE)) != 0
                || ent != ((flags & FLAGS_THREAD_CACHE) != 0 ? ENTRIES : 0)
                || Mem.getLong(memory, offset + OFF_NEXT_AT) != nextArray(ent)
                || Mem.getLong(memory, offset + OFF_STATE_AT) != stateArray(ent, cnt)
                || Mem.getLong(memory, offset + OFF_SLICES_AT) != slicesStart(offset, ent, cnt, al)
                || FixedPoolLayout.bytesNeeded(offset, ent, sliceSize, cnt, al) > length) {
            throw new SegmentCorruptedException("fixed pool '" + name + "' at offset=" + offset
                    + ": inconsistent header sliceSize=" + sliceSize + " count=" + cnt + " align=" + al
                    + " flags=" + flags + " entries=" + ent + " length=" + length);
        }
        boolean single = (flags & FLAGS_SINGLE_THREADED) != 0;
        AllocLock l = single ? AllocLock.lastUser(memory, offset + OFF_LOCK, false)
                : AllocLock.openRobust(memory, offset + OFF_LOCK);
        return new FixedPool(name, memory, offset, l);
    }

    private static void checkParams(long sliceSize, int count, long align) {
        if (align <= 0 || Long.bitCount(align) != 1 || align > Segment.PAGE_SIZE) {
            throw new IllegalArgumentException("align must be a power of two <= 4096: align=" + align);
        }
        if (sliceSize <= 0 || sliceSize > (1L << 40)) {
            throw new IllegalArgumentException("sliceSize must be in [1, 2^40]: sliceSize=" + sliceSize);
        }
        if (count <= 0) {
            throw new IllegalArgumentException("count must be positive: count=" + count);
        }
    }

    private static FixedPool init(String name, MemorySegment m, long base, long length, long sliceSize, int count,
                                  long align, SyncMode mode) {
        Structures.checkRange(m, base, length, "fixed pool '" + name + "'");
        long size = sliceSizeFor(sliceSize, align);
        int ent = entriesFor(mode);
        long need = FixedPoolLayout.bytesNeeded(base, ent, size, count, align);
        if (need > length || base + length > m.byteSize()) {
            throw new IllegalArgumentException("range too small for fixed pool '" + name + "': length=" + length
                    + " needed=" + need);
        }
        m.asSlice(base, nextArray(ent)).fill((byte) 0);
        Mem.setLong(m, base + OFF_SLICE_SIZE, size);
        Mem.setLong(m, base + OFF_SLICE_COUNT, count);
        Mem.setLong(m, base + OFF_ALIGN, align);
        Mem.setLong(m, base + OFF_FLAGS, switch (mode) {
            case LOCKED -> 0L;
            case THREAD_CACHED -> FLAGS_THREAD_CACHE;
            case SINGLE_THREADED -> FLAGS_SINGLE_THREADED;
        });
        Mem.setLong(m, base + OFF_CACHE_ENTRIES, ent);
        Mem.setLong(m, base + OFF_SLICES_AT, slicesStart(base, ent, count, align));
        Mem.setLong(m, base + OFF_NEXT_AT, nextArray(ent));
        Mem.setLong(m, base + OFF_STATE_AT, stateArray(ent, count));
        Mem.setInt(m, base + OFF_HEAD, 0);
        long nextAt = base + nextArray(ent);
        for (int i = 0; i < count; i++) {
            Mem.setInt(m, nextAt + 4L * i, i + 1 < count ? i + 1 : LINK_NONE);
        }
        m.asSlice(base + stateArray(ent, count), stateBytes(count)).fill(STATE_FREE);
        AllocLock l = mode == SyncMode.SINGLE_THREADED ? AllocLock.lastUser(m, base + OFF_LOCK, true)
                : AllocLock.createRobust(m, base + OFF_LOCK);
        Formats.publish(m, base + OFF_MAGIC, MAGIC, base + OFF_FORMAT, FORMAT); // openers that see the magic see the header
        return new FixedPool(name, m, base, l);
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

    /** Bytes per slice. */
    public long sliceSize() {
        return sliceSize;
    }

    /** Number of slices. */
    public int slices() {
        return count;
    }

    @Override
    public SyncMode mode() {
        return mode;
    }

    /** Slices currently allocated (not free, not in a thread cache). */
    public long usedSlices() {
        return stats().allocations();
    }

    /** Whether the slice at {@code offset} is allocated (a snapshot). */
    public boolean isAllocated(long offset) {
        int index = sliceIndex(offset);
        return index >= 0 && Mem.getByte(m, stateAt(index)) == STATE_USED;
    }

    // ------------------------------------------------------------------ allocate

    /** Allocates one slice (equivalent to {@code allocate(sliceSize())}). */
    public long allocateSlice() {
        return allocate(sliceSize, DEFAULT_ALIGN);
    }

    @Override
    public long allocate(long size, long align) {
        long off = tryAllocate(size, align);
        if (off == 0) {
            throw new OutOfSharedMemoryException("fixed pool '" + name + "': cannot allocate size=" + size
                    + " align=" + align + ", free slices=0 of " + count + " (sliceSize=" + sliceSize
                    + (mode == SyncMode.THREAD_CACHED ? "; other threads' caches may hold some" : "") + ")");
        }
        return off;
    }

    @Override
    public long tryAllocate(long size, long align) {
        if (size <= 0 || size > sliceSize) {
            throw new IllegalArgumentException("fixed pool '" + name + "': size must be in [1, " + sliceSize
                    + "]: size=" + size);
        }
        if (align <= 0 || Long.bitCount(align) != 1 || align > this.align) {
            throw new IllegalArgumentException("fixed pool '" + name + "': align must be a power of two <= "
                    + this.align + ": align=" + align);
        }
        if (caches != null) {
            FixedPoolCaches.Cache c = caches.get();
            if (c.entry >= 0) {
                return cached.allocateCached(c);
            }
        }
        lockAndRepair();
        try {
            return allocateLocked();
        } finally {
            lock.unlock();
        }
    }

    private long allocateLocked() {
        MemorySegment m = this.m;
        long base = this.base;
        Mem.setLong(m, base + OFF_REQUESTS, Mem.getLong(m, base + OFF_REQUESTS) + 1);
        int head = popFree();
        if (head == LINK_NONE && reclaimDeadCaches() > 0) {
            head = popFree();
        }
        if (head == LINK_NONE) {
            Mem.setLong(m, base + OFF_FAILURES, Mem.getLong(m, base + OFF_FAILURES) + 1);
            return 0;
        }
        Mem.setByte(m, stateAt(head), STATE_USED); // the commit: source of truth says used
        return slices + head * sliceSize;
    }

    /**
     * Unlinks the first free slice (lock held) and counts it as taken; returns its index or
     * {@code FixedPoolLayout.LINK_NONE}. The caller then commits it by writing its state byte.
     */
    int popFree() {
        int head = Mem.getInt(m, base + OFF_HEAD);
        if (head == LINK_NONE) {
            return LINK_NONE;
        }
        if (head < 0 || head >= count || Mem.getByte(m, stateAt(head)) != STATE_FREE) {
            throw corrupt("free-list head at offset=" + (base + OFF_HEAD) + " is slice " + head + ", which is "
                    + (head < 0 || head >= count ? "out of range [0, " + count + ")" : "not free"));
        }
        Mem.setInt(m, base + OFF_HEAD, Mem.getInt(m, next + 4L * head));
        Mem.setLong(m, base + OFF_USED, Mem.getLong(m, base + OFF_USED) + 1);
        return head;
    }

    /** Links slice {@code index}, already marked free, at the head of the list (lock held). */
    void pushFree(int index) {
        Mem.setInt(m, next + 4L * index, Mem.getInt(m, base + OFF_HEAD));
        Mem.setInt(m, base + OFF_HEAD, index);
        Mem.setLong(m, base + OFF_USED, Mem.getLong(m, base + OFF_USED) - 1);
    }

    // ------------------------------------------------------------------ free

    /** Segment offset of slice {@code index}'s state byte (see {@code FixedPoolLayout.statePosition}). */
    long stateAt(int index) {
        return state + (index & 63) * stateStride + (index >>> 6);
    }

    /** Index of the slice starting at {@code offset}, or -1 (no division for power-of-two sizes). */
    private int sliceIndex(long offset) {
        long rel = offset - slices;
        if (offset < slices || offset >= slicesEnd) {
            return -1;
        }
        if (sliceShift >= 0) {
            return (rel & (sliceSize - 1)) == 0 ? (int) (rel >>> sliceShift) : -1;
        }
        long index = rel / sliceSize;
        return index * sliceSize == rel ? (int) index : -1;
    }

    @Override
    public void free(long offset) {
        int index = sliceIndex(offset);
        if (index < 0) {
            throw new IllegalArgumentException("fixed pool '" + name + "': offset=" + offset
                    + " is not the start of a slice of this pool");
        }
        if (caches != null) {
            FixedPoolCaches.Cache c = caches.get();
            if (c.entry >= 0) {
                cached.freeCached(c, offset, index);
                return;
            }
        }
        lockAndRepair();
        try {
            checkUsed(offset, index);
            Mem.setByte(m, stateAt(index), STATE_FREE); // the commit: source of truth says free
            pushFree(index);
        } finally {
            lock.unlock();
        }
    }

    private void checkUsed(long offset, int index) {
        byte s = Mem.getByte(m, stateAt(index));
        if (s != STATE_USED) {
            throw notAllocated(offset, index, s);
        }
    }

    IllegalArgumentException notAllocated(long offset, int index, byte s) {
        return new IllegalArgumentException("fixed pool '" + name + "': offset=" + offset + " (slice " + index
                + ") is not allocated (" + (s == STATE_FREE ? "double free?"
                : s >= STATE_CACHED && s < STATE_CACHED + entries ? "it is in a thread cache; double free?"
                : "its state byte is " + s + "; corrupted?") + ")");
    }

    // ------------------------------------------------------------------ thread cache registry

    private long entryAt(int e) {
        return core.entryAt(e);
    }

    /**
     * Thread caches this instance gave back to the shared list because their process died or
     * their thread ended (process-local count, for diagnostics and tests).
     */
    public long reclaimedCaches() {
        return core.reclaimed();
    }

    /**
     * Returns the slices cached by threads of dead processes, and by threads of this process
     * that ended without {@link #releaseThreadCache()}, to the shared list and frees their
     * registry entries (lock held). Returns the number of entries freed.
     */
    private int reclaimDeadCaches() {
        return core.reclaimDead();
    }

    /**
     * Returns the calling thread's cached slices to the shared list and gives up its registry
     * entry (thread-cached mode; no effect otherwise). Call it before a thread that used the
     * pool ends if the process lives on.
     */
    public void releaseThreadCache() {
        core.releaseCurrent();
    }

    // ------------------------------------------------------------------ stats / verify / repair

    @Override
    public AllocatorStats stats() {
        lockAndRepair();
        try {
            long out = Mem.getLong(m, base + OFF_USED);
            long requests = Mem.getLong(m, base + OFF_REQUESTS);
            for (int e = 0; e < entries; e++) {
                long at = entryAt(e);
                if (OwnerRecords.inUse(m, at)) {
                    long word = Mem.getLongAcquire(m, at + Entry.OFF_CACHE_WORD); // acquire: a snapshot of the owner's word
                    out -= word & CACHE_COUNT_MASK;
                    requests += word >>> CACHE_COUNT_BITS;
                }
            }
            return new AllocatorStats("fixed-pool", name, sliceSize * count, out * sliceSize, out,
                    requests, Mem.getLong(m, base + OFF_FAILURES));
        } finally {
            lock.unlock();
        }
    }

    /** Slices held in thread caches (thread-cached mode), a snapshot. */
    public long cachedSlices() {
        long n = 0;
        for (int e = 0; e < entries; e++) {
            long at = entryAt(e);
            if (OwnerRecords.inUse(m, at)) {
                n += Mem.getLong(m, at + Entry.OFF_CACHE_WORD) & CACHE_COUNT_MASK;
            }
        }
        return n;
    }

    @Override
    public void verify() {
        lockAndRepair();
        try {
            reclaimDeadCaches();
            new FixedPoolVerifier(this, core, m, base, count, next).verify();
        } finally {
            lock.unlock();
        }
    }

    SegmentCorruptedException corrupt(String what) {
        return new SegmentCorruptedException("fixed pool '" + name + "' at offset=" + base + ": " + what);
    }

    private void lockAndRepair() {
        if (lock.lock()) { // the common case is this call alone
            core.repairTakeover();
        }
    }

    /**
     * Rebuilds the free list and the used counter from the state bytes (lock held); the core
     * then returns dead processes' cached slices. A slice marked as cached by a registry entry
     * that is not in use (only damage can leave one) is freed.
     */
    void rebuild() {
        int head = LINK_NONE;
        long taken = 0;
        for (int i = count - 1; i >= 0; i--) {
            byte s = Mem.getByte(m, stateAt(i));
            int e = s - STATE_CACHED;
            if (e >= 0 && e < entries && !core.inUse(e)) {
                Mem.setByte(m, stateAt(i), STATE_FREE); // in a cache nobody owns: free again
                s = STATE_FREE;
            }
            if (s == STATE_FREE) {
                Mem.setInt(m, next + 4L * i, head);
                head = i;
            } else if (s == STATE_USED || (e >= 0 && e < entries)) {
                taken++;
            } else {
                throw corrupt("cannot repair: state byte of slice " + i + " at offset=" + stateAt(i) + " is " + s);
            }
        }
        Mem.setInt(m, base + OFF_HEAD, head);
        Mem.setLong(m, base + OFF_USED, taken);
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
        return "FixedPool[" + name + ", sliceSize=" + sliceSize + ", slices=" + count + ", " + mode + "]";
    }
}
