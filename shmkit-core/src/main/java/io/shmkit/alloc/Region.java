package io.shmkit.alloc;

import io.shmkit.OutOfSharedMemoryException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Request-scoped memory in the manner of nginx's {@code ngx_pool_t}: one thread creates a
 * region for a unit of work (a request, a message, a frame), allocates freely, and closes it at
 * the end, which releases everything at once and runs the cleanup actions it registered.
 *
 * <ul>
 *   <li><b>Small requests</b> (up to {@link #largeThreshold()} bytes, alignment up to 64) are
 *       bump-allocated from a chain of blocks of {@link #blockSize()} bytes. A request that does
 *       not fit the rest of a block counts a failure against every block it tried; a block
 *       that has failed more than {@link #MAX_FAILURES} times is no longer tried (nginx's
 *       {@code current}/{@code failed}), so a nearly full block does not slow down every later
 *       request. Small allocations cannot be freed one by one.</li>
 *   <li><b>Large requests</b> are allocated separately and can be given back early with
 *       {@link #free(MemorySegment)}; freeing a small allocation, a slice that this region did
 *       not hand out, or a large one twice throws {@link IllegalArgumentException}.</li>
 *   <li><b>Cleanup actions</b> registered with {@link #onClose(Runnable)} run in reverse order
 *       of registration. If one throws, the others still run; the first exception is rethrown
 *       with the later ones attached as suppressed.</li>
 *   <li>{@link #reset()} ends the current unit of work but keeps the blocks for the next one:
 *       it runs the cleanup actions (they belong to the work whose memory is being discarded),
 *       frees every large allocation and empties the blocks.</li>
 * </ul>
 *
 * <h2>Where the memory comes from</h2>
 * {@link #create(long)} keeps blocks off-heap in the region's own confined {@link Arena}; each
 * large allocation has its own confined arena, closed by {@code free}. After {@code close()}
 * every slice the region handed out is invalid, and touching it throws
 * {@link IllegalStateException} instead of reading freed memory. (After {@code reset()}, slices
 * stay accessible but their memory is reused: do not keep them.)
 * {@link #create(SharedAllocator, long)} takes blocks and large allocations from an allocator in
 * a shared segment, for example a {@link RingAllocator} (a FIFO of regions fits a ring well), and
 * gives them back on close; {@link #offsetOf(MemorySegment)} turns a slice into the offset other
 * processes use. {@link #create(MemorySegment, long, long, long)} does the same on a raw range of memory, with a private
 * single-threaded ring.
 *
 * <h2>Thread and process safety</h2>
 * Not thread-safe: a region belongs to the thread that created it and every method throws
 * {@link WrongThreadException} from another thread. A region's bookkeeping lives on the Java heap
 * of its process, so it is never shared or re-opened by another process. Over a plain shared
 * allocator, a process that dies leaves its regions' blocks allocated (the allocator's own crash
 * guarantees keep it consistent). {@link #create(RegionRegistry, long)} records every block in
 * shared memory as well, so that {@link RegionRegistry#reclaimDead()} can give them back.
 *
 * {@snippet :
 * try (Region r = Region.create(16 * 1024)) {
 *     MemorySegment header = r.allocate(64);
 *     MemorySegment body = r.allocate(1 << 20);      // large: separate, freeable
 *     r.onClose(() -> System.out.println("request done"));
 *     r.free(body);
 * }                                                   // everything released here
 * }
 */
public final class Region implements AutoCloseable {

    /** Default block size. */
    public static final long DEFAULT_BLOCK_SIZE = 16 * 1024;
    /** A block that has failed this many times is still tried; one more failure and it is skipped. */
    public static final int MAX_FAILURES = 4;
    /** Alignment of blocks; small requests may ask for up to this. */
    public static final long BLOCK_ALIGN = 64;

    private final Backing backing;
    private final long blockSize;
    private final long largeThreshold;
    private final Thread owner;
    private final String name;

    private MemorySegment[] blocks = new MemorySegment[4];
    private long[] blockAddress = new long[4];
    private long[] used = new long[4];
    private int[] failed = new int[4];
    private int blockCount;
    private int current;

    private final Map<Long, Large> large = new HashMap<>();
    private long largeBytes;
    private final List<Runnable> cleanups = new ArrayList<>();

    private long smallAllocations;
    private long requests;
    private long failures;
    private boolean closed;

    private record Large(MemorySegment segment, long handle) {
    }

    private Region(Backing backing, long blockSize, long largeThreshold, String name) {
        checkSizes(blockSize, largeThreshold);
        this.backing = backing;
        this.blockSize = blockSize;
        this.largeThreshold = largeThreshold;
        this.owner = Thread.currentThread();
        this.name = name;
    }

    private static void checkSizes(long blockSize, long largeThreshold) {
        if (blockSize < BLOCK_ALIGN || (blockSize & (BLOCK_ALIGN - 1)) != 0) {
            throw new IllegalArgumentException("blockSize must be a positive multiple of " + BLOCK_ALIGN
                    + ": blockSize=" + blockSize);
        }
        if (largeThreshold <= 0 || largeThreshold > blockSize) {
            throw new IllegalArgumentException("largeThreshold must be in [1, blockSize]: largeThreshold="
                    + largeThreshold + " blockSize=" + blockSize);
        }
    }

    // ------------------------------------------------------------------ factories

    /** An off-heap region with blocks of {@link #DEFAULT_BLOCK_SIZE}. */
    public static Region create() {
        return create(DEFAULT_BLOCK_SIZE);
    }

    /** An off-heap region in its own confined arena; requests above {@code min(blockSize/4, 4096)} are large. */
    public static Region create(long blockSize) {
        return create(blockSize, defaultThreshold(blockSize));
    }

    /** An off-heap region; requests above {@code largeThreshold} bytes are large. */
    public static Region create(long blockSize, long largeThreshold) {
        return new Region(new ArenaBacking(), blockSize, largeThreshold, "region");
    }

    /**
     * A region whose blocks and large allocations come from {@code allocator} (which must
     * support {@code free}), typically an allocator inside a shared segment.
     */
    public static Region create(SharedAllocator allocator, long blockSize) {
        return create(allocator, blockSize, defaultThreshold(blockSize));
    }

    public static Region create(SharedAllocator allocator, long blockSize, long largeThreshold) {
        return new Region(new AllocatorBacking(allocator), blockSize, largeThreshold, "region@" + allocator.name());
    }

    /**
     * A region whose blocks and large allocations come from the allocator of {@code registry},
     * and are recorded in a slot of it, so that if this process dies with the region open, any
     * process can give them back ({@link RegionRegistry#reclaimDead()}).
     *
     * @throws OutOfSharedMemoryException if every slot of the registry belongs to an open region
     *         of a live process
     */
    public static Region create(RegionRegistry registry, long blockSize) {
        return create(registry, blockSize, defaultThreshold(blockSize));
    }

    public static Region create(RegionRegistry registry, long blockSize, long largeThreshold) {
        checkSizes(blockSize, largeThreshold); // before a slot is taken
        RegionRegistry.Slot slot = registry.take();
        return new Region(new RecordedBacking(new AllocatorBacking(registry.allocator()), slot), blockSize,
                largeThreshold, "region@" + registry.name());
    }

    /**
     * A region inside the raw range {@code [offset, offset + length)} of {@code memory}: the range
     * is managed by a private single-threaded {@link RingAllocator} that holds the blocks and the
     * large allocations. The range must not be used by anything else while the region lives.
     */
    public static Region create(MemorySegment memory, long offset, long length, long blockSize) {
        RingAllocator ring = RingAllocator.create(memory, offset, length, SyncMode.SINGLE_THREADED);
        return new Region(new AllocatorBacking(ring), blockSize, defaultThreshold(blockSize), "region@" + offset);
    }

    private static long defaultThreshold(long blockSize) {
        return Math.max(1, Math.min(blockSize / 4, 4096));
    }

    // ------------------------------------------------------------------ allocation

    public long blockSize() {
        return blockSize;
    }

    /** Requests above this many bytes are large: allocated separately and freeable. */
    public long largeThreshold() {
        return largeThreshold;
    }

    /** Allocates {@code size} bytes aligned to 8. */
    public MemorySegment allocate(long size) {
        return allocate(size, SharedAllocator.DEFAULT_ALIGN);
    }

    /**
     * Allocates {@code size} bytes aligned to {@code align} (a power of two). Small requests are
     * served from the blocks; larger ones, and alignments above {@link #BLOCK_ALIGN}, separately.
     *
     * @throws OutOfSharedMemoryException if the backing allocator has no room
     */
    public MemorySegment allocate(long size, long align) {
        checkUsable();
        if (size <= 0) {
            throw new IllegalArgumentException("size must be positive: size=" + size);
        }
        Structures.checkAlign(align);
        requests++;
        if (size > largeThreshold || align > BLOCK_ALIGN) {
            return allocateLarge(size, align);
        }
        for (int i = current; i < blockCount; i++) {
            long addr = blockAddress[i];
            long at = ((addr + used[i] + align - 1) & -align) - addr;
            if (at + size <= blockSize) {
                used[i] = at + size;
                smallAllocations++;
                return blocks[i].asSlice(at, size);
            }
        }
        return allocateFromNewBlock(size);
    }

    private MemorySegment allocateFromNewBlock(long size) {
        // every block tried so far failed once more; a block failing too often is skipped from now on
        for (int i = current; i < blockCount; i++) {
            if (failed[i]++ >= MAX_FAILURES && i == current) {
                current = i + 1;
            }
        }
        MemorySegment block;
        try {
            block = backing.allocateBlock(blockSize);
        } catch (OutOfSharedMemoryException e) {
            failures++;
            throw e;
        }
        if (blockCount == blocks.length) {
            int n = blockCount * 2;
            blocks = Arrays.copyOf(blocks, n);
            blockAddress = Arrays.copyOf(blockAddress, n);
            used = Arrays.copyOf(used, n);
            failed = Arrays.copyOf(failed, n);
        }
        blocks[blockCount] = block;
        blockAddress[blockCount] = block.address();
        used[blockCount] = size;
        failed[blockCount] = 0;
        blockCount++;
        smallAllocations++;
        return block.asSlice(0, size);
    }

    private MemorySegment allocateLarge(long size, long align) {
        Large l;
        try {
            l = backing.allocateLarge(size, Math.max(align, SharedAllocator.DEFAULT_ALIGN));
        } catch (OutOfSharedMemoryException e) {
            failures++;
            throw e;
        }
        large.put(l.segment().address(), l);
        largeBytes += size;
        return l.segment();
    }

    /**
     * Gives a large allocation back now.
     *
     * @throws IllegalArgumentException if {@code segment} is not a live large allocation of this
     *         region (a small allocation, something else, or already freed)
     */
    public void free(MemorySegment segment) {
        checkUsable();
        Large l = large.get(segment.address());
        if (l == null || l.segment().byteSize() != segment.byteSize()) {
            boolean small = isInBlock(segment.address());
            throw new IllegalArgumentException("region '" + name + "': cannot free address=0x"
                    + Long.toHexString(segment.address()) + " size=" + segment.byteSize()
                    + (small ? ": it is a small allocation (small allocations are released by reset() or close())"
                    : ": not a live large allocation of this region (never allocated here, or freed already)"));
        }
        large.remove(segment.address());
        largeBytes -= l.segment().byteSize();
        backing.freeLarge(l);
    }

    private boolean isInBlock(long address) {
        for (int i = 0; i < blockCount; i++) {
            if (address >= blockAddress[i] && address < blockAddress[i] + blockSize) {
                return true;
            }
        }
        return false;
    }

    /** Registers an action to run on {@link #close()} (and {@link #reset()}), in reverse order. */
    public void onClose(Runnable action) {
        checkUsable();
        cleanups.add(java.util.Objects.requireNonNull(action, "action"));
    }

    /**
     * For a region over a shared allocator: the offset of {@code slice} in the allocator's
     * memory (what another process passes to its own mapping).
     */
    public long offsetOf(MemorySegment slice) {
        return backing.offsetOf(slice);
    }

    /**
     * Ends the current unit of work and keeps the blocks: runs the cleanup actions (reverse
     * order), frees every large allocation, and empties every block (failure counts too).
     * Slices handed out before stay accessible but their memory will be reused.
     */
    public void reset() {
        checkUsable();
        RuntimeException error = runCleanups(null);
        error = freeAllLarge(error);
        Arrays.fill(used, 0, blockCount, 0L);
        Arrays.fill(failed, 0, blockCount, 0);
        current = 0;
        smallAllocations = 0;
        if (error != null) {
            throw error;
        }
    }

    /**
     * Runs the cleanup actions (reverse order), frees every large allocation and every block.
     * Idempotent. In off-heap mode every slice handed out becomes inaccessible.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        checkThread();
        closed = true;
        RuntimeException error = runCleanups(null);
        error = freeAllLarge(error);
        for (int i = 0; i < blockCount; i++) {
            try {
                backing.freeBlock(blocks[i]);
            } catch (RuntimeException e) {
                error = chain(error, e);
            }
            blocks[i] = null;
        }
        blockCount = 0;
        try {
            backing.close();
        } catch (RuntimeException e) {
            error = chain(error, e);
        }
        if (error != null) {
            throw error;
        }
    }

    private RuntimeException runCleanups(RuntimeException error) {
        for (int i = cleanups.size() - 1; i >= 0; i--) {
            try {
                cleanups.get(i).run();
            } catch (RuntimeException e) {
                error = chain(error, e);
            }
        }
        cleanups.clear();
        return error;
    }

    private RuntimeException freeAllLarge(RuntimeException error) {
        for (Large l : large.values()) {
            try {
                backing.freeLarge(l);
            } catch (RuntimeException e) {
                error = chain(error, e);
            }
        }
        large.clear();
        largeBytes = 0;
        return error;
    }

    private static RuntimeException chain(RuntimeException first, RuntimeException next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    private void checkThread() {
        if (Thread.currentThread() != owner) {
            throw new WrongThreadException("region '" + name + "' belongs to thread " + owner.getName()
                    + ", called from " + Thread.currentThread().getName());
        }
    }

    private void checkUsable() {
        checkThread();
        if (closed) {
            throw new IllegalStateException("region '" + name + "' is closed");
        }
    }

    // ------------------------------------------------------------------ introspection

    /** Blocks in the chain. */
    public int blockCount() {
        return blockCount;
    }

    /** Index of the first block small requests still try. */
    public int currentBlock() {
        return current;
    }

    /** Live large allocations. */
    public int largeCount() {
        return large.size();
    }

    /**
     * Counters: {@code capacity} is the bytes of all blocks plus live large allocations,
     * {@code used} the bytes consumed in blocks (with alignment padding) plus live large bytes,
     * {@code allocations} the small allocations since the last reset plus live large ones.
     */
    public AllocatorStats stats() {
        checkThread();
        long u = 0;
        for (int i = 0; i < blockCount; i++) {
            u += used[i];
        }
        return new AllocatorStats("region", name, blockCount * blockSize + largeBytes, u + largeBytes,
                smallAllocations + large.size(), requests, failures);
    }

    @Override
    public String toString() {
        return "Region[name=" + name + ", blocks=" + blockCount + ", blockSize=" + blockSize + ", large="
                + large.size() + (closed ? ", closed" : "") + "]";
    }

    // ------------------------------------------------------------------ backings

    private interface Backing {
        MemorySegment allocateBlock(long size);

        void freeBlock(MemorySegment block);

        Large allocateLarge(long size, long align);

        void freeLarge(Large l);

        long offsetOf(MemorySegment slice);

        void close();
    }

    /** Blocks in one confined arena; each large allocation in its own confined arena. */
    private static final class ArenaBacking implements Backing {
        private final Arena arena = Arena.ofConfined();
        private final Map<Long, Arena> largeArenas = new HashMap<>();

        @Override
        public MemorySegment allocateBlock(long size) {
            return arena.allocate(size, BLOCK_ALIGN);
        }

        @Override
        public void freeBlock(MemorySegment block) {
            // released with the arena
        }

        @Override
        public Large allocateLarge(long size, long align) {
            Arena a = Arena.ofConfined();
            MemorySegment s = a.allocate(size, align);
            largeArenas.put(s.address(), a);
            return new Large(s, s.address());
        }

        @Override
        public void freeLarge(Large l) {
            largeArenas.remove(l.handle()).close();
        }

        @Override
        public long offsetOf(MemorySegment slice) {
            throw new UnsupportedOperationException("an off-heap region has no shared offsets");
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /**
     * An {@link AllocatorBacking} whose every block and large allocation is also recorded in a
     * registry slot: recorded after the allocator returned it, cleared before it is freed.
     */
    private static final class RecordedBacking implements Backing {
        private final AllocatorBacking inner;
        private final RegionRegistry.Slot slot;

        RecordedBacking(AllocatorBacking inner, RegionRegistry.Slot slot) {
            this.inner = inner;
            this.slot = slot;
        }

        private long record(long offset, long size) {
            if (!slot.record(offset)) {
                inner.allocator.free(offset);
                throw new OutOfSharedMemoryException("region registry '" + slot.registryName() + "': a region may hold "
                        + slot.capacity() + " blocks and large allocations at once; cannot add one of size=" + size);
            }
            return offset;
        }

        @Override
        public MemorySegment allocateBlock(long size) {
            long off = record(inner.allocator.allocate(size, BLOCK_ALIGN), size);
            return inner.memory.asSlice(off, size);
        }

        @Override
        public void freeBlock(MemorySegment block) {
            long off = block.address() - inner.memory.address();
            slot.unrecord(off);
            inner.allocator.free(off);
        }

        @Override
        public Large allocateLarge(long size, long align) {
            long off = record(inner.allocator.allocate(size, align), size);
            return new Large(inner.memory.asSlice(off, size), off);
        }

        @Override
        public void freeLarge(Large l) {
            slot.unrecord(l.handle());
            inner.allocator.free(l.handle());
        }

        @Override
        public long offsetOf(MemorySegment slice) {
            return inner.offsetOf(slice);
        }

        @Override
        public void close() {
            slot.release();
        }
    }

    /** Blocks and large allocations from a shared allocator. */
    private static final class AllocatorBacking implements Backing {
        private final SharedAllocator allocator;
        private final MemorySegment memory;

        AllocatorBacking(SharedAllocator allocator) {
            this.allocator = allocator;
            this.memory = allocator.memory();
        }

        @Override
        public MemorySegment allocateBlock(long size) {
            return memory.asSlice(allocator.allocate(size, BLOCK_ALIGN), size);
        }

        @Override
        public void freeBlock(MemorySegment block) {
            allocator.free(block.address() - memory.address());
        }

        @Override
        public Large allocateLarge(long size, long align) {
            long off = allocator.allocate(size, align);
            return new Large(memory.asSlice(off, size), off);
        }

        @Override
        public void freeLarge(Large l) {
            allocator.free(l.handle());
        }

        @Override
        public long offsetOf(MemorySegment slice) {
            long off = slice.address() - memory.address();
            if (off < 0 || off + slice.byteSize() > memory.byteSize()) {
                throw new IllegalArgumentException("slice at address=0x" + Long.toHexString(slice.address())
                        + " is not inside the memory of allocator '" + allocator.name() + "'");
            }
            return off;
        }

        @Override
        public void close() {
        }
    }
}
