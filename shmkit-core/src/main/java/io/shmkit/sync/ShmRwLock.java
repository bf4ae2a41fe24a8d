package io.shmkit.sync;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.UnsupportedFormatException;
import io.shmkit.internal.Formats;
import io.shmkit.internal.Mem;
import io.shmkit.internal.OwnerTable;
import io.shmkit.internal.Procs;
import io.shmkit.internal.RwLockLayout;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import static io.shmkit.internal.RwLockLayout.FORMAT;
import static io.shmkit.internal.RwLockLayout.MAGIC;
import static io.shmkit.internal.RwLockLayout.MAX_READER_SLOTS;
import static io.shmkit.internal.RwLockLayout.OFF_EXIT_SEQ;
import static io.shmkit.internal.RwLockLayout.OFF_FORMAT;
import static io.shmkit.internal.RwLockLayout.OFF_MAGIC;
import static io.shmkit.internal.RwLockLayout.OFF_MUTEX;
import static io.shmkit.internal.RwLockLayout.OFF_SLOTS;
import static io.shmkit.internal.RwLockLayout.OFF_WSTATE;
import static io.shmkit.internal.RwLockLayout.ReaderSlot.OFF_COUNT;
import static io.shmkit.internal.RwLockLayout.ReaderSlot.OFF_OWNER;
import static io.shmkit.internal.RwLockLayout.ReaderSlot.OWNER_FREE;
import static io.shmkit.internal.RwLockLayout.ReaderSlot.OWNER_RECLAIMING;
import static io.shmkit.internal.RwLockLayout.WSTATE_READERS_WAITING;
import static io.shmkit.internal.RwLockLayout.WSTATE_WRITER;

/**
 * A robust, writer-preferring read-write lock in shared memory: many readers or one writer,
 * across any mix of threads and processes.
 *
 * <p><b>Layout.</b> {@link #bytesNeeded(int)} bytes (layout descriptor {@code RwLockLayout}): a
 * line holding the writer state (the readers' futex word), the readers' exit sequence (the
 * writer's futex word), the slot count, the format and the magic; a line holding the writer
 * {@link ShmMutex}; then one line per reader slot, each naming the process that owns it (its
 * owner id, as in {@link ShmMutex}, "Owner identity") and counting its read locks.
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
        if (readerSlots < 1 || readerSlots > MAX_READER_SLOTS) {
            throw new IllegalArgumentException("readerSlots=" + readerSlots + " must be in [1, " + MAX_READER_SLOTS + "]");
        }
        return RwLockLayout.bytes(readerSlots);
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
        Mem.setInt(memory, offset + OFF_SLOTS, readerSlots);
        Formats.publish(memory, offset + OFF_MAGIC, MAGIC, offset + OFF_FORMAT, FORMAT);
        return new ShmRwLock(memory, offset, readerSlots, m);
    }

    /**
     * Attaches to a lock made by {@link #create}.
     *
     * @throws SegmentCorruptedException  if there is no valid lock at {@code offset}
     * @throws UnsupportedFormatException if the lock there has another format
     */
    public static ShmRwLock open(MemorySegment memory, long offset) {
        SyncMemory.check(memory, offset, RwLockLayout.HEADER_BYTES);
        Formats.check(memory, offset + OFF_MAGIC, MAGIC, offset + OFF_FORMAT, FORMAT, "ShmRwLock at offset=" + offset,
                RwLockLayout.MAGIC_FORMAT_1, RwLockLayout.MAGIC_FORMAT_2);
        int n = Mem.getInt(memory, offset + OFF_SLOTS);
        if (n < 1 || n > MAX_READER_SLOTS || offset + bytesNeeded(n) > memory.byteSize()) {
            throw new SegmentCorruptedException("ShmRwLock at offset=" + offset + " has readerSlots=" + n
                    + ", outside [1, " + MAX_READER_SLOTS + "] or beyond the memory (byteSize=" + memory.byteSize() + ")");
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
        if (Mem.getIntVolatile(mem, base + OFF_WSTATE) == 0 && enterAsReader(count)) {
            return readerResult();
        }
        return LockResult.BUSY;
    }

    private LockResult readerResult() {
        return writers.isConsistent() ? LockResult.ACQUIRED : LockResult.OWNER_DIED;
    }

    /** Counts in, re-checks for a writer; backs out (and wakes a writer) if one appeared. */
    private boolean enterAsReader(long count) {
        // full fence: a writer setting WSTATE_WRITER after this sees our count, or we see WSTATE_WRITER
        Mem.getAndAddLong(mem, count, 1L);
        if (Mem.getIntVolatile(mem, base + OFF_WSTATE) == 0) {
            return true;
        }
        leaveAsReader(count);
        return false;
    }

    private void leaveAsReader(long count) {
        // full fence, release: publishes nothing of ours (readers do not write) but orders the
        // decrement before the wstate check, pairing with the writer's set-then-scan
        Mem.getAndAddLong(mem, count, -1L);
        if (Mem.getIntVolatile(mem, base + OFF_WSTATE) != 0) {
            Mem.getAndAddInt(mem, base + OFF_EXIT_SEQ, 1);
            Futex.wake(exitSeqAddress, 1);
        }
    }

    private LockResult readLockImpl(boolean timed, long deadline) {
        long count = slotCount();
        long nextCheck = System.nanoTime() + Futex.CHECK_INTERVAL_NANOS;
        int spins = 0;
        while (true) {
            int ws = Mem.getIntVolatile(mem, base + OFF_WSTATE);
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
            if ((ws & WSTATE_READERS_WAITING) == 0) {
                if (!Mem.casInt(mem, base + OFF_WSTATE, ws, ws | WSTATE_READERS_WAITING)) {
                    continue;
                }
                ws |= WSTATE_READERS_WAITING;
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
        int old = Mem.getAndSetInt(mem, base + OFF_WSTATE, 0);
        if ((old & WSTATE_READERS_WAITING) != 0) {
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
        if (count < 0 || Mem.getLongVolatile(mem, count) <= 0) {
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
                    if (Mem.getLongVolatile(mem, s + OFF_OWNER) == me) {
                        return mySlotCount = s + OFF_COUNT;
                    }
                }
                for (int i = 0; i < slots; i++) {
                    long s = slot(i);
                    if (Mem.casLong(mem, s + OFF_OWNER, OWNER_FREE, me)) {
                        return mySlotCount = s + OFF_COUNT;
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
        return base + RwLockLayout.slot(i);
    }

    /** Frees slot {@code s} if its process is gone; returns whether the slot now counts 0 readers. */
    private boolean reclaimIfDead(long s) {
        long stamp = Mem.getLongVolatile(mem, s + OFF_OWNER);
        if (stamp == OWNER_FREE || stamp == OWNER_RECLAIMING || stamp == me
                || (stamp >>> 32 == 0 && !owners.check((int) stamp).dead())) { // a word above 32 bits is garbage
            return Mem.getLongVolatile(mem, s + OFF_COUNT) <= 0; // free, ours, or (maybe) alive
        }
        // only one reclaimer wins; claimers only take slots whose stamp is 0
        if (Mem.casLong(mem, s + OFF_OWNER, stamp, OWNER_RECLAIMING)) {
            Mem.setLongVolatile(mem, s + OFF_COUNT, 0L);
            // release: the zeroed count is visible before the slot can be claimed again
            Mem.setLongRelease(mem, s + OFF_OWNER, OWNER_FREE);
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
        Mem.getAndOrInt(mem, base + OFF_WSTATE, WSTATE_WRITER);
        if (readersGone(true)) {
            return r;
        }
        abandonWrite();
        return LockResult.BUSY;
    }

    private LockResult writeLockImpl(boolean timed, long deadline) {
        // announce: from here on new readers wait (writer preference)
        Mem.getAndOrInt(mem, base + OFF_WSTATE, WSTATE_WRITER);
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
        Mem.getAndOrInt(mem, base + OFF_WSTATE, WSTATE_WRITER);
        long nextCheck = System.nanoTime();
        while (true) {
            int seq = Mem.getIntVolatile(mem, base + OFF_EXIT_SEQ);
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
            if (Mem.getLongVolatile(mem, s + OFF_COUNT) > 0) {
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
            n += Math.max(0, Mem.getLongVolatile(mem, slot(i) + OFF_COUNT));
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
