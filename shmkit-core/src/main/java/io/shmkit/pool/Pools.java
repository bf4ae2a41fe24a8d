package io.shmkit.pool;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.Mem;
import io.shmkit.internal.PoolBlockLayout;
import io.shmkit.internal.PoolBlockLayout.Slot;
import io.shmkit.segment.Segment;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;

import static io.shmkit.internal.PoolBaseLayout.*;
import static io.shmkit.internal.PoolBlockLayout.STATE_ALLOCATED;
import static io.shmkit.internal.PoolBlockLayout.STATE_FREE;

/**
 * The object pools of one server process section ({@code CMemoryPoolMgr}): a base segment
 * holding the block size, start time, type table and block table, and data block segments
 * holding the objects. {@link #start} decides by itself between a cold start and a resume
 * ({@link #startMode()}) and validates what it resumes against the registered types and the
 * configuration.
 *
 * {@snippet :
 * PoolConfig zone = PoolConfigFile.load(Path.of("memorypool.ini")).process("zone");
 * try (Pools pools = Pools.start(zone, List.of(PLAYERS))) {
 *     Pool players = pools.pool(PLAYERS);
 *     System.out.println(pools.startMode() + " in " + pools.startDuration());
 *     long h = players.forceGet(playerId);                      // resumed or new
 *     pools.atomically(tx -> {                                  // all or nothing, even on SIGKILL
 *         GOLD.set(tx.write(h), 0L, (long) GOLD.get(players.get(h), 0L) + 10);
 *         GOLD.set(tx.write(other), 0L, (long) GOLD.get(players.get(other), 0L) - 10);
 *     });
 * }
 * }
 *
 * <p><b>One owner:</b> one live process owns a process section at a time; a second one is
 * refused with {@link io.shmkit.SegmentInUseException} naming the owner's pid. A dead owner's
 * pools are resumed by the next start.
 *
 * <p><b>Thread safety:</b> all methods may be called from any thread of the owner process.
 * Allocate, free and transactions take one lock: <em>transactions are serialised</em> (one
 * runs at a time, and no allocate or free of another thread interleaves with it), so a
 * transaction sees no other thread's partial changes made through the pools' API. Reads
 * ({@link Pool#get}, {@link Pool#find}) take no lock.
 *
 * <p><b>Crash consistency:</b> allocate and free are crash-atomic (an intent record, finished
 * or undone on resume in constant time); {@link #atomically} keeps an undo log in the base
 * segment: a transaction interrupted by SIGKILL is rolled back on resume, a committed one is
 * kept. Resume work does not depend on the number of objects (except for a migration).
 *
 * <p><b>Readers in other processes</b> use {@link PoolReader}: read-only, lock-free; each
 * object has a version word that is odd while a transaction writes it.
 */
public final class Pools implements AutoCloseable {


    final PoolConfig config;
    final Segment baseSegment;
    final MemorySegment base;
    /** Offset of the base record in {@link #base}. */
    final long b;
    final Segment[] blockSegments;
    final MemorySegment[] blocks;
    final Pool[] byId = new Pool[MAX_TYPE_ID + 1];
    final List<Pool> pools = new ArrayList<>();
    final ReentrantLock lock = new ReentrantLock();
    final UndoLog undo;
    Transaction current;
    StartMode mode;
    final List<String> report = new ArrayList<>();
    Duration startDuration = Duration.ZERO;
    private volatile boolean closed;

    Pools(PoolConfig config, Segment baseSegment, long b, Segment[] blockSegments) {
        this.config = config;
        this.baseSegment = baseSegment;
        this.base = baseSegment.memory();
        this.b = b;
        this.blockSegments = blockSegments;
        this.blocks = new MemorySegment[blockSegments.length];
        for (int i = 0; i < blockSegments.length; i++) {
            blocks[i] = blockSegments[i].memory();
        }
        this.undo = new UndoLog(this);
    }

    // ------------------------------------------------------------------ start

    /** Starts with {@link OnIncompatible#REFUSE}. */
    public static Pools start(PoolConfig config, List<TypeDef> types) {
        return start(config, types, OnIncompatible.REFUSE);
    }

    /**
     * Cold-starts or resumes the pools of {@code config} with the registered {@code types}.
     * Validates the types against the configuration first (block size large enough for one
     * object of each type and each key index), before touching any segment.
     *
     * @throws io.shmkit.LayoutMismatchException   if the data's layout or configuration differs
     *         in a way no migration bridges (the message lists every difference)
     * @throws io.shmkit.SegmentInUseException     if a live process owns these pools
     * @throws io.shmkit.UnsupportedFormatException if the base segment has a newer format
     * @throws io.shmkit.SegmentCorruptedException  for a half-initialised base, a missing or
     *         foreign data block (unless {@code onIncompatible} discards)
     * @throws PoolConfigException                  if the types do not fit the configuration
     */
    public static Pools start(PoolConfig config, List<TypeDef> types, OnIncompatible onIncompatible) {
        return new PoolStartup(config, types, onIncompatible).run();
    }

    /**
     * Removes every segment of {@code config} (base and data blocks) that exists. Refused
     * while a live process owns them.
     *
     * @return how many segments were removed
     */
    public static int remove(PoolConfig config) {
        return PoolStartup.removeAll(config, true);
    }

    /** Whether this start was a cold start or a resume. */
    public StartMode startMode() {
        return mode;
    }

    /** What the start did, one sentence a line: cold start or resume, recoveries, migrations, discards. */
    public List<String> startReport() {
        return Collections.unmodifiableList(report);
    }

    /** Time {@link #start} took (attach, validate, recover; segment creation for a cold start). */
    public Duration startDuration() {
        return startDuration;
    }

    /** When these pools were cold-started (kept across resumes). */
    public Instant startTime() {
        return Instant.ofEpochMilli(get(OFF_START_TIME));
    }

    /** The configuration. */
    public PoolConfig config() {
        return config;
    }

    /** The pool of a registered type. */
    public Pool pool(TypeDef type) {
        return pool(type.id());
    }

    /** The pool of registered type {@code id}. */
    public Pool pool(int id) {
        Pool p = id >= 0 && id <= MAX_TYPE_ID ? byId[id] : null;
        if (p == null) {
            throw new IllegalArgumentException("type id=" + id + " is not registered");
        }
        return p;
    }

    /** Every registered pool, in registration order. */
    public List<Pool> pools() {
        return Collections.unmodifiableList(pools);
    }

    // ------------------------------------------------------------------ transactions

    /** Runs {@code body} as one transaction; see {@link #atomicallyGet(Function)}. */
    public void atomically(Consumer<Transaction> body) {
        atomicallyGet(tx -> {
            body.accept(tx);
            return null;
        });
    }

    /**
     * Runs {@code body} as one transaction: every object changed through
     * {@link Transaction#write}, allocated or freed inside it changes together or not at all.
     * If {@code body} throws, its changes are rolled back here and the exception propagates;
     * if the process dies, they are rolled back on the next resume. Transactions are
     * serialised (see the class comment); a nested call joins the running transaction.
     */
    public <T> T atomicallyGet(Function<Transaction, T> body) {
        lock.lock();
        try {
            ensureOpen();
            if (current != null) {
                return body.apply(current);
            }
            Transaction tx = new Transaction(this);
            current = tx;
            undo.begin();
            T result;
            try {
                result = body.apply(tx);
            } catch (RuntimeException | Error e) {
                current = null;
                undo.rollback();
                throw e;
            }
            current = null;
            undo.commit();
            return result;
        } finally {
            lock.unlock();
        }
    }

    /** Transactions committed and rolled back since the cold start. */
    public long[] transactionCounts() {
        return new long[]{get(OFF_UNDO + UndoHeader.OFF_COMMITS), get(OFF_UNDO + UndoHeader.OFF_ROLLBACKS)};
    }

    // ------------------------------------------------------------------ allocate / free

    long allocate(Pool p, long key, Transaction unused) {
        lock.lock();
        try {
            ensureOpen();
            if (p.keyed && p.index.findLocked(key) != Handles.NONE) {
                throw new IllegalStateException(p.def.label() + ": key " + key + " exists already");
            }
            long e = p.entry;
            long head = get0(e + TypeEntry.OFF_HEAD);
            long hwm = get0(e + TypeEntry.OFF_HWM);
            long used = get0(e + TypeEntry.OFF_USED);
            boolean fromList = head >= 0;
            long slot;
            if (fromList) {
                slot = head;
            } else {
                if (hwm >= get0(e + TypeEntry.OFF_CAPACITY)) {
                    return Handles.NONE;
                }
                if (hwm >= ((long) p.chunks << p.shift) && !grow(p)) {
                    return Handles.NONE;
                }
                slot = hwm;
            }
            MemorySegment m = p.slotMemory(slot);
            long at = p.slotOffset(slot);
            long prevMeta = fromList ? Mem.getLong(m, at + Slot.OFF_META) : 0;
            long gen = fromList ? Handles.nextGeneration(PoolBlockLayout.generation(prevMeta)) : 1;
            long newMeta = PoolBlockLayout.meta(gen, STATE_ALLOCATED);
            long handle = Handles.of(p.id, slot, gen);
            long prevNext = fromList ? Mem.getLong(m, at + p.recordAt) : 0;
            if (current != null) {
                undo.logAllocated(handle, p); // before the allocation: a rollback frees it
            }
            beginIntent(OP_ALLOCATE, p.id, slot, head, prevMeta, used, hwm, key, prevNext, newMeta);
            if (fromList) {
                set0(e + TypeEntry.OFF_HEAD, prevNext);
            } else {
                // release: a lock-free forEach of another thread that sees the new mark sees the chunk it lies in
                Mem.setLongRelease(base, e + TypeEntry.OFF_HWM, hwm + 1);
                Mem.setLong(m, at + Slot.OFF_VERSION, 0L);
            }
            m.asSlice(at + p.recordAt, p.stride - p.recordAt).fill((byte) 0);
            if (p.keyed) {
                Mem.setLong(m, at + Slot.OFF_KEY, key);
            }
            // release: readers that see STATE_ALLOCATED see the zeroed record and its key
            Mem.setLongRelease(m, at + Slot.OFF_META, newMeta);
            set0(e + TypeEntry.OFF_USED, used + 1);
            if (p.keyed) {
                p.index.insert(key, handle);
            }
            endIntent();
            return handle;
        } finally {
            lock.unlock();
        }
    }

    void free(Pool p, long handle) {
        lock.lock();
        try {
            ensureOpen();
            p.get(handle); // throws StaleHandleException for a double free or a foreign handle
            if (current != null) {
                undo.logFreeAtCommit(handle);
                return;
            }
            freeNow(p, handle);
        } finally {
            lock.unlock();
        }
    }

    /** Frees at once (under the lock, outside a transaction or at its commit). */
    void freeNow(Pool p, long handle) {
        int slot = Handles.slot(handle);
        MemorySegment m = p.slotMemory(slot);
        long at = p.slotOffset(slot);
        long meta = Mem.getLong(m, at + Slot.OFF_META);
        long e = p.entry;
        long head = get0(e + TypeEntry.OFF_HEAD);
        long used = get0(e + TypeEntry.OFF_USED);
        long key = p.keyed ? Mem.getLong(m, at + Slot.OFF_KEY) : 0;
        beginIntent(OP_FREE, p.id, slot, head, meta, used, get0(e + TypeEntry.OFF_HWM), key, 0, 0);
        redoFree(p, slot, head, meta, used, key);
        endIntent();
    }

    /** The free, from its intent: idempotent, so a resume may repeat it. */
    void redoFree(Pool p, long slot, long prevHead, long meta, long prevUsed, long key) {
        MemorySegment m = p.slotMemory(slot);
        long at = p.slotOffset(slot);
        long gen = PoolBlockLayout.generation(meta);
        Mem.setLongRelease(m, at + Slot.OFF_META, PoolBlockLayout.meta(gen, STATE_FREE));
        Mem.setLong(m, at + p.recordAt, prevHead);
        set0(p.entry + TypeEntry.OFF_HEAD, slot);
        set0(p.entry + TypeEntry.OFF_USED, prevUsed - 1);
        if (p.keyed) {
            p.index.remove(key, Handles.of(p.id, slot, gen));
        }
    }

    /** Gives the type a new chunk of slots from the first data block with room. */
    boolean grow(Pool p) {
        if (p.chunks >= MAX_CHUNKS) {
            return false;
        }
        long need = chunkBytes(p.stride, 1L << p.shift);
        int block = -1;
        for (int i = 0; i < blocks.length; i++) {
            if (get0(b + blockEntry(i) + BlockEntry.OFF_FREE) >= need) {
                block = i;
                break;
            }
        }
        if (block < 0) {
            return false;
        }
        long bu = b + blockEntry(block);
        long prevUsed = get0(bu + BlockEntry.OFF_USED);
        long e = p.entry;
        set0(b + OFF_INTENT + Intent.OFF_PREV_CHUNKS, p.chunks);
        set0(b + OFF_INTENT + Intent.OFF_BLOCK, block);
        set0(b + OFF_INTENT + Intent.OFF_PREV_BLOCK_USED, prevUsed);
        Mem.setInt(base, b + OFF_INTENT + Intent.OFF_TYPE, p.id);
        // volatile: the intent is complete in memory before the first change below
        Mem.setIntVolatile(base, b + OFF_INTENT + Intent.OFF_OP, OP_GROW);
        long offset = blockDataStart() + prevUsed;
        set0(chunk(e - b, p.chunks) + b, chunkWord(block, offset));
        set0(bu + BlockEntry.OFF_USED, prevUsed + need);
        set0(bu + BlockEntry.OFF_FREE, config.usableBlockBytes() - prevUsed - need);
        set0(e + TypeEntry.OFF_CHUNK_COUNT, p.chunks + 1);
        attachChunk(p, p.chunks, block, offset);
        p.chunks++;
        endIntent();
        return true;
    }

    void attachChunk(Pool p, int c, int block, long offset) {
        p.chunkMem[c] = blocks[block];
        p.chunkBase[c] = offset;
        p.chunkBlock[c] = block;
        MemorySegment[] views = Arrays.copyOf(p.views, Math.max(p.views.length, c + 1));
        views[c] = blocks[block].asSlice(offset, chunkBytes(p.stride, 1L << p.shift));
        p.views = views; // a new array, filled before it is published
    }

    static long chunkBytes(long stride, long slots) {
        return (stride * slots + 63) & -64L;
    }

    static long blockDataStart() {
        return Segment.PAGE_SIZE + PoolBlockLayout.HEADER_BYTES;
    }

    private void beginIntent(int op, int type, long slot, long prevHead, long prevMeta, long prevUsed, long prevHwm,
                             long key, long prevNext, long newMeta) {
        long i = b + OFF_INTENT;
        Mem.setInt(base, i + Intent.OFF_TYPE, type);
        Mem.setLong(base, i + Intent.OFF_SLOT, slot);
        Mem.setLong(base, i + Intent.OFF_PREV_HEAD, prevHead);
        Mem.setLong(base, i + Intent.OFF_PREV_META, prevMeta);
        Mem.setLong(base, i + Intent.OFF_PREV_USED, prevUsed);
        Mem.setLong(base, i + Intent.OFF_PREV_HWM, prevHwm);
        Mem.setLong(base, i + Intent.OFF_KEY, key);
        Mem.setLong(base, i + Intent.OFF_PREV_NEXT, prevNext);
        Mem.setLong(base, i + Intent.OFF_NEW_META, newMeta);
        // volatile: the intent is complete in memory before the first change it describes
        Mem.setIntVolatile(base, i + Intent.OFF_OP, op);
    }

    private void endIntent() {
        // release: every change of the operation is in memory before the intent is cleared
        Mem.setIntRelease(base, b + OFF_INTENT + Intent.OFF_OP, OP_NONE);
    }

    // ------------------------------------------------------------------ verify / close

    /**
     * Checks every invariant: per type, the allocated slots counted from their meta words
     * equal the used count, the free list holds exactly the other handed-out slots (no cycle,
     * no allocated slot), every key of a keyed type maps to its object and the index holds no
     * other entry; the block table accounts for every chunk. O(objects).
     *
     * @throws SegmentCorruptedException naming the first broken invariant
     */
    public void verify() {
        lock.lock();
        try {
            ensureOpen();
            new PoolVerifier(this).run();
        } finally {
            lock.unlock();
        }
    }

    /** Gives up ownership and detaches; the segments and every object stay for the next start. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            OwnerRecord.release(base, b + OFF_OWNER);
            for (Segment s : blockSegments) {
                s.close();
            }
            baseSegment.close();
        } finally {
            lock.unlock();
        }
    }

    /** Closes and removes every segment of this process section: the objects are gone. */
    public void closeAndRemove() {
        close();
        PoolStartup.removeAll(config, false);
    }

    void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("pools of process '" + config.process() + "' are closed");
        }
    }

    // ------------------------------------------------------------------ base record access

    long get(long off) {
        return Mem.getLongAcquire(base, b + off);
    }

    long get0(long absolute) {
        return Mem.getLong(base, absolute);
    }

    void set0(long absolute, long v) {
        Mem.setLong(base, absolute, v);
    }

    long typeLong(Pool p, long field) {
        return Mem.getLongAcquire(base, p.entry + field);
    }

    @Override
    public String toString() {
        return "Pools[" + config.process() + ", " + mode + ", types=" + pools.size() + "]";
    }
}
