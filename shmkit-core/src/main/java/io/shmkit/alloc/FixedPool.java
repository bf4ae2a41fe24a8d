package io.shmkit.alloc;

import io.shmkit.LayoutMismatchException;
import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.SegmentCorruptedException;
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
 * <p><b>Thread and process safety.</b> By default every operation runs under a robust lock in
 * the pool's header, so any thread of any process that opened the pool may call any method.
 * A pool created with {@code singleThreaded = true} takes no lock; its callers must serialise
 * every call themselves (every process sees the same mode: it is stored in the header).
 *
 * <p><b>Publication.</b> A slice's contents written before {@link #free} are not visible to
 * the next owner through the allocator's ordering alone in single-threaded mode; in locked mode
 * the lock's release/acquire orders them.
 *
 * <p><b>Crash consistency.</b> The state bytes are the source of truth: a slice is allocated
 * exactly when its state byte is {@code 1}. Allocate sets the byte before it returns; free
 * clears it first. The free list and the {@code used} counter are derived data. If a process
 * dies holding the lock, the next locker is told so and rebuilds the free list and the counter
 * from the state bytes before it goes on. A process killed inside {@code allocate} may leak the
 * slice it was taking (its state byte says used; nobody will free it), never hands it out twice.
 *
 * <p><b>Why not lock-free.</b> A tagged Treiber stack makes the free-list pop one CAS, but
 * then the state byte and the list can no longer change together: a process killed between the
 * pop and the state store leaves a slice that is neither listed nor marked, and no other
 * process can tell that from an allocation in flight. The robust lock makes the repair
 * decidable; its uncontended cost is one CAS and one release store.
 *
 * <p><b>Errors.</b> Freeing an offset that is not the start of a slice, or a slice that is not
 * allocated, throws {@link IllegalArgumentException} naming the offset and changes nothing.
 * A corrupted free list is reported as {@link SegmentCorruptedException}; no walk is longer
 * than the slice count.
 */
public final class FixedPool implements SharedAllocator {

    /** Directory kind of a fixed pool. */
    public static final int KIND = 0x0103;

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final long OPEN_WAIT_NANOS = 1_000_000_000L;

    private final String name;
    private final MemorySegment m;
    private final long base;
    private final long sliceSize;
    private final int count;
    private final long align;
    private final long slices;   // segment offset of slice 0
    private final long slicesEnd;
    private final long next;     // segment offset of next[0]
    private final long state;    // segment offset of state[0]
    private final AllocLock lock;

    private FixedPool(String name, MemorySegment m, long base, AllocLock lock) {
        this.name = name;
        this.m = m;
        this.base = base;
        this.sliceSize = m.get(ValueLayout.JAVA_LONG, base + SLICE_SIZE);
        this.count = (int) m.get(ValueLayout.JAVA_LONG, base + SLICE_COUNT);
        this.align = m.get(ValueLayout.JAVA_LONG, base + ALIGN);
        this.slices = base + m.get(ValueLayout.JAVA_LONG, base + SLICES_AT);
        this.slicesEnd = slices + sliceSize * count;
        this.next = base + m.get(ValueLayout.JAVA_LONG, base + NEXT_AT);
        this.state = base + m.get(ValueLayout.JAVA_LONG, base + STATE_AT);
        this.lock = lock;
    }

    // ------------------------------------------------------------------ create / open

    /** Creates a locked pool of {@code count} slices of {@code sliceSize} bytes, 8-byte aligned. */
    public static FixedPool create(Segment segment, String name, long sliceSize, int count) {
        return create(segment, name, sliceSize, count, DEFAULT_ALIGN, false);
    }

    /**
     * Creates a pool in a new range of {@code segment} recorded under {@code name}.
     *
     * @param sliceSize      bytes per slice, rounded up to {@code align}
     * @param count          number of slices
     * @param align          alignment of every slice (power of two, at most 4096)
     * @param singleThreaded no lock: callers serialise every call themselves
     */
    public static FixedPool create(Segment segment, String name, long sliceSize, int count, long align,
                                   boolean singleThreaded) {
        long length = bytesNeeded(sliceSize, count, align);
        DirectoryEntry e = segment.reserve(name, KIND, length, 64);
        return init(name, segment.memory(), e.offset(), e.length(), sliceSize, count, align, singleThreaded);
    }

    /** Creates a pool in a raw range {@code [offset, offset + length)} of {@code memory} (offset 64-byte aligned). */
    public static FixedPool create(MemorySegment memory, long offset, long length, String name, long sliceSize,
                                   int count, long align, boolean singleThreaded) {
        checkParams(sliceSize, count, align);
        return init(name, memory, offset, length, sliceSize, count, align, singleThreaded);
    }

    /** Bytes a pool with these parameters needs in a raw range (at most; alignment padding included). */
    public static long bytesNeeded(long sliceSize, int count, long align) {
        checkParams(sliceSize, count, align);
        return io.shmkit.internal.FixedPoolLayout.bytesNeeded(0, roundUp(sliceSize, align), count, align)
                + Math.max(0, align - 64);
    }

    /** Opens the pool recorded under {@code name} in {@code segment}, created by any process. */
    public static FixedPool open(Segment segment, String name) {
        DirectoryEntry e = segment.lookup(name).orElseThrow(() -> new IllegalArgumentException(
                "no structure named '" + name + "' in segment " + segment.name()));
        if (e.kind() != KIND) {
            throw new LayoutMismatchException("structure '" + name + "' in segment " + segment.name()
                    + " has kind=0x" + Integer.toHexString(e.kind()) + ", expected fixed pool kind=0x"
                    + Integer.toHexString(KIND));
        }
        return open(segment.memory(), e.offset(), e.length(), name);
    }

    /** Opens a pool created in a raw range. */
    public static FixedPool open(MemorySegment memory, long offset, long length, String name) {
        awaitMagic(memory, offset, name);
        long sliceSize = memory.get(ValueLayout.JAVA_LONG, offset + SLICE_SIZE);
        long cnt = memory.get(ValueLayout.JAVA_LONG, offset + SLICE_COUNT);
        long al = memory.get(ValueLayout.JAVA_LONG, offset + ALIGN);
        if (al <= 0 || Long.bitCount(al) != 1 || al > Segment.PAGE_SIZE || sliceSize <= 0 || sliceSize % al != 0
                || cnt <= 0 || cnt > Integer.MAX_VALUE
                || memory.get(ValueLayout.JAVA_LONG, offset + NEXT_AT) != NEXT_ARRAY
                || memory.get(ValueLayout.JAVA_LONG, offset + STATE_AT) != stateArray(cnt)
                || memory.get(ValueLayout.JAVA_LONG, offset + SLICES_AT) != slicesStart(offset, cnt, al)
                || io.shmkit.internal.FixedPoolLayout.bytesNeeded(offset, sliceSize, cnt, al) > length) {
            throw new SegmentCorruptedException("fixed pool '" + name + "' at offset=" + offset
                    + ": inconsistent header sliceSize=" + sliceSize + " count=" + cnt + " align=" + al
                    + " length=" + length);
        }
        boolean single = (memory.get(ValueLayout.JAVA_LONG, offset + FLAGS) & FLAG_SINGLE_THREADED) != 0;
        AllocLock l = single ? AllocLock.NONE : AllocLock.openRobust(memory, offset + LOCK);
        return new FixedPool(name, memory, offset, l);
    }

    private static void awaitMagic(MemorySegment memory, long offset, String name) {
        long deadline = System.nanoTime() + OPEN_WAIT_NANOS;
        while (true) {
            long magic = (long) LONG.getAcquire(memory, offset + MAGIC); // acquire: header fields written before it
            if (magic == MAGIC_VALUE) {
                return;
            }
            if (magic != 0) {
                throw new LayoutMismatchException("structure '" + name + "' at offset=" + offset
                        + " is not a fixed pool: magic=0x" + Long.toHexString(magic));
            }
            if (System.nanoTime() > deadline) {
                throw new SegmentCorruptedException("fixed pool '" + name + "' at offset=" + offset
                        + " was never initialised (magic still 0 after 1 s; creator died?)");
            }
            Thread.onSpinWait();
            Thread.yield();
        }
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

    private static long roundUp(long v, long a) {
        return (v + a - 1) & -a;
    }

    private static FixedPool init(String name, MemorySegment m, long base, long length, long sliceSize, int count,
                                  long align, boolean singleThreaded) {
        if ((base & 63) != 0) {
            throw new IllegalArgumentException("range must be 64-byte aligned: offset=" + base);
        }
        long size = roundUp(sliceSize, align);
        long need = io.shmkit.internal.FixedPoolLayout.bytesNeeded(base, size, count, align);
        if (need > length || base + length > m.byteSize()) {
            throw new IllegalArgumentException("range too small for fixed pool '" + name + "': length=" + length
                    + " needed=" + need);
        }
        m.set(ValueLayout.JAVA_LONG, base + SLICE_SIZE, size);
        m.set(ValueLayout.JAVA_LONG, base + SLICE_COUNT, count);
        m.set(ValueLayout.JAVA_LONG, base + ALIGN, align);
        m.set(ValueLayout.JAVA_LONG, base + FLAGS, singleThreaded ? FLAG_SINGLE_THREADED : 0);
        m.set(ValueLayout.JAVA_LONG, base + SLICES_AT, slicesStart(base, count, align));
        m.set(ValueLayout.JAVA_LONG, base + NEXT_AT, NEXT_ARRAY);
        m.set(ValueLayout.JAVA_LONG, base + STATE_AT, stateArray(count));
        m.set(ValueLayout.JAVA_INT, base + HEAD, 0);
        m.set(ValueLayout.JAVA_LONG, base + USED, 0);
        m.set(ValueLayout.JAVA_LONG, base + REQUESTS, 0);
        m.set(ValueLayout.JAVA_LONG, base + FAILURES, 0);
        for (int i = 0; i < count; i++) {
            m.set(ValueLayout.JAVA_INT, base + NEXT_ARRAY + 4L * i, i + 1 < count ? i + 1 : NONE);
        }
        m.asSlice(base + stateArray(count), count).fill(STATE_FREE);
        AllocLock l = singleThreaded ? AllocLock.NONE : AllocLock.createRobust(m, base + LOCK);
        LONG.setRelease(m, base + MAGIC, MAGIC_VALUE); // release: openers that see the magic see the header
        return new FixedPool(name, m, base, l);
    }

    // ------------------------------------------------------------------ allocate / free

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

    /** Slices currently allocated. */
    public long usedSlices() {
        lockAndRepair();
        try {
            return m.get(ValueLayout.JAVA_LONG, base + USED);
        } finally {
            lock.unlock();
        }
    }

    /** Allocates one slice (equivalent to {@code allocate(sliceSize())}). */
    public long allocateSlice() {
        return allocate(sliceSize, DEFAULT_ALIGN);
    }

    @Override
    public long allocate(long size, long align) {
        long off = tryAllocate(size, align);
        if (off == 0) {
            throw new OutOfSharedMemoryException("fixed pool '" + name + "': cannot allocate size=" + size
                    + " align=" + align + ", free slices=0 of " + count + " (sliceSize=" + sliceSize + ")");
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
        MemorySegment m = this.m;
        long base = this.base;
        lockAndRepair();
        try {
            m.set(ValueLayout.JAVA_LONG, base + REQUESTS, m.get(ValueLayout.JAVA_LONG, base + REQUESTS) + 1);
            int head = m.get(ValueLayout.JAVA_INT, base + HEAD);
            if (head == NONE) {
                m.set(ValueLayout.JAVA_LONG, base + FAILURES, m.get(ValueLayout.JAVA_LONG, base + FAILURES) + 1);
                return 0;
            }
            if (head < 0 || head >= count || m.get(ValueLayout.JAVA_BYTE, state + head) != STATE_FREE) {
                throw new SegmentCorruptedException("fixed pool '" + name + "': free-list head at offset="
                        + (base + HEAD) + " is slice " + head + ", which is "
                        + (head < 0 || head >= count ? "out of range [0, " + count + ")" : "not free"));
            }
            int nextFree = m.get(ValueLayout.JAVA_INT, next + 4L * head);
            m.set(ValueLayout.JAVA_BYTE, state + head, STATE_USED); // the commit: source of truth says used
            m.set(ValueLayout.JAVA_INT, base + HEAD, nextFree);
            m.set(ValueLayout.JAVA_LONG, base + USED, m.get(ValueLayout.JAVA_LONG, base + USED) + 1);
            return slices + head * sliceSize;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void free(long offset) {
        long rel = offset - slices;
        if (offset < slices || offset >= slicesEnd || rel % sliceSize != 0) {
            throw new IllegalArgumentException("fixed pool '" + name + "': offset=" + offset
                    + " is not the start of a slice of this pool");
        }
        int index = (int) (rel / sliceSize);
        MemorySegment m = this.m;
        long base = this.base;
        lockAndRepair();
        try {
            if (m.get(ValueLayout.JAVA_BYTE, state + index) != STATE_USED) {
                throw new IllegalArgumentException("fixed pool '" + name + "': offset=" + offset
                        + " (slice " + index + ") is not allocated (double free?)");
            }
            m.set(ValueLayout.JAVA_BYTE, state + index, STATE_FREE); // the commit: source of truth says free
            m.set(ValueLayout.JAVA_INT, next + 4L * index, m.get(ValueLayout.JAVA_INT, base + HEAD));
            m.set(ValueLayout.JAVA_INT, base + HEAD, index);
            m.set(ValueLayout.JAVA_LONG, base + USED, m.get(ValueLayout.JAVA_LONG, base + USED) - 1);
        } finally {
            lock.unlock();
        }
    }

    /** Whether the slice at {@code offset} is allocated (a snapshot). */
    public boolean isAllocated(long offset) {
        long rel = offset - slices;
        if (offset < slices || offset >= slicesEnd || rel % sliceSize != 0) {
            return false;
        }
        return m.get(ValueLayout.JAVA_BYTE, state + rel / sliceSize) == STATE_USED;
    }

    // ------------------------------------------------------------------ stats / verify / repair

    @Override
    public AllocatorStats stats() {
        lockAndRepair();
        try {
            long used = m.get(ValueLayout.JAVA_LONG, base + USED);
            return new AllocatorStats("fixed-pool", name, sliceSize * count, used * sliceSize, used,
                    m.get(ValueLayout.JAVA_LONG, base + REQUESTS), m.get(ValueLayout.JAVA_LONG, base + FAILURES));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void verify() {
        lockAndRepair();
        try {
            verifyLocked();
        } finally {
            lock.unlock();
        }
    }

    private void verifyLocked() {
        long usedStates = 0;
        for (int i = 0; i < count; i++) {
            byte s = m.get(ValueLayout.JAVA_BYTE, state + i);
            if (s == STATE_USED) {
                usedStates++;
            } else if (s != STATE_FREE) {
                throw corrupt("state byte of slice " + i + " at offset=" + (state + i) + " is " + s
                        + ", expected 0 (free) or 1 (used)");
            }
        }
        long used = m.get(ValueLayout.JAVA_LONG, base + USED);
        if (used != usedStates) {
            throw corrupt("used counter at offset=" + (base + USED) + " is " + used + " but " + usedStates
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
            if (m.get(ValueLayout.JAVA_BYTE, state + cur) != STATE_FREE) {
                throw corrupt("slice " + cur + " is on the free list (link at offset=" + where
                        + ") but its state byte says used");
            }
            seen.set(cur);
            listed++;
            where = next + 4L * cur;
            cur = m.get(ValueLayout.JAVA_INT, where);
        }
        if (listed != count - usedStates) {
            throw corrupt("free list holds " + listed + " slices but " + (count - usedStates)
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

    /** Rebuilds the free list and the used counter from the state bytes (lock held). */
    private void repair() {
        int head = NONE;
        long used = 0;
        for (int i = count - 1; i >= 0; i--) {
            byte s = m.get(ValueLayout.JAVA_BYTE, state + i);
            if (s == STATE_FREE) {
                m.set(ValueLayout.JAVA_INT, next + 4L * i, head);
                head = i;
            } else if (s == STATE_USED) {
                used++;
            } else {
                throw corrupt("cannot repair: state byte of slice " + i + " at offset=" + (state + i) + " is " + s);
            }
        }
        m.set(ValueLayout.JAVA_INT, base + HEAD, head);
        m.set(ValueLayout.JAVA_LONG, base + USED, used);
    }

    /** Times a process died holding this allocator's lock and the next one repaired (shared counter). */
    int lockTakeovers() {
        return lock.takeovers();
    }

    @Override
    public String toString() {
        return "FixedPool[" + name + ", sliceSize=" + sliceSize + ", slices=" + count + "]";
    }
}
