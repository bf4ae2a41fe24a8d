package io.shmkit.alloc;

import io.shmkit.LayoutMismatchException;
import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import static io.shmkit.internal.RingLayout.*;

/**
 * Variable-size blocks in a circular area, in the manner of Swoole's {@code RingBuffer}, made
 * process-safe. Blocks are carved at the tail of the ring, each behind a 16-byte header; when
 * the rest of the ring up to its end is too short, it becomes a {@code PADDING} block and the
 * new block starts at the beginning of the ring. {@link #free(long)} only marks a block
 * {@code FREE}; freed blocks (and padding) are collected lazily, from the head, when an
 * allocation runs. So space comes back in allocation order: one long-lived block at the head
 * holds back all space behind it. The ring suits FIFO-like lifetimes (messages, requests).
 * With several threads this includes a thread that is descheduled while it holds the oldest
 * block: the others can run the ring full behind it, and their requests fail until it frees
 * the block. Size the ring for that, or use a slab or fixed pool for independent lifetimes.
 *
 * <h2>Thread and process safety</h2>
 * In shared mode (the default), allocation (with collection) runs under a robust
 * process-shared lock; {@code free} is lock-free: one compare-and-set on the block's tag word
 * turns {@code USED} into {@code FREE}. Double free and freeing an offset that is not a live
 * block (wrong alignment, outside the live part of the ring, a header with the wrong magic,
 * state or position) throw {@link IllegalArgumentException} naming the offset and change
 * nothing. An offset whose block was freed, collected and whose space was then reused by a new
 * block at the very same offset cannot be told apart from that new block.
 *
 * <h2>Crash consistency</h2>
 * Every change commits with one word: an allocation writes its header(s) beyond {@code TAIL}
 * and then publishes them with one release store of {@code TAIL}; collection publishes with
 * one release store of {@code HEAD}; free with one CAS of the tag. A process killed at any
 * instruction leaves either the old or the new state. The next lock owner learns that the
 * previous one died and repairs: it walks the header chain from {@code HEAD} to {@code TAIL}
 * (the source of truth) and refuses to go on if it is broken; nothing needs rewriting, because
 * no operation ever leaves a torn chain. The request/failure counters are advisory.
 */
public final class RingAllocator implements SharedAllocator {

    /** Directory kind of a ring allocator. */
    public static final int KIND = 0x0102;

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    static {
        if (AllocLock.RESERVED != LOCK_SIZE) {
            throw new ExceptionInInitializerError("RingLayout.LOCK_SIZE=" + LOCK_SIZE + " but AllocLock.RESERVED="
                    + AllocLock.RESERVED);
        }
    }

    private final MemorySegment memory;
    private final String name;
    private final long base;
    private final long data;
    private final long cap;
    /** {@code cap - 1} if the capacity is a power of two (positions are masked), else -1. */
    private final long capMask;
    private final boolean shared;
    private final AllocLock lock;

    private RingAllocator(MemorySegment memory, String name, long base, boolean created) {
        this.memory = memory;
        this.name = name;
        this.base = base;
        this.data = base + DATA;
        this.cap = (long) LONG.get(memory, base + CAPACITY);
        this.capMask = Long.bitCount(cap) == 1 ? cap - 1 : -1;
        this.shared = ((int) INT.get(memory, base + FLAGS) & FLAG_SINGLE_THREADED) == 0;
        this.lock = !shared ? AllocLock.NONE
                : created ? AllocLock.createRobust(memory, base + LOCK) : AllocLock.openRobust(memory, base + LOCK);
    }

    // ------------------------------------------------------------------ create / open

    /** Creates a process-safe ring allocator of {@code length} bytes (headers included) in {@code segment}. */
    public static RingAllocator create(Segment segment, String name, long length) {
        return create(segment, name, length, SyncMode.LOCKED);
    }

    /**
     * Creates a ring allocator of {@code length} bytes (headers included) in {@code segment}.
     *
     * @param mode {@link SyncMode#LOCKED}: every operation under the ring's robust lock;
     *             {@link SyncMode#SINGLE_THREADED}: no lock, callers serialise every call
     */
    public static RingAllocator create(Segment segment, String name, long length, SyncMode mode) {
        boolean single = Structures.singleThreaded(mode, "ring allocator");
        checkLength(length);
        return segment.createStructure(name, KIND, length, 64,
                e -> init(segment.memory(), name, e.offset(), e.length(), single));
    }

    /** Opens the ring allocator registered as {@code name} in {@code segment}. */
    public static RingAllocator open(Segment segment, String name) {
        DirectoryEntry e = Structures.lookup(segment, name, KIND, "ring allocator");
        return open(segment.memory(), name, e.offset(), e.length());
    }

    /** Creates a ring allocator in the raw range {@code [offset, offset + length)} of {@code memory}. */
    public static RingAllocator create(MemorySegment memory, long offset, long length, SyncMode mode) {
        boolean single = Structures.singleThreaded(mode, "ring allocator");
        checkLength(length);
        return init(memory, "ring@" + offset, offset, length, single);
    }

    public static RingAllocator open(MemorySegment memory, long offset, long length) {
        return open(memory, "ring@" + offset, offset, length);
    }

    /**
     * The range length that gives a data area of exactly {@code capacity} bytes (a multiple of
     * 16). A power-of-two capacity is a little faster: positions are masked instead of divided.
     */
    public static long lengthFor(long capacity) {
        if (capacity < 4 * BLOCK_UNIT || (capacity & (BLOCK_UNIT - 1)) != 0) {
            throw new IllegalArgumentException("capacity must be a multiple of 16 and >= 64: capacity=" + capacity);
        }
        return DATA + capacity;
    }

    /** Bytes of the data area a range of {@code length} bytes provides. */
    public static long capacityFor(long length) {
        return (length - DATA) & -BLOCK_UNIT;
    }

    private static void checkLength(long length) {
        if (length < DATA + 4 * BLOCK_UNIT) {
            throw new IllegalArgumentException("length too small for a ring: length=" + length + ", minimum="
                    + (DATA + 4 * BLOCK_UNIT));
        }
    }

    private static RingAllocator init(MemorySegment memory, String name, long offset, long length, boolean singleThreaded) {
        Structures.checkRange(memory, offset, length, "ring allocator '" + name + "'");
        INT.set(memory, offset + VERSION, VERSION_VALUE);
        INT.set(memory, offset + FLAGS, singleThreaded ? FLAG_SINGLE_THREADED : 0);
        LONG.set(memory, offset + CAPACITY, capacityFor(length));
        LONG.set(memory, offset + LENGTH, length);
        memory.asSlice(offset + LOCK, LOCK_SIZE).fill((byte) 0);
        RingAllocator ring = new RingAllocator(memory, name, offset, true); // creates the lock
        LONG.set(memory, offset + HEAD, 0L);
        LONG.set(memory, offset + TAIL, 0L);
        LONG.set(memory, offset + REQUESTS, 0L);
        LONG.set(memory, offset + FAILURES, 0L);
        // release: an opener that sees the magic sees every field above
        LONG.setRelease(memory, offset + MAGIC, MAGIC_VALUE);
        return ring;
    }

    private static RingAllocator open(MemorySegment memory, String name, long offset, long length) {
        Structures.awaitMagic(memory, offset + MAGIC, MAGIC_VALUE, "ring allocator '" + name + "'");
        int version = (int) INT.get(memory, offset + VERSION);
        if (version != VERSION_VALUE) {
            throw new LayoutMismatchException("ring allocator '" + name + "': version=" + version
                    + ", this library reads version=" + VERSION_VALUE);
        }
        long capacity = (long) LONG.get(memory, offset + CAPACITY);
        long stored = (long) LONG.get(memory, offset + LENGTH);
        if (stored != length || capacity != capacityFor(length)) {
            throw new SegmentCorruptedException("ring allocator '" + name + "' at offset " + offset + ": CAPACITY="
                    + capacity + " LENGTH=" + stored + " do not match the range length=" + length);
        }
        return new RingAllocator(memory, name, offset, false);
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

    /** Bytes of the circular data area. */
    public long capacity() {
        return cap;
    }

    /** The largest request an empty ring can satisfy at the default alignment. */
    public long maxAllocation() {
        return cap - BLOCK_HEADER;
    }

    @Override
    public long allocate(long size, long align) {
        return allocate(size, align, true);
    }

    @Override
    public long tryAllocate(long size, long align) {
        return allocate(size, align, false);
    }

    private long allocate(long size, long align, boolean throwWhenFull) {
        if (size <= 0) {
            throw new IllegalArgumentException("size must be positive: size=" + size);
        }
        Structures.checkAlign(align);
        lockAndRepair();
        try {
            MemorySegment m = memory;
            LONG.set(m, base + REQUESTS, (long) LONG.get(m, base + REQUESTS) + 1);
            long off = size > cap ? 0 : place(size, align);
            if (off == 0) {
                collect();
                off = size > cap ? 0 : place(size, align);
            }
            if (off == 0) {
                LONG.set(m, base + FAILURES, (long) LONG.get(m, base + FAILURES) + 1);
                if (throwWhenFull) {
                    // the message describes the ring as this request saw it: built under the lock
                    throw new OutOfSharedMemoryException(failureMessage(size, align));
                }
            }
            return off;
        } finally {
            lock.unlock();
        }
    }

    private void lockAndRepair() {
        if (lock.lock()) {
            // the previous owner died inside the lock: check the chain (source of truth); every
            // operation commits with a single word, so a sound chain needs no rewriting
            try {
                walk(true);
            } catch (RuntimeException e) {
                lock.unlock();
                throw e;
            }
            lock.markConsistent();
        }
    }

    /** Physical place of virtual position {@code v} (v >= 0): a mask for power-of-two capacities. */
    private long phys(long v) {
        return capMask >= 0 ? v & capMask : v % cap;
    }

    /** Bytes from physical {@code from} forward to physical {@code to} in ring order. */
    private long distance(long from, long to) {
        long d = to - from;
        return d < 0 ? d + cap : d;
    }

    /** Payload gap (multiple of 16) so that the payload of a block at physical {@code p} is aligned. */
    private long gap(long p, long align) {
        if (align <= BLOCK_UNIT) {
            return 0;
        }
        long payload = data + p + BLOCK_HEADER;
        long g = (align - (payload & (align - 1))) & (align - 1);
        return g; // a multiple of 16 because data, p and the header are
    }

    /** Places a block at the tail; returns its payload offset or 0 if it does not fit. Lock held. */
    private long place(long size, long align) {
        MemorySegment m = memory;
        long head = (long) LONG.get(m, base + HEAD);
        long tail = (long) LONG.get(m, base + TAIL);
        checkHeadTail(head, tail);
        long live = tail - head;
        long hp = phys(head);
        long tp = phys(tail);
        long blockLen = (BLOCK_HEADER + size + BLOCK_UNIT - 1) & -BLOCK_UNIT;
        boolean tailAhead = tp > hp || live == 0;
        long limit = tailAhead ? cap : hp;
        if (live >= cap) {
            return 0;
        }
        long g = gap(tp, align);
        if (tp + g + blockLen <= limit) {
            long v = tail;
            if (g > 0) {
                writeHeader(tp, g, tag(PADDING, v));
                v += g;
            }
            writeHeader(tp + g, blockLen, tag(USED, v));
            // the commit point: the new block(s) join the chain
            LONG.setRelease(m, base + TAIL, v + blockLen);
            return data + tp + g + BLOCK_HEADER;
        }
        if (!tailAhead || tp == 0) {
            return 0;
        }
        long pad = cap - tp;
        long g0 = gap(0, align);
        long room = live == 0 ? tp : hp;
        if (g0 + blockLen > room) {
            return 0;
        }
        long v = tail;
        writeHeader(tp, pad, tag(PADDING, v));
        v += pad;
        if (g0 > 0) {
            writeHeader(0, g0, tag(PADDING, v));
            v += g0;
        }
        writeHeader(g0, blockLen, tag(USED, v));
        // the commit point: padding to the end of the ring and the new block join the chain at once
        LONG.setRelease(m, base + TAIL, v + blockLen);
        return data + g0 + BLOCK_HEADER;
    }

    private void writeHeader(long p, long size, long tag) {
        LONG.set(memory, data + p + BLOCK_SIZE, size);
        LONG.set(memory, data + p + BLOCK_TAG, tag); // published by the release store of TAIL
    }

    /** Advances HEAD past FREE and PADDING blocks. Lock held. */
    private void collect() {
        MemorySegment m = memory;
        long head = (long) LONG.get(m, base + HEAD);
        long tail = (long) LONG.get(m, base + TAIL);
        checkHeadTail(head, tail);
        long h = head;
        while (h < tail) {
            long p = phys(h);
            long size = (long) LONG.get(m, data + p + BLOCK_SIZE);
            long tag = (long) LONG.getAcquire(m, data + p + BLOCK_TAG); // acquire: pairs with free's CAS
            checkBlock(h, p, size, tag, tail);
            if (tagState(tag) == USED) {
                break;
            }
            h += size;
        }
        if (h != head) {
            // the commit point of collection: one release store of HEAD
            LONG.setRelease(m, base + HEAD, h);
        }
    }

    private void checkBlock(long v, long p, long size, long tag, long tail) {
        if (!tagMagicOk(tag)) {
            throw corrupt(v, p, "bad tag 0x" + Long.toHexString(tag), data + p + BLOCK_TAG);
        }
        if (tagPosition(tag) != (v & POS_MASK)) {
            throw corrupt(v, p, "tag names position " + tagPosition(tag) + ", expected " + (v & POS_MASK), data + p + BLOCK_TAG);
        }
        if (size < BLOCK_UNIT || (size & (BLOCK_UNIT - 1)) != 0 || p + size > cap || v + size > tail) {
            throw corrupt(v, p, "SIZE=" + size + " not a multiple of 16 >= 16 inside the ring and the live part",
                    data + p + BLOCK_SIZE);
        }
    }

    /** HEAD and TAIL must be 16-byte positions at most the capacity apart, HEAD first. */
    private void checkHeadTail(long head, long tail) {
        if (head < 0 || tail < head || tail - head > cap || ((head | tail) & (BLOCK_UNIT - 1)) != 0) {
            throw new SegmentCorruptedException("ring allocator '" + name + "': HEAD=" + head + " TAIL=" + tail
                    + " (offsets " + (base + HEAD) + ", " + (base + TAIL) + ") do not describe a live part of at most "
                    + cap + " bytes on 16-byte positions");
        }
    }

    private SegmentCorruptedException corrupt(long v, long p, String what, long at) {
        return new SegmentCorruptedException("ring allocator '" + name + "': block at position " + v + " (offset "
                + (data + p) + "): " + what + " (field at offset " + at + ")");
    }

    @Override
    public void free(long offset) {
        long rel = offset - BLOCK_HEADER - data;
        if (rel < 0 || rel >= cap || (rel & (BLOCK_UNIT - 1)) != 0) {
            throw new IllegalArgumentException("ring allocator '" + name + "': offset=" + offset
                    + " is not a block of this allocator (outside its data area or misaligned)");
        }
        MemorySegment m = memory;
        long head = (long) LONG.getAcquire(m, base + HEAD); // acquire: the live part of the ring
        long tail = (long) LONG.getAcquire(m, base + TAIL); // acquire: headers published with TAIL
        long v = head + distance(phys(head), rel);
        if (v >= tail) {
            throw new IllegalArgumentException("ring allocator '" + name + "': offset=" + offset
                    + " is not allocated (outside the live part of the ring; double free or foreign offset)");
        }
        long tagAt = data + rel + BLOCK_TAG;
        long expected = tag(USED, v);
        boolean done;
        if (shared) {
            // the commit point of free: one CAS USED -> FREE on the block's tag
            done = LONG.compareAndSet(m, tagAt, expected, tag(FREE, v));
        } else {
            done = (long) LONG.get(m, tagAt) == expected;
            if (done) {
                LONG.setRelease(m, tagAt, tag(FREE, v)); // release: same commit as shared mode
            }
        }
        if (!done) {
            long actual = (long) LONG.getAcquire(m, tagAt);
            if (actual == tag(FREE, v)) {
                throw new IllegalArgumentException("ring allocator '" + name + "': double free of offset=" + offset);
            }
            throw new IllegalArgumentException("ring allocator '" + name + "': offset=" + offset
                    + " is not the start of a live block (tag 0x" + Long.toHexString(actual) + ")");
        }
    }

    /**
     * Whether {@code offset} is the payload offset of a block that is allocated now. Meant for
     * tests and diagnostics: the answer may be stale as soon as it is returned.
     */
    public boolean isAllocated(long offset) {
        long rel = offset - BLOCK_HEADER - data;
        if (rel < 0 || rel >= cap || (rel & (BLOCK_UNIT - 1)) != 0) {
            return false;
        }
        long head = (long) LONG.getAcquire(memory, base + HEAD);
        long tail = (long) LONG.getAcquire(memory, base + TAIL);
        long v = head + distance(phys(head), rel);
        return v < tail && (long) LONG.getAcquire(memory, data + rel + BLOCK_TAG) == tag(USED, v);
    }

    /**
     * Payload offsets of every block that is allocated now, oldest first. For diagnostics and
     * for reclaiming blocks a dead process allocated but never recorded (a leaked block at the
     * head of a ring holds back all space behind it). Takes the lock.
     */
    public long[] allocatedBlocks() {
        lockAndRepair();
        try {
            long[] w = walk(false);
            long[] out = new long[(int) w[1]];
            long head = (long) LONG.getAcquire(memory, base + HEAD);
            long tail = (long) LONG.getAcquire(memory, base + TAIL);
            int n = 0;
            for (long v = head; v < tail && n < out.length; ) {
                long p = phys(v);
                long size = (long) LONG.get(memory, data + p + BLOCK_SIZE);
                if (tagState((long) LONG.getAcquire(memory, data + p + BLOCK_TAG)) == USED) {
                    out[n++] = data + p + BLOCK_HEADER;
                }
                v += size;
            }
            return n == out.length ? out : java.util.Arrays.copyOf(out, n);
        } finally {
            lock.unlock();
        }
    }

    /** Times the lock was taken over from a dead owner (0 in single-threaded mode). */
    public int lockTakeovers() {
        return lock instanceof AllocLock.Robust r ? r.mutex().takeovers() : 0;
    }

    /** Walks the chain HEAD..TAIL; returns {used bytes, used blocks}. Lock held. */
    private long[] walk(boolean strict) {
        MemorySegment m = memory;
        long head = (long) LONG.getAcquire(m, base + HEAD);
        long tail = (long) LONG.getAcquire(m, base + TAIL);
        checkHeadTail(head, tail);
        long used = 0;
        long blocks = 0;
        long v = head;
        while (v < tail) {
            long p = phys(v);
            long size = (long) LONG.get(m, data + p + BLOCK_SIZE);
            long tag = (long) LONG.getAcquire(m, data + p + BLOCK_TAG);
            checkBlock(v, p, size, tag, tail);
            int state = tagState(tag);
            if (state == PADDING && strict && p + size != cap && !paddingBeforeAlignedBlock(v + size, tail)) {
                throw corrupt(v, p, "PADDING block that neither ends the ring nor precedes a block", data + p + BLOCK_TAG);
            }
            if (state == USED) {
                used += size;
                blocks++;
            }
            v += size;
        }
        return new long[]{used, blocks};
    }

    private boolean paddingBeforeAlignedBlock(long next, long tail) {
        return next < tail;
    }

    @Override
    public AllocatorStats stats() {
        long[] w;
        long requests;
        long failures;
        lockAndRepair();
        try {
            w = walk(false);
            requests = (long) LONG.get(memory, base + REQUESTS);
            failures = (long) LONG.get(memory, base + FAILURES);
        } finally {
            lock.unlock();
        }
        return new AllocatorStats("ring", name, cap, w[0], w[1], requests, failures);
    }

    /**
     * Checks the header and walks every block from {@code HEAD} to {@code TAIL}: magic and state
     * of each tag, the position it names, its size (a multiple of 16 that ends inside the ring
     * and inside the live part), and that the blocks add up exactly to {@code TAIL - HEAD}.
     * Takes the lock; bounded by the ring's capacity.
     */
    @Override
    public void verify() {
        long magic = (long) LONG.getAcquire(memory, base + MAGIC);
        if (magic != MAGIC_VALUE) {
            throw new SegmentCorruptedException("ring allocator '" + name + "': bad magic 0x" + Long.toHexString(magic)
                    + " at offset " + (base + MAGIC));
        }
        if ((long) LONG.get(memory, base + CAPACITY) != cap) {
            throw new SegmentCorruptedException("ring allocator '" + name + "': CAPACITY at offset " + (base + CAPACITY)
                    + " changed to " + LONG.get(memory, base + CAPACITY) + ", opened with " + cap);
        }
        lockAndRepair();
        try {
            walk(true);
        } finally {
            lock.unlock();
        }
    }

    /** Lock held. */
    private String failureMessage(long size, long align) {
        long[] w = walk(false);
        long head = (long) LONG.get(memory, base + HEAD);
        long tail = (long) LONG.get(memory, base + TAIL);
        long hp = phys(head);
        long tp = phys(tail);
        long contiguous = tail == head ? Math.max(cap - tp, tp) : tp >= hp ? Math.max(cap - tp, hp) : hp - tp;
        return "ring allocator '" + name + "': cannot allocate size=" + size + " align=" + align + "; capacity=" + cap
                + " (largest request " + maxAllocation() + "), left: free=" + (cap - (tail - head))
                + " bytes outside the live part, of which at most " + contiguous + " contiguous before the oldest live"
                + " block; in use=" + w[0] + " bytes in " + w[1] + " blocks";
    }

    @Override
    public String toString() {
        return "RingAllocator[name=" + name + ", offset=" + base + ", capacity=" + cap + "]";
    }
}
