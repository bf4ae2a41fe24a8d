package io.shmkit.alloc;

import io.shmkit.LayoutMismatchException;
import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.FixedPoolLayout;
import io.shmkit.internal.OwnerTable;
import io.shmkit.internal.Procs;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.BitSet;

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
 *       a registry of {@value io.shmkit.internal.FixedPoolLayout#ENTRIES} in the header; a
 *       thread that finds the registry full falls back to the locked path. A cached slice's
 *       state byte names the registry entry that holds it, so a cache hit is one byte store
 *       (plus a statistics word in the thread's own registry entry), and freeing a cached slice
 *       again is detected from the same byte.</li>
 *   <li>{@link SyncMode#SINGLE_THREADED}: no lock at all; callers serialise every call themselves
 *       (for callers that hold their own lock). A busy word set before and cleared after each
 *       operation tells the next call that a process was killed inside one, and that call
 *       repairs from the state bytes as after a dead lock owner.</li>
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
 * before it goes on. Slices in the caches of a process that died (its pid is gone, or now
 * belongs to a process with another start time) are found by their state bytes and returned to
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

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

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
    /** Liveness of registry owners: the attach table of the segment this structure is in. */
    private final OwnerTable owners;
    /** See {@link #reclaimedCaches()}; written under the lock. */
    private long reclaimedCaches;
    private final ThreadCaches<Cache> caches; // null without thread caches

    /** A thread's cache: the indices of the slices whose state byte is {@code mark}. */
    private static final class Cache extends ThreadCaches.Cache {
        final byte mark;          // state byte of a slice in this cache
        final int[] stack = new int[CACHE_SLICES];
        int n;
        long requests;            // served from this cache; packed with n into the entry's cache word

        Cache(int entry, long entryAt) {
            super(entry, entryAt);
            this.mark = (byte) (STATE_CACHED + Math.max(entry, 0));
        }
    }

    private FixedPool(String name, MemorySegment m, long base, AllocLock lock) {
        this.name = name;
        this.m = m;
        this.base = base;
        this.sliceSize = m.get(ValueLayout.JAVA_LONG, base + SLICE_SIZE);
        this.count = (int) m.get(ValueLayout.JAVA_LONG, base + SLICE_COUNT);
        this.align = m.get(ValueLayout.JAVA_LONG, base + ALIGN);
        this.slices = base + m.get(ValueLayout.JAVA_LONG, base + SLICES_AT);
        this.slicesEnd = slices + sliceSize * count;
        this.sliceShift = Long.bitCount(sliceSize) == 1 ? Long.numberOfTrailingZeros(sliceSize) : -1;
        this.next = base + m.get(ValueLayout.JAVA_LONG, base + NEXT_AT);
        this.state = base + m.get(ValueLayout.JAVA_LONG, base + STATE_AT);
        this.stateStride = stateBytes(count) / 64;
        this.entries = (int) m.get(ValueLayout.JAVA_LONG, base + CACHE_ENTRIES);
        long flags = m.get(ValueLayout.JAVA_LONG, base + FLAGS);
        this.mode = (flags & FLAG_SINGLE_THREADED) != 0 ? SyncMode.SINGLE_THREADED
                : (flags & FLAG_THREAD_CACHE) != 0 ? SyncMode.THREAD_CACHED : SyncMode.LOCKED;
        this.lock = lock;
        this.owners = OwnerTable.of(m, base);
        this.caches = mode == SyncMode.THREAD_CACHED ? new ThreadCaches<>(entries, this::register) : null;
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
    public static FixedPool create(MemorySegment memory, long offset, long length, String name, long sliceSize,
                                   int count, long align, SyncMode mode) {
        checkParams(sliceSize, count, align);
        return init(name, memory, offset, length, sliceSize, count, align, mode);
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

    /** Opens a pool created in a raw range. */
    public static FixedPool open(MemorySegment memory, long offset, long length, String name) {
        Structures.checkRange(memory, offset, length, "fixed pool '" + name + "'");
        long oldMagic = memory.get(ValueLayout.JAVA_LONG, offset + MAGIC);
        if (oldMagic == MAGIC_FORMAT_1 || oldMagic == MAGIC_FORMAT_2) {
            throw new LayoutMismatchException("fixed pool '" + name + "' at offset=" + offset + " has format "
                    + (oldMagic == MAGIC_FORMAT_1 ? 1 : 2) + " (an older shmkit); this library reads format 3: recreate"
                    + " the pool");
        }
        Structures.awaitMagic(memory, offset + MAGIC, MAGIC_VALUE, "fixed pool '" + name + "'");
        long sliceSize = memory.get(ValueLayout.JAVA_LONG, offset + SLICE_SIZE);
        long cnt = memory.get(ValueLayout.JAVA_LONG, offset + SLICE_COUNT);
        long al = memory.get(ValueLayout.JAVA_LONG, offset + ALIGN);
        long flags = memory.get(ValueLayout.JAVA_LONG, offset + FLAGS);
        long ent = memory.get(ValueLayout.JAVA_LONG, offset + CACHE_ENTRIES);
        if (al <= 0 || Long.bitCount(al) != 1 || al > Segment.PAGE_SIZE || sliceSize <= 0 || sliceSize % al != 0
                || cnt <= 0 || cnt > Integer.MAX_VALUE || (flags & ~(FLAG_SINGLE_THREADED | FLAG_THREAD_CACHE)) != 0
                || ent != ((flags & FLAG_THREAD_CACHE) != 0 ? ENTRIES : 0)
                || memory.get(ValueLayout.JAVA_LONG, offset + NEXT_AT) != nextArray(ent)
                || memory.get(ValueLayout.JAVA_LONG, offset + STATE_AT) != stateArray(ent, cnt)
                || memory.get(ValueLayout.JAVA_LONG, offset + SLICES_AT) != slicesStart(offset, ent, cnt, al)
                || FixedPoolLayout.bytesNeeded(offset, ent, sliceSize, cnt, al) > length) {
            throw new SegmentCorruptedException("fixed pool '" + name + "' at offset=" + offset
                    + ": inconsistent header sliceSize=" + sliceSize + " count=" + cnt + " align=" + al
                    + " flags=" + flags + " entries=" + ent + " length=" + length);
        }
        boolean single = (flags & FLAG_SINGLE_THREADED) != 0;
        AllocLock l = single ? AllocLock.busyWord(memory, offset + LOCK, false)
                : AllocLock.openRobust(memory, offset + LOCK);
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
        m.set(ValueLayout.JAVA_LONG, base + SLICE_SIZE, size);
        m.set(ValueLayout.JAVA_LONG, base + SLICE_COUNT, count);
        m.set(ValueLayout.JAVA_LONG, base + ALIGN, align);
        m.set(ValueLayout.JAVA_LONG, base + FLAGS, switch (mode) {
            case LOCKED -> 0L;
            case THREAD_CACHED -> FLAG_THREAD_CACHE;
            case SINGLE_THREADED -> FLAG_SINGLE_THREADED;
        });
        m.set(ValueLayout.JAVA_LONG, base + CACHE_ENTRIES, ent);
        m.set(ValueLayout.JAVA_LONG, base + SLICES_AT, slicesStart(base, ent, count, align));
        m.set(ValueLayout.JAVA_LONG, base + NEXT_AT, nextArray(ent));
        m.set(ValueLayout.JAVA_LONG, base + STATE_AT, stateArray(ent, count));
        m.set(ValueLayout.JAVA_INT, base + HEAD, 0);
        long nextAt = base + nextArray(ent);
        for (int i = 0; i < count; i++) {
            m.set(ValueLayout.JAVA_INT, nextAt + 4L * i, i + 1 < count ? i + 1 : NONE);
        }
        m.asSlice(base + stateArray(ent, count), stateBytes(count)).fill(STATE_FREE);
        AllocLock l = mode == SyncMode.SINGLE_THREADED ? AllocLock.busyWord(m, base + LOCK, true)
                : AllocLock.createRobust(m, base + LOCK);
        LONG.setRelease(m, base + MAGIC, MAGIC_VALUE); // release: openers that see the magic see the header
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
        return index >= 0 && m.get(ValueLayout.JAVA_BYTE, stateAt(index)) == STATE_USED;
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
            Cache c = caches.get();
            if (c.entry >= 0) {
                return allocateCached(c);
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
        m.set(ValueLayout.JAVA_LONG, base + REQUESTS, m.get(ValueLayout.JAVA_LONG, base + REQUESTS) + 1);
        int head = popFree();
        if (head == NONE && reclaimDeadCaches() > 0) {
            head = popFree();
        }
        if (head == NONE) {
            m.set(ValueLayout.JAVA_LONG, base + FAILURES, m.get(ValueLayout.JAVA_LONG, base + FAILURES) + 1);
            return 0;
        }
        m.set(ValueLayout.JAVA_BYTE, stateAt(head), STATE_USED); // the commit: source of truth says used
        return slices + head * sliceSize;
    }

    /**
     * Unlinks the first free slice (lock held) and counts it as taken; returns its index or
     * {@link FixedPoolLayout#NONE}. The caller then commits it by writing its state byte.
     */
    private int popFree() {
        int head = m.get(ValueLayout.JAVA_INT, base + HEAD);
        if (head == NONE) {
            return NONE;
        }
        if (head < 0 || head >= count || m.get(ValueLayout.JAVA_BYTE, stateAt(head)) != STATE_FREE) {
            throw corrupt("free-list head at offset=" + (base + HEAD) + " is slice " + head + ", which is "
                    + (head < 0 || head >= count ? "out of range [0, " + count + ")" : "not free"));
        }
        m.set(ValueLayout.JAVA_INT, base + HEAD, m.get(ValueLayout.JAVA_INT, next + 4L * head));
        m.set(ValueLayout.JAVA_LONG, base + USED, m.get(ValueLayout.JAVA_LONG, base + USED) + 1);
        return head;
    }

    /** Links slice {@code index}, already marked free, at the head of the list (lock held). */
    private void pushFree(int index) {
        m.set(ValueLayout.JAVA_INT, next + 4L * index, m.get(ValueLayout.JAVA_INT, base + HEAD));
        m.set(ValueLayout.JAVA_INT, base + HEAD, index);
        m.set(ValueLayout.JAVA_LONG, base + USED, m.get(ValueLayout.JAVA_LONG, base + USED) - 1);
    }

    private long allocateCached(Cache c) {
        MemorySegment m = this.m;
        if (c.n == 0 && !refill(c)) {
            return 0;
        }
        int n = c.n - 1;
        int index = c.stack[n];
        c.n = n;
        m.set(ValueLayout.JAVA_BYTE, stateAt(index), STATE_USED); // the commit: cached -> allocated
        m.set(ValueLayout.JAVA_LONG, c.entryAt + E_CACHED, cacheWord(++c.requests, n)); // statistics only
        return slices + index * sliceSize;
    }

    /** A registry entry's cache word, for statistics: requests served from the cache, and the cached count. */
    private static long cacheWord(long requests, int n) {
        return (requests << CACHE_COUNT_BITS) | n;
    }

    /** Moves up to {@link #CACHE_BATCH} slices from the shared list into the empty cache {@code c}. */
    private boolean refill(Cache c) {
        lockAndRepair();
        try {
            int n = 0;
            while (n < CACHE_BATCH) {
                int head = popFree();
                if (head == NONE && n == 0 && reclaimDeadCaches() > 0) {
                    head = popFree();
                }
                if (head == NONE) {
                    break;
                }
                m.set(ValueLayout.JAVA_BYTE, stateAt(head), c.mark); // the commit: in this thread's cache
                c.stack[n++] = head;
            }
            c.n = n;
            m.set(ValueLayout.JAVA_LONG, c.entryAt + E_CACHED, cacheWord(c.requests, n));
            if (n == 0) {
                m.set(ValueLayout.JAVA_LONG, base + REQUESTS, m.get(ValueLayout.JAVA_LONG, base + REQUESTS) + 1);
                m.set(ValueLayout.JAVA_LONG, base + FAILURES, m.get(ValueLayout.JAVA_LONG, base + FAILURES) + 1);
                return false;
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ free

    /** Segment offset of slice {@code index}'s state byte (see {@link FixedPoolLayout#statePosition}). */
    private long stateAt(int index) {
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
            Cache c = caches.get();
            if (c.entry >= 0) {
                freeCached(c, offset, index);
                return;
            }
        }
        lockAndRepair();
        try {
            checkUsed(offset, index);
            m.set(ValueLayout.JAVA_BYTE, stateAt(index), STATE_FREE); // the commit: source of truth says free
            pushFree(index);
        } finally {
            lock.unlock();
        }
    }

    private void checkUsed(long offset, int index) {
        byte s = m.get(ValueLayout.JAVA_BYTE, stateAt(index));
        if (s != STATE_USED) {
            throw notAllocated(offset, index, s);
        }
    }

    private IllegalArgumentException notAllocated(long offset, int index, byte s) {
        return new IllegalArgumentException("fixed pool '" + name + "': offset=" + offset + " (slice " + index
                + ") is not allocated (" + (s == STATE_FREE ? "double free?"
                : s >= STATE_CACHED && s < STATE_CACHED + entries ? "it is in a thread cache; double free?"
                : "its state byte is " + s + "; corrupted?") + ")");
    }

    private void freeCached(Cache c, long offset, int index) {
        MemorySegment m = this.m;
        byte s = m.get(ValueLayout.JAVA_BYTE, stateAt(index));
        if (s != STATE_USED) {
            throw notAllocated(offset, index, s);
        }
        if (c.n == CACHE_SLICES) {
            drain(c, CACHE_BATCH);
        }
        int n = c.n;
        c.stack[n] = index;
        c.n = n + 1;
        m.set(ValueLayout.JAVA_BYTE, stateAt(index), c.mark); // the commit: allocated -> in this thread's cache
        m.set(ValueLayout.JAVA_LONG, c.entryAt + E_CACHED, cacheWord(c.requests, n + 1)); // statistics only
    }

    /** Returns {@code k} slices of cache {@code c} to the shared list. */
    private void drain(Cache c, int k) {
        lockAndRepair();
        try {
            for (int i = 0; i < k && c.n > 0; i++) {
                int index = c.stack[--c.n];
                m.set(ValueLayout.JAVA_BYTE, stateAt(index), STATE_FREE); // the commit: back on the shared list
                pushFree(index);
            }
            m.set(ValueLayout.JAVA_LONG, c.entryAt + E_CACHED, cacheWord(c.requests, c.n));
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ thread cache registry

    private Cache register() {
        lockAndRepair();
        try {
            for (int pass = 0; pass < 2; pass++) {
                for (int e = 0; e < entries; e++) {
                    long at = entryAt(e);
                    if (m.get(ValueLayout.JAVA_INT, at + E_IN_USE) == 0) {
                        m.asSlice(at, ENTRY_BYTES).fill((byte) 0);
                        m.set(ValueLayout.JAVA_INT, at + E_OWNER, owners.id());
                        m.set(ValueLayout.JAVA_LONG, at + E_PID, Procs.PID); // diagnostics
                        m.set(ValueLayout.JAVA_LONG, at + E_THREAD, Thread.currentThread().threadId());
                        m.set(ValueLayout.JAVA_INT, at + E_IN_USE, 1);
                        Cache c = new Cache(e, at);
                        caches.registered(c);
                        return c;
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

    private long entryAt(int e) {
        return base + REGISTRY + ENTRY_BYTES * e;
    }

    /**
     * Returns the slices cached by threads of dead processes, and by threads of this process
     * that ended without {@link #releaseThreadCache()}, to the shared list and frees their
     * registry entries (lock held). Returns the number of entries freed.
     */
    /**
     * Thread caches this instance gave back to the shared list because their process died or
     * their thread ended (process-local count, for diagnostics and tests).
     */
    public long reclaimedCaches() {
        return reclaimedCaches;
    }

    private int reclaimDeadCaches() {
        long deadMask = 0; // entries of dead processes: their slices are found by a scan of the state bytes
        int freed = 0;
        for (int e = 0; e < entries; e++) {
            long at = entryAt(e);
            if (m.get(ValueLayout.JAVA_INT, at + E_IN_USE) == 0) {
                continue;
            }
            int owner = m.get(ValueLayout.JAVA_INT, at + E_OWNER);
            if (owner == owners.id() || (caches != null && caches.holds(e))) { // ours, whatever a stray write says
                Cache c = caches.ended(e);
                if (c != null) {
                    emptyLocal(c);
                    freed++;
                }
            } else if (owners.check(owner).dead()) { // positive evidence only: unknown keeps its slices
                deadMask |= 1L << e;
            }
        }
        if (deadMask != 0) {
            for (int i = 0; i < count; i++) {
                int e = m.get(ValueLayout.JAVA_BYTE, stateAt(i)) - STATE_CACHED;
                if (e >= 0 && e < entries && (deadMask >>> e & 1) != 0) {
                    m.set(ValueLayout.JAVA_BYTE, stateAt(i), STATE_FREE);
                    pushFree(i);
                }
            }
            for (long mask = deadMask; mask != 0; mask &= mask - 1) {
                releaseEntry(entryAt(Long.numberOfTrailingZeros(mask)));
                freed++;
            }
        }
        reclaimedCaches += freed;
        return freed;
    }

    /** Returns the slices of cache {@code c} (its thread is the caller or has ended) and its entry (lock held). */
    private void emptyLocal(Cache c) {
        for (int i = c.n - 1; i >= 0; i--) {
            int index = c.stack[i];
            if (m.get(ValueLayout.JAVA_BYTE, stateAt(index)) == c.mark) {
                m.set(ValueLayout.JAVA_BYTE, stateAt(index), STATE_FREE);
                pushFree(index);
            }
        }
        c.n = 0;
        caches.forget(c);
        releaseEntry(c.entryAt);
    }

    /** Folds the request counter of the registry entry at {@code at} into the pool's and frees the entry (lock held). */
    private void releaseEntry(long at) {
        long word = m.get(ValueLayout.JAVA_LONG, at + E_CACHED);
        m.set(ValueLayout.JAVA_LONG, base + REQUESTS, m.get(ValueLayout.JAVA_LONG, base + REQUESTS)
                + (word >>> CACHE_COUNT_BITS));
        m.set(ValueLayout.JAVA_LONG, at + E_CACHED, 0);
        m.set(ValueLayout.JAVA_INT, at + E_IN_USE, 0);
    }

    /**
     * Returns the calling thread's cached slices to the shared list and gives up its registry
     * entry (thread-cached mode; no effect otherwise). Call it before a thread that used the
     * pool ends if the process lives on.
     */
    public void releaseThreadCache() {
        if (caches == null) {
            return;
        }
        Cache c = caches.removeCurrent();
        if (c == null) {
            return; // this thread never used the allocator
        }
        if (c.entry < 0) {
            caches.forget(c);
            return;
        }
        lockAndRepair();
        try {
            emptyLocal(c);
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ stats / verify / repair

    @Override
    public AllocatorStats stats() {
        lockAndRepair();
        try {
            long out = m.get(ValueLayout.JAVA_LONG, base + USED);
            long requests = m.get(ValueLayout.JAVA_LONG, base + REQUESTS);
            for (int e = 0; e < entries; e++) {
                long at = entryAt(e);
                if (m.get(ValueLayout.JAVA_INT, at + E_IN_USE) != 0) {
                    long word = (long) LONG.getAcquire(m, at + E_CACHED); // acquire: a snapshot of the owner's word
                    out -= word & CACHE_COUNT_MASK;
                    requests += word >>> CACHE_COUNT_BITS;
                }
            }
            return new AllocatorStats("fixed-pool", name, sliceSize * count, out * sliceSize, out,
                    requests, m.get(ValueLayout.JAVA_LONG, base + FAILURES));
        } finally {
            lock.unlock();
        }
    }

    /** Slices held in thread caches (thread-cached mode), a snapshot. */
    public long cachedSlices() {
        long n = 0;
        for (int e = 0; e < entries; e++) {
            long at = entryAt(e);
            if (m.get(ValueLayout.JAVA_INT, at + E_IN_USE) != 0) {
                n += m.get(ValueLayout.JAVA_LONG, at + E_CACHED) & CACHE_COUNT_MASK;
            }
        }
        return n;
    }

    @Override
    public void verify() {
        lockAndRepair();
        try {
            reclaimDeadCaches();
            verifyLocked();
        } finally {
            lock.unlock();
        }
    }

    private void verifyLocked() {
        long inUse = 0;
        for (int e = 0; e < entries; e++) {
            long at = entryAt(e);
            if (m.get(ValueLayout.JAVA_INT, at + E_IN_USE) == 0) {
                continue;
            }
            inUse |= 1L << e;
            long n = (long) LONG.getAcquire(m, at + E_CACHED) & CACHE_COUNT_MASK; // acquire: a snapshot of the owner's word
            if (n > CACHE_SLICES) {
                throw corrupt("thread cache " + e + ": count at offset=" + (at + E_CACHED) + " is " + n
                        + ", more than " + CACHE_SLICES);
            }
        }
        long taken = 0;
        for (int i = 0; i < count; i++) {
            byte s = m.get(ValueLayout.JAVA_BYTE, stateAt(i));
            int e = s - STATE_CACHED;
            if (s == STATE_USED) {
                taken++;
            } else if (e >= 0 && e < entries) {
                if ((inUse >>> e & 1) == 0) {
                    throw corrupt("state byte of slice " + i + " at offset=" + stateAt(i) + " is " + s
                            + ": in thread cache " + e + ", which no thread owns");
                }
                taken++;
            } else if (s != STATE_FREE) {
                throw corrupt("state byte of slice " + i + " at offset=" + stateAt(i) + " is " + s
                        + ", expected 0 (free), 1 (used)" + (entries > 0 ? " or " + STATE_CACHED + ".."
                        + (STATE_CACHED + entries - 1) + " (cached)" : ""));
            }
        }
        long used = m.get(ValueLayout.JAVA_LONG, base + USED);
        if (used != taken) {
            throw corrupt("used counter at offset=" + (base + USED) + " is " + used + " but " + taken
                    + " slices are marked used");
        }
        BitSet seen = new BitSet(count);
        int cur = m.get(ValueLayout.JAVA_INT, base + HEAD);
        long where = base + HEAD;
        long listed = 0;
        while (cur != NONE) {
            if (cur < 0 || cur >= count) {
                throw corrupt("free-list link at offset=" + where + " is " + cur + ", out of range [0, " + count + ")");
            }
            if (seen.get(cur)) {
                throw corrupt("free list has a cycle: slice " + cur + " listed twice (link at offset=" + where + ")");
            }
            if (m.get(ValueLayout.JAVA_BYTE, stateAt(cur)) != STATE_FREE) {
                throw corrupt("slice " + cur + " is on the free list (link at offset=" + where
                        + ") but its state byte says used");
            }
            seen.set(cur);
            listed++;
            where = next + 4L * cur;
            cur = m.get(ValueLayout.JAVA_INT, where);
        }
        if (listed != count - taken) {
            throw corrupt("free list holds " + listed + " slices but " + (count - taken)
                    + " are marked free (free slices missing from the list)");
        }
    }

    private SegmentCorruptedException corrupt(String what) {
        return new SegmentCorruptedException("fixed pool '" + name + "' at offset=" + base + ": " + what);
    }

    private void lockAndRepair() {
        if (lock.lock()) {
            try {
                repair();
            } catch (RuntimeException e) {
                lock.unlock();
                throw e;
            }
            lock.markConsistent();
        }
    }

    /**
     * Rebuilds the free list and the used counter from the state bytes (lock held), then
     * returns dead processes' cached slices. A slice marked as cached by a registry entry that
     * is not in use (only damage can leave one) is freed.
     */
    private void repair() {
        int head = NONE;
        long taken = 0;
        for (int i = count - 1; i >= 0; i--) {
            byte s = m.get(ValueLayout.JAVA_BYTE, stateAt(i));
            int e = s - STATE_CACHED;
            if (e >= 0 && e < entries && m.get(ValueLayout.JAVA_INT, entryAt(e) + E_IN_USE) == 0) {
                m.set(ValueLayout.JAVA_BYTE, stateAt(i), STATE_FREE); // in a cache nobody owns: free again
                s = STATE_FREE;
            }
            if (s == STATE_FREE) {
                m.set(ValueLayout.JAVA_INT, next + 4L * i, head);
                head = i;
            } else if (s == STATE_USED || (e >= 0 && e < entries)) {
                taken++;
            } else {
                throw corrupt("cannot repair: state byte of slice " + i + " at offset=" + stateAt(i) + " is " + s);
            }
        }
        m.set(ValueLayout.JAVA_INT, base + HEAD, head);
        m.set(ValueLayout.JAVA_LONG, base + USED, taken);
        reclaimDeadCaches();
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
        return "FixedPool[" + name + ", sliceSize=" + sliceSize + ", slices=" + count + ", " + mode + "]";
    }
}
