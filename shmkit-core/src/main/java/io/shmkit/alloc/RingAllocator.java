package io.shmkit.alloc;

import io.shmkit.internal.Formats;
import io.shmkit.internal.Mem;
import io.shmkit.LayoutMismatchException;
import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;

import java.lang.foreign.MemorySegment;

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

    static {
        if (AllocLock.RESERVED != LOCK_BYTES) {
            throw new ExceptionInInitializerError("RingLayout.LOCK_SIZE=" + LOCK_BYTES + " but AllocLock.RESERVED="
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

    private RingAllocator(MemorySegment memory, String name, long base, AllocLock lock) {
        this.memory = memory;
        this.name = name;
        this.base = base;
        this.data = base + OFF_DATA;
        this.cap = Mem.getLong(memory, base + OFF_CAPACITY);
        this.capMask = Long.bitCount(cap) == 1 ? cap - 1 : -1;
        this.shared = (Mem.getInt(memory, base + OFF_FLAGS) & FLAGS_SINGLE_THREADED) == 0;
        this.lock = lock;
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

    /** Opens the ring allocator created in the raw range {@code [offset, offset + length)} of {@code memory}. */
    public static RingAllocator open(MemorySegment memory, long offset, long length) {
        return open(memory, "ring@" + offset, offset, length);
    }

    /**
     * The range length that gives a data area of exactly {@code capacity} bytes (a multiple of
     * 16). A power-of-two capacity is a little faster: positions are masked instead of divided.
     */
    public static long bytesNeeded(long capacity) {
        if (capacity < 4 * BLOCK_UNIT_BYTES || (capacity & (BLOCK_UNIT_BYTES - 1)) != 0) {
            throw new IllegalArgumentException("capacity must be a multiple of 16 and >= 64: capacity=" + capacity);
        }
        return OFF_DATA + capacity;
    }

    /** Bytes of the data area a range of {@code length} bytes provides. */
    private static long capacityFor(long length) {
        return (length - OFF_DATA) & -BLOCK_UNIT_BYTES;
    }

    private static void checkLength(long length) {
        if (length < OFF_DATA + 4 * BLOCK_UNIT_BYTES) {
            throw new IllegalArgumentException("length too small for a ring: length=" + length + ", minimum="
                    + (OFF_DATA + 4 * BLOCK_UNIT_BYTES));
        }
    }

    private static RingAllocator init(MemorySegment memory, String name, long offset, long length, boolean singleThreaded) {
        Structures.checkRange(memory, offset, length, "ring allocator '" + name + "'");
        Mem.setInt(memory, offset + OFF_FLAGS, singleThreaded ? FLAGS_SINGLE_THREADED : 0);
        Mem.setLong(memory, offset + OFF_CAPACITY, capacityFor(length));
        Mem.setLong(memory, offset + OFF_LENGTH, length);
        memory.asSlice(offset + OFF_LOCK, LOCK_BYTES).fill((byte) 0);
        RingAllocator ring = new RingAllocator(memory, name, offset,
                singleThreaded ? AllocLock.NONE : AllocLock.createRobust(memory, offset + OFF_LOCK));
        Mem.setLong(memory, offset + OFF_HEAD, 0L);
        Mem.setLong(memory, offset + OFF_TAIL, 0L);
        Mem.setLong(memory, offset + OFF_REQUESTS, 0L);
        Mem.setLong(memory, offset + OFF_FAILURES, 0L);
        // release: an opener that sees the magic sees every field above
        Formats.publish(memory, offset + OFF_MAGIC, MAGIC, offset + OFF_FORMAT, FORMAT);
        return ring;
    }

    private static RingAllocator open(MemorySegment memory, String name, long offset, long length) {
        Structures.awaitFormat(memory, offset, OFF_MAGIC, MAGIC, OFF_FORMAT, FORMAT, "ring allocator '" + name + "'", LEGACY_MAGICS);
        long capacity = Mem.getLong(memory, offset + OFF_CAPACITY);
        long stored = Mem.getLong(memory, offset + OFF_LENGTH);
        if (stored != length || capacity != capacityFor(length)) {
            throw new SegmentCorruptedException("ring allocator '" + name + "' at offset " + offset + ": CAPACITY="
                    + capacity + " LENGTH=" + stored + " do not match the range length=" + length);
        }
        boolean single = (Mem.getInt(memory, offset + OFF_FLAGS) & FLAGS_SINGLE_THREADED) != 0;
        return new RingAllocator(memory, name, offset, single ? AllocLock.NONE : AllocLock.openRobust(memory, offset + OFF_LOCK));
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
        return cap - Block.BYTES;
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
            Mem.setLong(m, base + OFF_REQUESTS, Mem.getLong(m, base + OFF_REQUESTS) + 1);
            long off = size > cap ? 0 : place(size, align);
            if (off == 0) {
                collect();
                off = size > cap ? 0 : place(size, align);
            }
            if (off == 0) {
                Mem.setLong(m, base + OFF_FAILURES, Mem.getLong(m, base + OFF_FAILURES) + 1);
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
        if (align <= BLOCK_UNIT_BYTES) {
            return 0;
        }
        long payload = data + p + Block.BYTES;
        long g = (align - (payload & (align - 1))) & (align - 1);
        return g; // a multiple of 16 because data, p and the header are
    }

    /** Places a block at the tail; returns its payload offset or 0 if it does not fit. Lock held. */
    private long place(long size, long align) {
        MemorySegment m = memory;
        long head = Mem.getLong(m, base + OFF_HEAD);
        long tail = Mem.getLong(m, base + OFF_TAIL);
        checkHeadTail(head, tail);
        long live = tail - head;
        long hp = phys(head);
        long tp = phys(tail);
        long blockLen = (Block.BYTES + size + BLOCK_UNIT_BYTES - 1) & -BLOCK_UNIT_BYTES;
        boolean tailAhead = tp > hp || live == 0;
        long limit = tailAhead ? cap : hp;
        if (live >= cap) {
            return 0;
        }
        long g = gap(tp, align);
        if (tp + g + blockLen <= limit) {
            long v = tail;
            if (g > 0) {
                writeHeader(tp, g, tag(STATE_PADDING, v));
                v += g;
            }
            writeHeader(tp + g, blockLen, tag(STATE_USED, v));
            // the commit point: the new block(s) join the chain
            Mem.setLongRelease(m, base + OFF_TAIL, v + blockLen);
            return data + tp + g + Block.BYTES;
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
        writeHeader(tp, pad, tag(STATE_PADDING, v));
        v += pad;
        if (g0 > 0) {
            writeHeader(0, g0, tag(STATE_PADDING, v));
            v += g0;
        }
        writeHeader(g0, blockLen, tag(STATE_USED, v));
        // the commit point: padding to the end of the ring and the new block join the chain at once
        Mem.setLongRelease(m, base + OFF_TAIL, v + blockLen);
        return data + g0 + Block.BYTES;
    }

    private void writeHeader(long p, long size, long tag) {
        Mem.setLong(memory, data + p + Block.OFF_SIZE, size);
        Mem.setLong(memory, data + p + Block.OFF_TAG, tag); // published by the release store of OFF_TAIL
    }

    /** Advances HEAD past FREE and PADDING blocks. Lock held. */
    private void collect() {
        MemorySegment m = memory;
        long head = Mem.getLong(m, base + OFF_HEAD);
        long tail = Mem.getLong(m, base + OFF_TAIL);
        checkHeadTail(head, tail);
        long h = head;
        while (h < tail) {
            long p = phys(h);
            long size = Mem.getLong(m, data + p + Block.OFF_SIZE);
            long tag = Mem.getLongAcquire(m, data + p + Block.OFF_TAG); // acquire: pairs with free's CAS
            checkBlock(h, p, size, tag, tail);
            if (tagState(tag) == STATE_USED) {
                break;
            }
            h += size;
        }
        if (h != head) {
            // the commit point of collection: one release store of HEAD
            Mem.setLongRelease(m, base + OFF_HEAD, h);
        }
    }

    private void checkBlock(long v, long p, long size, long tag, long tail) {
        if (!tagMagicOk(tag)) {
            throw corrupt(v, p, "bad tag 0x" + Long.toHexString(tag), data + p + Block.OFF_TAG);
        }
        if (tagPosition(tag) != (v & TAG_POS_MASK)) {
            throw corrupt(v, p, "tag names position " + tagPosition(tag) + ", expected " + (v & TAG_POS_MASK), data + p + Block.OFF_TAG);
        }
        if (size < BLOCK_UNIT_BYTES || (size & (BLOCK_UNIT_BYTES - 1)) != 0 || p + size > cap || v + size > tail) {
            throw corrupt(v, p, "SIZE=" + size + " not a multiple of 16 >= 16 inside the ring and the live part",
                    data + p + Block.OFF_SIZE);
        }
    }

    /** HEAD and TAIL must be 16-byte positions at most the capacity apart, HEAD first. */
    private void checkHeadTail(long head, long tail) {
        if (head < 0 || tail < head || tail - head > cap || ((head | tail) & (BLOCK_UNIT_BYTES - 1)) != 0) {
            throw new SegmentCorruptedException("ring allocator '" + name + "': HEAD=" + head + " TAIL=" + tail
                    + " (offsets " + (base + OFF_HEAD) + ", " + (base + OFF_TAIL) + ") do not describe a live part of at most "
                    + cap + " bytes on 16-byte positions");
        }
    }

    private SegmentCorruptedException corrupt(long v, long p, String what, long at) {
        return new SegmentCorruptedException("ring allocator '" + name + "': block at position " + v + " (offset "
                + (data + p) + "): " + what + " (field at offset " + at + ")");
    }

    @Override
    public void free(long offset) {
        long rel = offset - Block.BYTES - data;
        if (rel < 0 || rel >= cap || (rel & (BLOCK_UNIT_BYTES - 1)) != 0) {
            throw new IllegalArgumentException("ring allocator '" + name + "': offset=" + offset
                    + " is not a block of this allocator (outside its data area or misaligned)");
        }
        MemorySegment m = memory;
        long head = Mem.getLongAcquire(m, base + OFF_HEAD); // acquire: the live part of the ring
        long tail = Mem.getLongAcquire(m, base + OFF_TAIL); // acquire: headers published with OFF_TAIL
        long v = head + distance(phys(head), rel);
        if (v >= tail) {
            throw new IllegalArgumentException("ring allocator '" + name + "': offset=" + offset
                    + " is not allocated (outside the live part of the ring; double free or foreign offset)");
        }
        long tagAt = data + rel + Block.OFF_TAG;
        long expected = tag(STATE_USED, v);
        boolean done;
        if (shared) {
            // the commit point of free: one CAS USED -> FREE on the block's tag
            done = Mem.casLong(m, tagAt, expected, tag(STATE_FREE, v));
        } else {
            done = Mem.getLong(m, tagAt) == expected;
            if (done) {
                Mem.setLongRelease(m, tagAt, tag(STATE_FREE, v)); // release: same commit as shared mode
            }
        }
        if (!done) {
            long actual = Mem.getLongAcquire(m, tagAt);
            if (actual == tag(STATE_FREE, v)) {
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
        long rel = offset - Block.BYTES - data;
        if (rel < 0 || rel >= cap || (rel & (BLOCK_UNIT_BYTES - 1)) != 0) {
            return false;
        }
        long head = Mem.getLongAcquire(memory, base + OFF_HEAD);
        long tail = Mem.getLongAcquire(memory, base + OFF_TAIL);
        long v = head + distance(phys(head), rel);
        return v < tail && Mem.getLongAcquire(memory, data + rel + Block.OFF_TAG) == tag(STATE_USED, v);
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
            long head = Mem.getLongAcquire(memory, base + OFF_HEAD);
            long tail = Mem.getLongAcquire(memory, base + OFF_TAIL);
            int n = 0;
            for (long v = head; v < tail && n < out.length; ) {
                long p = phys(v);
                long size = Mem.getLong(memory, data + p + Block.OFF_SIZE);
                if (tagState(Mem.getLongAcquire(memory, data + p + Block.OFF_TAG)) == STATE_USED) {
                    out[n++] = data + p + Block.BYTES;
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
        long head = Mem.getLongAcquire(m, base + OFF_HEAD);
        long tail = Mem.getLongAcquire(m, base + OFF_TAIL);
        checkHeadTail(head, tail);
        long used = 0;
        long blocks = 0;
        long v = head;
        while (v < tail) {
            long p = phys(v);
            long size = Mem.getLong(m, data + p + Block.OFF_SIZE);
            long tag = Mem.getLongAcquire(m, data + p + Block.OFF_TAG);
            checkBlock(v, p, size, tag, tail);
            int state = tagState(tag);
            if (state == STATE_PADDING && strict && p + size != cap && !paddingBeforeAlignedBlock(v + size, tail)) {
                throw corrupt(v, p, "PADDING block that neither ends the ring nor precedes a block", data + p + Block.OFF_TAG);
            }
            if (state == STATE_USED) {
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
            requests = Mem.getLong(memory, base + OFF_REQUESTS);
            failures = Mem.getLong(memory, base + OFF_FAILURES);
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
        long magic = Mem.getLongAcquire(memory, base + OFF_MAGIC);
        if (magic != MAGIC) {
            throw new SegmentCorruptedException("ring allocator '" + name + "': bad magic 0x" + Long.toHexString(magic)
                    + " at offset " + (base + OFF_MAGIC));
        }
        if (Mem.getLong(memory, base + OFF_CAPACITY) != cap) {
            throw new SegmentCorruptedException("ring allocator '" + name + "': CAPACITY at offset " + (base + OFF_CAPACITY)
                    + " changed to " + Mem.getLong(memory, base + OFF_CAPACITY) + ", opened with " + cap);
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
        long head = Mem.getLong(memory, base + OFF_HEAD);
        long tail = Mem.getLong(memory, base + OFF_TAIL);
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
