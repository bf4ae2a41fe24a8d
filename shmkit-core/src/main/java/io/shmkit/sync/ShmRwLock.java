package io.shmkit.sync;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.OwnerTable;
import io.shmkit.internal.Procs;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;

/**
 * A robust, writer-preferring read-write lock in shared memory: many readers or one writer,
 * across any mix of threads and processes.
 *
 * <p><b>Layout</b> ({@link #bytesNeeded(int)} bytes; the only place these offsets are written down):
 * <pre>
 *  0        4          8          12          16       24                      64
 *  +--------+----------+----------+-----------+--------+-----------------------+
 *  | wstate | exitSeq  | slots    | reserved  | magic  | reserved              |  line 0
 *  +--------+----------+----------+-----------+--------+-----------------------+
 *  | writer mutex: a ShmMutex (64 bytes)                                       |  line 1
 *  +---------------------------------------------------------------------------+
 *  | reader slot 0: owner (owner id, unsigned) u64, count i64, padding          |  line 2
 *  | reader slot 1 ...                                                         |  one line each
 *  +---------------------------------------------------------------------------+
 *  wstate:  bit 0 WRITER (a writer holds or wants the lock: new readers wait),
 *           bit 1 READERS_WAITING (readers sleep on wstate); the readers' futex word
 *  exitSeq: bumped by a reader leaving while WRITER is set; the writer's futex word
 *  owner:   0 free, -1 being reclaimed, else the owner id (OwnerTable.id()) of the
 *           process owning the slot: its attach-table registration
 *  magic:   "SHMRWLK2"; "SHMRWLK1" (reader slots naming pid and start time) is refused
 * </pre>
 *
 * <p><b>Writers</b> serialise on an embedded {@link ShmMutex}, announce themselves in
 * {@code wstate} (from then on no new reader enters: writer preference), then wait until every
 * reader slot count is 0. <b>Readers</b> count themselves in their process's slot (one slot per
 * process, all its threads share it), then re-check {@code wstate}; if a writer appeared they
 * back out and wait. Uncontended read lock and unlock are one atomic add each plus a read.
 *
 * <p><b>When a writer dies</b> holding the lock, the next writer's {@link #writeLock()} returns
 * {@link LockResult#OWNER_DIED} (the writer mutex's dead-owner detection, at most ~5 ms
 * after the death): it must repair the protected data and call {@link #markConsistent()}
 * before {@link #writeUnlock()}. Readers waiting behind a dead writer do not wait for a
 * writer to come: within ~5 ms one of them takes the writer mutex over, clears the stale
 * writer flag and lets the readers in. Until a writer marks the lock consistent, every
 * acquisition (read or write) returns {@code OWNER_DIED}, telling readers the data may be
 * half written.
 *
 * <p><b>When a reader dies</b> holding a read lock, its process's slot count stays above zero.
 * A writer waiting for readers re-checks such slots every ~5 ms and reclaims the slot of a
 * process whose registration ended (see {@link ShmMutex}, "Owner identity"; an owner whose
 * liveness cannot be told keeps its slot);
 * readers change nothing, so the data stays consistent. Slots of exited processes are also
 * reclaimed when a new process needs one.
 *
 * <p><b>Ownership.</b> The write lock is owned by a thread (only it may {@code writeUnlock}).
 * Read locks are counted per process: {@link #readUnlock()} throws
 * {@link IllegalMonitorStateException} only when this process holds no read lock. Neither side
 * is reentrant; a thread holding a read lock must not ask for the write lock (self-deadlock
 * until a timeout). Acquisitions are uninterruptible.
 */
public final class ShmRwLock {

    /** Reader slots (processes reading at once) when none is given. */
    public static final int DEFAULT_READER_SLOTS = 32;
    /** Recommended alignment; 8 is the minimum accepted. */
    public static final long ALIGNMENT = 64;
    /** Bytes of a lock with {@link #DEFAULT_READER_SLOTS}. */
    public static final long SIZE = bytesNeeded(DEFAULT_READER_SLOTS);

    static final long OFF_WSTATE = 0;
    static final long OFF_EXIT_SEQ = 4;
    static final long OFF_SLOTS = 8;
    static final long OFF_MAGIC = 16;
    static final long OFF_MUTEX = 64;
    static final long OFF_SLOT_TABLE = 128;
    static final long SLOT_BYTES = 64;
    static final long SLOT_OWNER = 0;
    static final long SLOT_COUNT = 8;
    /** "SHMRWLK2" as a little-endian long. */
    static final long MAGIC = 0x324B_4C57_524D_4853L;
    /** "SHMRWLK1": format 1 (reader slots named pid and start time), refused clearly. */
    static final long MAGIC_V1 = 0x314B_4C57_524D_4853L;

    static final int WRITER = 1;
    static final int READERS_WAITING = 2;
    static final long RECLAIMING = -1L;

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    /** Serialises slot claiming within this process, so all instances share one slot. */
    private static final Object CLAIM = new Object();

    private final MemorySegment mem;
    private final long base;
    private final int slots;
    private final ShmMutex writers;
    private final long wstateAddress;
    private final long exitSeqAddress;
    /** Liveness of reader-slot owners for the memory this lock is in. */
    private final OwnerTable owners;
    /** This process's reader-slot owner value: its owner id, unsigned (never 0 or -1). */
    private final long me;
    /** Offset of this process's reader slot count, or -1 before the first read lock. */
    private volatile long mySlotCount = -1;

    private ShmRwLock(MemorySegment memory, long offset, int slots, ShmMutex writers) {
        this.mem = memory;
        this.base = offset;
        this.slots = slots;
        this.writers = writers;
        this.wstateAddress = memory.address() + offset + OFF_WSTATE;
        this.exitSeqAddress = memory.address() + offset + OFF_EXIT_SEQ;
        this.owners = OwnerTable.of(memory, offset);
        this.me = Integer.toUnsignedLong(owners.id());
    }

    /** Bytes a lock with {@code readerSlots} slots occupies (a multiple of 64). */
    public static long bytesNeeded(int readerSlots) {
        if (readerSlots < 1 || readerSlots > 4096) {
            throw new IllegalArgumentException("readerSlots=" + readerSlots + " must be in [1, 4096]");
        }
        return OFF_SLOT_TABLE + readerSlots * SLOT_BYTES;
    }

    /** Initialises a lock with {@link #DEFAULT_READER_SLOTS} at {@code offset}. */
    public static ShmRwLock create(MemorySegment memory, long offset) {
        return create(memory, offset, DEFAULT_READER_SLOTS);
    }

    /**
     * Initialises a lock whose readers may come from up to {@code readerSlots} processes at a
     * time; nothing else may use the memory yet.
     */
    public static ShmRwLock create(MemorySegment memory, long offset, int readerSlots) {
        long size = bytesNeeded(readerSlots);
        SyncMemory.clear(memory, offset, size);
        ShmMutex m = ShmMutex.create(memory, offset + OFF_MUTEX);
        memory.set(ValueLayout.JAVA_INT, offset + OFF_SLOTS, readerSlots);
        SyncMemory.publish(memory, offset + OFF_MAGIC, MAGIC);
        return new ShmRwLock(memory, offset, readerSlots, m);
    }

    /**
     * Attaches to a lock made by {@link #create}.
     *
     * @throws SegmentCorruptedException if there is no valid lock at {@code offset}
     */
    public static ShmRwLock open(MemorySegment memory, long offset) {
        SyncMemory.checkMagic(memory, offset, OFF_SLOT_TABLE, offset + OFF_MAGIC, MAGIC, MAGIC_V1, "ShmRwLock");
        int n = memory.get(ValueLayout.JAVA_INT, offset + OFF_SLOTS);
        if (n < 1 || n > 4096 || offset + bytesNeeded(n) > memory.byteSize()) {
            throw new SegmentCorruptedException("ShmRwLock at offset=" + offset + " has readerSlots=" + n
                    + ", outside [1, 4096] or beyond the memory (byteSize=" + memory.byteSize() + ")");
        }
        return new ShmRwLock(memory, offset, n, ShmMutex.open(memory, offset + OFF_MUTEX));
    }

    // ------------------------------------------------------------------ readers

    /**
     * Acquires a read lock, waiting while a writer holds or wants the lock. Returns
     * {@link LockResult#ACQUIRED}, or {@link LockResult#OWNER_DIED} if a writer died and no
     * writer has repaired the data yet (the caller holds the read lock either way).
     */
    public LockResult readLock() {
        return readLockImpl(false, 0L);
    }

    /** Like {@link #readLock()}; returns {@link LockResult#TIMED_OUT} after {@code timeout}. */
    public LockResult readLock(long timeout, TimeUnit unit) {
        return readLockImpl(true, System.nanoTime() + Math.max(0, unit.toNanos(timeout)));
    }

    /** A read lock if no writer holds or wants the lock; else {@link LockResult#BUSY}. */
    public LockResult tryReadLock() {
        long count = slotCount();
        if ((int) INT.getVolatile(mem, base + OFF_WSTATE) == 0 && enterAsReader(count)) {
            return readerResult();
        }
        return LockResult.BUSY;
    }

    private LockResult readerResult() {
        return writers.isConsistent() ? LockResult.ACQUIRED : LockResult.OWNER_DIED;
    }

    /** Counts in, re-checks for a writer; backs out (and wakes a writer) if one appeared. */
    private boolean enterAsReader(long count) {
        // full fence: a writer setting WRITER after this sees our count, or we see WRITER
        LONG.getAndAdd(mem, count, 1L);
        if ((int) INT.getVolatile(mem, base + OFF_WSTATE) == 0) {
            return true;
        }
        leaveAsReader(count);
        return false;
    }

    private void leaveAsReader(long count) {
        // full fence, release: publishes nothing of ours (readers do not write) but orders the
        // decrement before the wstate check, pairing with the writer's set-then-scan
        LONG.getAndAdd(mem, count, -1L);
        if ((int) INT.getVolatile(mem, base + OFF_WSTATE) != 0) {
            INT.getAndAdd(mem, base + OFF_EXIT_SEQ, 1);
            Futex.wake(exitSeqAddress, 1);
        }
    }

    private LockResult readLockImpl(boolean timed, long deadline) {
        long count = slotCount();
        long nextCheck = System.nanoTime() + Futex.CHECK_INTERVAL_NANOS;
        int spins = 0;
        while (true) {
            int ws = (int) INT.getVolatile(mem, base + OFF_WSTATE);
            if (ws == 0) {
                if (enterAsReader(count)) {
                    return readerResult();
                }
                continue;
            }
            if (spins++ < 100) {
                Thread.onSpinWait();
                continue;
            }
            long now = System.nanoTime();
            if (timed && now - deadline >= 0) {
                return LockResult.TIMED_OUT;
            }
            if (now - nextCheck >= 0) {
                nextCheck = now + Futex.CHECK_INTERVAL_NANOS;
                clearStaleWriterFlag();
                continue;
            }
            if ((ws & READERS_WAITING) == 0) {
                if (!INT.compareAndSet(mem, base + OFF_WSTATE, ws, ws | READERS_WAITING)) {
                    continue;
                }
                ws |= READERS_WAITING;
            }
            long sleep = nextCheck - now;
            if (timed) {
                sleep = Math.min(sleep, deadline - now);
            }
            Futex.await(wstateAddress, ws, sleep);
        }
    }

    /**
     * Slow path for readers kept out by the writer flag: if the writer mutex is free or its
     * owner is dead, no writer is active and the flag is stale (a writer died or gave up).
     * Take the mutex, clear the flag, wake the readers, release it. A dead writer's
     * inconsistency is left for the next writer to repair.
     */
    private void clearStaleWriterFlag() {
        LockResult r = writers.tryLock();
        if (!r.acquired()) {
            return;
        }
        try {
            clearWriterFlag();
        } finally {
            writers.unlock(); // deliberately without markConsistent(): only a writer can repair
        }
    }

    private void clearWriterFlag() {
        // release: the writer's data writes happen-before readers who see wstate == 0
        int old = (int) INT.getAndSet(mem, base + OFF_WSTATE, 0);
        if ((old & READERS_WAITING) != 0) {
            Futex.wake(wstateAddress, Integer.MAX_VALUE);
        }
    }

    /**
     * Releases a read lock held by this process.
     *
     * @throws IllegalMonitorStateException if this process holds no read lock
     */
    public void readUnlock() {
        long count = mySlotCount;
        if (count < 0 || (long) LONG.getVolatile(mem, count) <= 0) {
            throw new IllegalMonitorStateException("readUnlock without a read lock held by this process (pid="
                    + Procs.PID + ") on ShmRwLock at offset=" + base);
        }
        leaveAsReader(count);
    }

    /** Offset of this process's slot count, claiming a slot on first use. */
    private long slotCount() {
        long c = mySlotCount;
        return c >= 0 ? c : claimSlot();
    }

    private long claimSlot() {
        synchronized (CLAIM) {
            for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < slots; i++) {
                    long s = slot(i);
                    if ((long) LONG.getVolatile(mem, s + SLOT_OWNER) == me) {
                        return mySlotCount = s + SLOT_COUNT;
                    }
                }
                for (int i = 0; i < slots; i++) {
                    long s = slot(i);
                    if (LONG.compareAndSet(mem, s + SLOT_OWNER, 0L, me)) {
                        return mySlotCount = s + SLOT_COUNT;
                    }
                }
                for (int i = 0; i < slots; i++) {
                    reclaimIfDead(slot(i));
                }
            }
        }
        throw new IllegalStateException("all readerSlots=" + slots + " of ShmRwLock at offset=" + base
                + " belong to live processes; create it with more slots");
    }

    private long slot(int i) {
        return base + OFF_SLOT_TABLE + i * SLOT_BYTES;
    }

    /** Frees slot {@code s} if its process is gone; returns whether the slot now counts 0 readers. */
    private boolean reclaimIfDead(long s) {
        long stamp = (long) LONG.getVolatile(mem, s + SLOT_OWNER);
        if (stamp == 0 || stamp == RECLAIMING || stamp == me
                || (stamp >>> 32 == 0 && !owners.check((int) stamp).dead())) { // a word above 32 bits is garbage
            return (long) LONG.getVolatile(mem, s + SLOT_COUNT) <= 0; // free, ours, or (maybe) alive
        }
        // only one reclaimer wins; claimers only take slots whose stamp is 0
        if (LONG.compareAndSet(mem, s + SLOT_OWNER, stamp, RECLAIMING)) {
            LONG.setVolatile(mem, s + SLOT_COUNT, 0L);
            // release: the zeroed count is visible before the slot can be claimed again
            LONG.setRelease(mem, s + SLOT_OWNER, 0L);
        }
        return true;
    }

    // ------------------------------------------------------------------ writers

    /**
     * Acquires the write lock: waits for the writer mutex, then for all readers to leave.
     * Returns {@link LockResult#ACQUIRED} or {@link LockResult#OWNER_DIED} (a writer died or
     * the lock was left inconsistent: repair, {@link #markConsistent()}, then unlock).
     */
    public LockResult writeLock() {
        return writeLockImpl(false, 0L);
    }

    /** Like {@link #writeLock()}; returns {@link LockResult#TIMED_OUT} after {@code timeout}. */
    public LockResult writeLock(long timeout, TimeUnit unit) {
        return writeLockImpl(true, System.nanoTime() + Math.max(0, unit.toNanos(timeout)));
    }

    /** The write lock if the writer mutex is free and no reader holds the lock; else BUSY. */
    public LockResult tryWriteLock() {
        LockResult r = writers.tryLock();
        if (!r.acquired()) {
            return LockResult.BUSY;
        }
        INT.getAndBitwiseOr(mem, base + OFF_WSTATE, WRITER);
        if (readersGone(true)) {
            return r;
        }
        abandonWrite();
        return LockResult.BUSY;
    }

    private LockResult writeLockImpl(boolean timed, long deadline) {
        // announce: from here on new readers wait (writer preference)
        INT.getAndBitwiseOr(mem, base + OFF_WSTATE, WRITER);
        LockResult r;
        if (timed) {
            r = writers.lock(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (r == LockResult.TIMED_OUT) {
                return r; // our flag, if still set, is cleared by the holder or by a reader's check
            }
        } else {
            r = writers.lock();
        }
        // again under the mutex: a reader may have cleared the flag while we waited
        INT.getAndBitwiseOr(mem, base + OFF_WSTATE, WRITER);
        long nextCheck = System.nanoTime();
        while (true) {
            int seq = (int) INT.getVolatile(mem, base + OFF_EXIT_SEQ);
            long now = System.nanoTime();
            boolean check = now - nextCheck >= 0;
            if (check) {
                nextCheck = now + Futex.CHECK_INTERVAL_NANOS;
            }
            if (readersGone(check)) {
                return r;
            }
            if (timed && now - deadline >= 0) {
                abandonWrite();
                return LockResult.TIMED_OUT;
            }
            long sleep = nextCheck - now;
            if (timed) {
                sleep = Math.min(sleep, deadline - now);
            }
            Futex.await(exitSeqAddress, seq, sleep);
        }
    }

    /** Whether no slot counts a reader; with {@code reclaim}, dead processes' slots are freed. */
    private boolean readersGone(boolean reclaim) {
        boolean gone = true;
        for (int i = 0; i < slots; i++) {
            long s = slot(i);
            if ((long) LONG.getVolatile(mem, s + SLOT_COUNT) > 0) {
                if (!reclaim || !reclaimIfDead(s)) {
                    gone = false;
                }
            }
        }
        return gone;
    }

    private void abandonWrite() {
        if (!writers.hasWaitersHint()) {
            clearWriterFlag();
        }
        writers.unlock();
    }

    /**
     * Releases the write lock. If other writers queue on the writer mutex the writer flag stays
     * set (readers keep waiting: writer preference), else waiting readers are woken.
     *
     * @throws IllegalMonitorStateException if the calling thread does not hold the write lock
     */
    public void writeUnlock() {
        if (!writers.isHeldByCurrentThread()) {
            throw new IllegalMonitorStateException("writeUnlock by a thread that does not hold the write lock of ShmRwLock at offset=" + base);
        }
        abandonWrite();
    }

    /** After {@link LockResult#OWNER_DIED} from {@link #writeLock()}: the data is repaired. */
    public void markConsistent() {
        writers.markConsistent();
    }

    /** False after a writer died until a writer calls {@link #markConsistent()}. */
    public boolean isConsistent() {
        return writers.isConsistent();
    }

    /** Whether the calling thread holds the write lock. */
    public boolean isWriteLockedByCurrentThread() {
        return writers.isHeldByCurrentThread();
    }

    /** Read locks currently counted for all processes (a snapshot, for diagnostics and tests). */
    public long readers() {
        long n = 0;
        for (int i = 0; i < slots; i++) {
            n += Math.max(0, (long) LONG.getVolatile(mem, slot(i) + SLOT_COUNT));
        }
        return n;
    }

    /** Number of reader slots (processes that may read at once). */
    public int readerSlots() {
        return slots;
    }

    /** The offset of the lock in its memory. */
    public long offset() {
        return base;
    }
}
