package io.shmkit.sync;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.UnsupportedFormatException;
import io.shmkit.internal.Formats;
import io.shmkit.internal.Mem;
import io.shmkit.internal.MutexLayout;
import io.shmkit.internal.OwnerTable;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import static io.shmkit.internal.MutexLayout.FORMAT;
import static io.shmkit.internal.MutexLayout.MAGIC;
import static io.shmkit.internal.MutexLayout.OFF_FORMAT;
import static io.shmkit.internal.MutexLayout.OFF_MAGIC;
import static io.shmkit.internal.MutexLayout.OFF_TAKEOVERS;
import static io.shmkit.internal.MutexLayout.OFF_WORD;
import static io.shmkit.sync.Owners.FLAGS;
import static io.shmkit.sync.Owners.INCONSISTENT;
import static io.shmkit.sync.Owners.WAITERS;

/**
 * A robust mutual-exclusion lock that lives at an offset inside shared memory, usable by any
 * mix of threads and processes that map the same memory.
 *
 * <p><b>Layout and fast path.</b> {@link #SIZE} bytes (one 64-byte line, see
 * {@code MutexLayout}); the lock word holds the owner's identity (its process's attach-table
 * registration, see below), a per-thread token and a waiters flag. An uncontended
 * {@link #lock()} is one CAS, an uncontended {@link #unlock()} one CAS; neither allocates nor
 * makes a system call. Contended acquirers spin briefly, then sleep on a shared futex; an unlock makes
 * the {@code FUTEX_WAKE} system call only when the waiters flag is set.
 *
 * <p><b>Non-reentrant.</b> A thread that already holds the mutex and calls {@link #lock()}
 * gets an {@link IllegalStateException} instead of deadlocking; {@link #tryLock()} returns
 * {@link LockResult#BUSY}. The owner is a thread: only the locking thread may unlock.
 *
 * <p><b>Owner identity.</b> A mutex inside a {@link io.shmkit.segment.Segment} this process
 * has attached records, as its owner, the segment's attach-table registration of the locking
 * process (slot and generation) plus a thread token. The registration is held by the kernel
 * (an open-file-description lock on the segment file) for exactly the life of the process, so
 * liveness is answered without {@code /proc}, across pid namespaces and under
 * {@code hidepid}; a restarted process with its predecessor's pid has a new registration.
 * Which segment the memory belongs to is looked up once, when the instance is made.
 *
 * <p><b>When the owner dies.</b> A waiter re-checks the owner at least every 5 ms: if the
 * owner's registration ended (the kernel dropped its lock, or the slot was registered again),
 * the waiter takes the lock over and its acquiring call returns {@link LockResult#OWNER_DIED}.
 * A lock word that cannot name an owner at all (owner id 0, a slot outside the attach table,
 * generation 0) is treated the same way: taken over, reported as {@code OWNER_DIED}, and the
 * reason is logged (logger {@code io.shmkit.sync}) and available from {@link #lastRecovery()}.
 * An owner whose liveness cannot be told is never taken over (fail closed): one in memory
 * outside any segment (a bare {@link MemorySegment} such as an {@link java.lang.foreign.Arena}
 * allocation or a file this process mapped itself), one in a System V segment seen from
 * another pid namespace, or one whose process could not register (attach table full). There a
 * dead owner wedges the lock, and only timed calls return. A thread of this process that ends
 * without unlocking is not detected (as with {@link java.util.concurrent.locks.ReentrantLock}).
 *
 * <p><b>What the next owner must do.</b> After {@code OWNER_DIED} the data this mutex protects
 * may be half updated. The new owner repairs it from its source of truth, then calls
 * {@link #markConsistent()}, then {@link #unlock()}. If it unlocks without
 * {@code markConsistent()} (for example because it died too, or could not repair), the mutex
 * stays usable but remains <em>inconsistent</em>: every later acquirer is again told
 * {@code OWNER_DIED} until one of them marks it consistent. (This differs from POSIX robust
 * mutexes, which become permanently unusable; structures that repair on every
 * {@code OWNER_DIED} need no special case.)
 *
 * <p><b>Memory ordering.</b> Acquiring (a successful CAS) has acquire semantics and unlocking
 * (a CAS or getAndSet to 0) has release semantics, so everything the previous owner wrote
 * before {@code unlock()} is visible to the next owner. A dead owner's writes may be partially
 * visible; that is what repair is for.
 *
 * <p>Instances are cheap views (memory, offset); any number of them, in any processes, may
 * refer to the same lock. The memory must stay mapped while the mutex is used.
 *
 * {@snippet :
 * ShmMutex m = ShmMutex.open(segment.memory(), offset);
 * if (m.lock() == LockResult.OWNER_DIED) {
 *     repairMyStructure();
 *     m.markConsistent();
 * }
 * try {
 *     update();
 * } finally {
 *     m.unlock();
 * }
 * }
 */
public final class ShmMutex {

    /** Bytes a mutex occupies. */
    public static final long SIZE = MutexLayout.BYTES;
    /** Recommended alignment (a cache line of its own); 8 is the minimum accepted. */
    public static final long ALIGNMENT = 64;

    private static final System.Logger LOG = System.getLogger("io.shmkit.sync");

    /**
     * Spin iterations before a contended acquirer goes to sleep on the futex (system property
     * {@code shmkit.sync.spins}, default 128).
     */
    private static final int SPINS = Math.max(0, Integer.getInteger("shmkit.sync.spins", 128));

    /**
     * How many times a contended acquirer polls the lock word (with a short backoff) before it
     * sleeps on the futex: the system property {@code shmkit.sync.spins} read once at class
     * initialisation (default 128; 0 sleeps at once). Benchmarks use it to give a peer the same
     * wait policy.
     */
    public static int spinLimit() {
        return SPINS;
    }

    /** The mutex's own 64 bytes (a slice made once): field offsets are constants. */
    private final MemorySegment mem;
    private final long offset;
    private final long futexAddress;
    /** Liveness of other owners, and this process's identity, for the memory this lock is in. */
    private final OwnerTable owners;
    /** High half of this process's owner words: computed once, so the fast path is one OR and one CAS. */
    private final long base;
    private volatile String lastRecovery;

    private ShmMutex(MemorySegment memory, long offset) {
        this.mem = memory.asSlice(offset, SIZE);
        this.offset = offset;
        this.futexAddress = memory.address() + offset + OFF_WORD; // low 32 bits (little-endian)
        this.owners = OwnerTable.of(memory, offset);
        this.base = Owners.base(owners);
    }

    /** The calling thread's owner word (flags clear). */
    private long self() {
        return Owners.self(base);
    }

    /**
     * Initialises a new, free, consistent mutex at {@code offset}. Nothing else may use the
     * memory concurrently; the magic is published last (release), so a concurrent
     * {@link #open} sees either no mutex or a complete one.
     */
    public static ShmMutex create(MemorySegment memory, long offset) {
        SyncMemory.clear(memory, offset, SIZE);
        Formats.publish(memory, offset + OFF_MAGIC, MAGIC, offset + OFF_FORMAT, FORMAT);
        return new ShmMutex(memory, offset);
    }

    /**
     * Attaches to a mutex created by {@link #create} (in this or another process).
     *
     * @throws SegmentCorruptedException  if there is no initialised mutex at {@code offset}
     * @throws UnsupportedFormatException if the mutex there has another format (one made by an
     *                                    older or newer shmkit)
     */
    public static ShmMutex open(MemorySegment memory, long offset) {
        SyncMemory.check(memory, offset, SIZE);
        Formats.check(memory, offset + OFF_MAGIC, MAGIC, offset + OFF_FORMAT, FORMAT, "ShmMutex at offset=" + offset,
                MutexLayout.MAGIC_FORMAT_1, MutexLayout.MAGIC_FORMAT_2);
        return new ShmMutex(memory, offset);
    }

    // ------------------------------------------------------------------ acquire

    /**
     * Acquires the mutex, waiting as long as it takes (uninterruptibly). Returns
     * {@link LockResult#ACQUIRED}, or {@link LockResult#OWNER_DIED} when a previous owner died
     * (the caller then holds the lock and must repair, see the class comment).
     *
     * @throws IllegalStateException if the calling thread already holds it (non-reentrant)
     */
    public LockResult lock() {
        long me = self();
        if (Mem.casLong(mem, OFF_WORD, 0L, me)) {
            return acquired();
        }
        return lockSlowPath(me, false, 0L);
    }

    /**
     * Like {@link #lock()}, but gives up after {@code timeout} and returns
     * {@link LockResult#TIMED_OUT}. A dead owner is still detected within about 5 ms.
     */
    public LockResult lock(long timeout, TimeUnit unit) {
        long me = self();
        if (Mem.casLong(mem, OFF_WORD, 0L, me)) {
            return acquired();
        }
        return lockSlowPath(me, true, System.nanoTime() + Math.max(0, unit.toNanos(timeout)));
    }

    /**
     * Acquires the mutex if it is free or its owner is dead; never blocks. Returns
     * {@link LockResult#ACQUIRED}, {@link LockResult#OWNER_DIED} or {@link LockResult#BUSY}
     * (also when the calling thread holds it already). When the lock is held by another
     * process, this asks the kernel whether its owner lives (one {@code fcntl}), so polling it
     * in a tight loop is costly.
     */
    public LockResult tryLock() {
        long me = self();
        if (Mem.casLong(mem, OFF_WORD, 0L, me)) {
            return acquired();
        }
        long w = Mem.getLongVolatile(mem, OFF_WORD);
        if (Owners.isFree(w)) {
            return Mem.casLong(mem, OFF_WORD, w, me | w) ? acquiredAfter(w) : LockResult.BUSY;
        }
        if ((w & ~FLAGS) == me) {
            return LockResult.BUSY;
        }
        String dead = Owners.deadReason(owners, w);
        if (dead != null && takeOver(w, me, dead)) {
            return LockResult.OWNER_DIED;
        }
        return LockResult.BUSY;
    }

    /** Fast path tail: the CAS from 0 succeeded, so the lock was consistent. */
    private static LockResult acquired() {
        return LockResult.ACQUIRED; // the word names us completely: nothing else to publish
    }

    /** Slow path tail: we replaced the free word {@code free} (0 or INCONSISTENT) by ours. */
    private static LockResult acquiredAfter(long free) {
        return (free & INCONSISTENT) == 0 ? LockResult.ACQUIRED : LockResult.OWNER_DIED;
    }

    private LockResult lockSlowPath(long me, boolean timed, long deadline) {
        return lockSlowPath(me, timed, deadline, 0L);
    }

    /** @param extra {@link Owners#WAITERS} to keep the waiters flag even when acquiring while spinning */
    private LockResult lockSlowPath(long me, boolean timed, long deadline, long extra) {
        // Spin: the first 8 reads one pause apart (a hand-off is seen at once), then with a
        // backoff of 2, 4 ... 16 pauses between reads. Without the backoff, two contending
        // threads read the lock word on every pause, so its cache line changed cores on almost
        // every acquisition: 96.5 to 102.6 ns per lock+unlock, against 30 to 41 ns with it
        // (LockBenchmark.contendedShmMutex_2t; ReentrantLock: 36 to 48 ns).
        for (int i = 0, backoff = 1; i < SPINS; i++) {
            long w = Mem.getLongVolatile(mem, OFF_WORD);
            if (Owners.isFree(w)) {
                if (Mem.casLong(mem, OFF_WORD, w, me | w | extra)) {
                    return acquiredAfter(w);
                }
            } else if ((w & ~FLAGS) == me) {
                throw reentry();
            }
            for (int k = 0; k < backoff; k++) {
                Thread.onSpinWait();
            }
            if (i >= 8) {
                backoff = Math.min(backoff << 1, 16);
            }
        }
        long nextCheck = System.nanoTime(); // check the owner before the first sleep
        boolean slept = false;
        while (true) {
            long w = Mem.getLongVolatile(mem, OFF_WORD);
            if (Owners.isFree(w)) {
                // we may have had company in the futex queue: set the waiters flag so the
                // next unlock wakes them
                if (Mem.casLong(mem, OFF_WORD, w, me | w | WAITERS)) {
                    return acquiredAfter(w);
                }
                continue;
            }
            if ((w & ~FLAGS) == me) {
                throw reentry();
            }
            long now = System.nanoTime();
            if (timed && now - deadline >= 0) {
                if (slept) {
                    passWakeOn(w);
                }
                return LockResult.TIMED_OUT;
            }
            if (now - nextCheck >= 0) {
                nextCheck = now + Futex.CHECK_INTERVAL_NANOS;
                String dead = Owners.deadReason(owners, w);
                if (dead != null) {
                    if (takeOver(w, me, dead)) {
                        return LockResult.OWNER_DIED;
                    }
                    continue;
                }
            }
            if ((w & WAITERS) == 0) {
                if (!Mem.casLong(mem, OFF_WORD, w, w | WAITERS)) {
                    continue;
                }
                w |= WAITERS;
            }
            long sleep = nextCheck - now;
            if (timed) {
                sleep = Math.min(sleep, deadline - now);
            }
            Futex.await(futexAddress, (int) w, sleep);
            slept = true;
        }
    }

    /**
     * A timed waiter giving up may have consumed the {@code FUTEX_WAKE} an unlock meant for
     * the next sleeper (the unlock cleared the waiters flag, and a barger may hold the lock
     * now): pass it on, so no other sleeper waits for its re-check interval.
     */
    private void passWakeOn(long w) {
        while (true) {
            if (Owners.isFree(w)) {
                Futex.wake(futexAddress, 1);
                return;
            }
            if ((w & WAITERS) != 0) {
                return; // the owner's unlock wakes the next sleeper
            }
            long seen = Mem.caxLong(mem, OFF_WORD, w, w | WAITERS);
            if (seen == w) {
                return;
            }
            w = seen;
        }
    }

    /** Replaces the dead (or garbage) owner word {@code w} by ours; false if someone else won. */
    private boolean takeOver(long w, long me, String reason) {
        // waiters flag on: others may sleep on the futex and must be woken by our unlock;
        // inconsistent: stays in the word until markConsistent()
        if (!Mem.casLong(mem, OFF_WORD, w, me | WAITERS | INCONSISTENT)) {
            return false;
        }
        Mem.getAndAddInt(mem, OFF_TAKEOVERS, 1);
        String note = "took over " + Owners.describe(owners, w) + ": " + reason;
        lastRecovery = note;
        LOG.log(System.Logger.Level.WARNING, "ShmMutex at offset " + offset + " " + note);
        return true;
    }

    private IllegalStateException reentry() {
        return new IllegalStateException("ShmMutex is not reentrant: the calling thread already holds it (offset="
                + offset + ")");
    }

    // ------------------------------------------------------------------ release

    /**
     * Releases the mutex and wakes one sleeping waiter if there is one.
     *
     * @throws IllegalMonitorStateException if the calling thread does not hold it
     */
    public void unlock() {
        long me = self();
        // release: publishes the critical section's writes to the next owner
        if (Mem.casLong(mem, OFF_WORD, me, 0L)) {
            return;
        }
        unlockSlowPath(me);
    }

    private void unlockSlowPath(long me) {
        long w = Mem.getLongVolatile(mem, OFF_WORD);
        while (true) {
            if ((w & ~FLAGS) != me) {
                throw new IllegalMonitorStateException("ShmMutex at offset=" + offset
                        + " is not held by the calling thread (" + Owners.describe(owners, me) + "); it is " + Owners.describe(owners, w));
            }
            // release: publishes the critical section's writes; an unrepaired lock stays
            // inconsistent for the next owner
            long seen = Mem.caxLong(mem, OFF_WORD, w, w & INCONSISTENT);
            if (seen == w) {
                break;
            }
            w = seen; // a waiter set the waiters flag meanwhile
        }
        if ((w & WAITERS) != 0) {
            Futex.wake(futexAddress, 1);
        }
    }

    /**
     * Declares that the data this mutex protects has been repaired after
     * {@link LockResult#OWNER_DIED}; later acquirers get {@link LockResult#ACQUIRED} again.
     *
     * @throws IllegalMonitorStateException if the calling thread does not hold the mutex
     */
    public void markConsistent() {
        long me = self();
        long w = Mem.getLongVolatile(mem, OFF_WORD);
        while (true) {
            if ((w & ~FLAGS) != me) {
                throw new IllegalMonitorStateException("markConsistent() needs the lock; ShmMutex at offset="
                        + offset + " is " + Owners.describe(owners, w));
            }
            if ((w & INCONSISTENT) == 0) {
                return;
            }
            // release: ordered after the repair writes (waiters may set their flag meanwhile)
            long seen = Mem.caxLong(mem, OFF_WORD, w, w & ~INCONSISTENT);
            if (seen == w) {
                return;
            }
            w = seen;
        }
    }

    // ------------------------------------------------------------------ inspection

    /** Whether the calling thread holds the mutex. */
    public boolean isHeldByCurrentThread() {
        return ((Mem.getLongVolatile(mem, OFF_WORD)) & ~FLAGS) == self();
    }

    /** Whether the mutex is held by anybody (alive or not) right now. */
    public boolean isLocked() {
        return !Owners.isFree(Mem.getLongVolatile(mem, OFF_WORD));
    }

    /** False between a dead owner's takeover and {@link #markConsistent()}. */
    public boolean isConsistent() {
        return ((Mem.getLongVolatile(mem, OFF_WORD)) & INCONSISTENT) == 0;
    }

    /**
     * The pid of the owning process as it recorded it in the attach table (a pid of its own pid
     * namespace), 0 if free or not known (memory outside a segment, a foreign unregistered
     * owner, an ended registration). A diagnostic: liveness never depends on it.
     */
    public int ownerPid() {
        long w = Mem.getLongVolatile(mem, OFF_WORD);
        return Owners.isFree(w) ? 0 : owners.pidOf(Owners.ownerId(w));
    }

    /**
     * Whether the current owner still runs, as far as the kernel can tell: ALIVE, DEAD, or
     * UNKNOWN (treated as alive); null if the mutex is free. For tools and diagnostics.
     */
    public io.shmkit.segment.Liveness ownerLiveness() {
        long w = Mem.getLongVolatile(mem, OFF_WORD);
        if (Owners.isFree(w)) {
            return null;
        }
        return Owners.ownerId(w) == 0 ? io.shmkit.segment.Liveness.DEAD : owners.check(Owners.ownerId(w)).liveness();
    }

    /** How many times a dead or garbage owner was taken over, over the mutex's life. */
    public int takeovers() {
        return Mem.getIntVolatile(mem, OFF_TAKEOVERS);
    }

    /** What the last takeover through this instance found (null if none): for logs and tests. */
    public String lastRecovery() {
        return lastRecovery;
    }

    /** The offset of the mutex in its memory. */
    public long offset() {
        return offset;
    }

    /**
     * Called by the owner: sets the waiters flag so that {@link #unlock()} wakes a sleeper on
     * the lock's futex (a condition waiter moved there by {@code FUTEX_CMP_REQUEUE}).
     */
    void setWaitersFlagAsOwner() {
        long w = Mem.getLongVolatile(mem, OFF_WORD);
        while ((w & WAITERS) == 0) {
            long seen = Mem.caxLong(mem, OFF_WORD, w, w | WAITERS);
            if (seen == w) {
                return;
            }
            w = seen;
        }
    }

    /** Native address of the futex word (the low half of the lock word). */
    long futexAddress() {
        return futexAddress;
    }

    /**
     * {@link #lock()} for a thread that slept on a futex it may share with other sleepers (a
     * condition waiter that may have been requeued here): always acquires with the waiters
     * flag set, so that its unlock wakes the next sleeper.
     */
    LockResult lockAfterSleep() {
        long me = self();
        long w = Mem.getLongVolatile(mem, OFF_WORD);
        if (Owners.isFree(w) && Mem.casLong(mem, OFF_WORD, w, me | w | WAITERS)) {
            return acquiredAfter(w);
        }
        return lockSlowPath(me, false, 0L, WAITERS);
    }

    /** Whether the waiters flag is set (a hint that somebody sleeps or spins for the lock). */
    boolean hasWaitersHint() {
        return ((Mem.getLongVolatile(mem, OFF_WORD)) & WAITERS) != 0;
    }

    @Override
    public String toString() {
        return "ShmMutex[offset=" + offset() + ", " + Owners.describe(owners, Mem.getLongVolatile(mem, OFF_WORD)) + "]";
    }
}
