package io.shmkit.sync;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.UnsupportedFormatException;
import io.shmkit.internal.ConditionLayout;
import io.shmkit.internal.Formats;
import io.shmkit.internal.Libc;
import io.shmkit.internal.Mem;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import static io.shmkit.internal.ConditionLayout.FORMAT;
import static io.shmkit.internal.ConditionLayout.MAGIC;
import static io.shmkit.internal.ConditionLayout.OFF_FORMAT;
import static io.shmkit.internal.ConditionLayout.OFF_MAGIC;
import static io.shmkit.internal.ConditionLayout.OFF_SEQ;
import static io.shmkit.internal.ConditionLayout.OFF_WAITERS;

/**
 * A condition variable in shared memory, used together with a {@link ShmMutex}: threads in any
 * processes wait for a predicate on shared data and are woken by {@link #signal()} or
 * {@link #signalAll()}.
 *
 * <p><b>Layout.</b> {@link #SIZE} bytes, one line (layout descriptor {@code ConditionLayout}):
 * a sequence number that is the futex word, a waiters hint, the magic and the format.
 *
 * <p><b>Semantics.</b> {@link #await(ShmMutex)} reads the sequence, releases the mutex, polls
 * the sequence for a few microseconds, then sleeps on the futex until the sequence changes, and
 * re-acquires the mutex. Signals are plain atomic increments; a system call is only made when
 * a waiter sleeps. {@link #signal(ShmMutex)} / {@link #signalAll(ShmMutex)}, for a signaller
 * that holds the mutex, move sleepers onto the mutex's futex instead of waking them, so they
 * wake once, when the signaller unlocks. A signal that happens
 * after the waiter released the mutex is never lost. <b>Spurious wakeups happen</b> (a signal
 * may wake a thread that started waiting after it; signals and unrelated futex traffic may
 * wake a waiter whose predicate is still false): always wait in a loop that re-checks the
 * predicate. {@code signal()} wakes at most one sleeper, {@code signalAll()} all of them; use
 * {@code signalAll()} when waiters wait for different predicates. Signalling does not require
 * holding the mutex, but doing so avoids missed predicate updates.
 *
 * <p><b>When a process dies.</b> A waiter that dies leaves the waiters hint too high: later
 * signals then make one unnecessary {@code FUTEX_WAKE} call each; nothing blocks. A signaller
 * that dies before signalling simply never signals: use the timed {@code await} when the other
 * side may die. Re-acquiring the mutex may report {@link LockResult#OWNER_DIED} (the mutex
 * owner died while the waiter slept); the waiter then holds the mutex and must repair as for
 * {@link ShmMutex#lock()}.
 *
 * <p>Thread and process safe; instances are cheap views that any number of threads share.
 *
 * {@snippet :
 * LockResult r = mutex.lock();
 * try {
 *     while (!ready(shared)) {
 *         r = cond.await(mutex);   // may return OWNER_DIED: repair, then mutex.markConsistent()
 *     }
 *     consume(shared);
 * } finally {
 *     mutex.unlock();
 * }
 * }
 */
public final class ShmCondition {

    /** Bytes a condition occupies. */
    public static final long SIZE = ConditionLayout.BYTES;
    /** Recommended alignment; 8 is the minimum accepted. */
    public static final long ALIGNMENT = 64;

    /**
     * Most spin iterations a waiter polls the sequence before it sleeps on the futex (system
     * property {@code shmkit.sync.awaitSpins}, default 256, a few microseconds; 0 sleeps at once).
     */
    private static final int AWAIT_SPINS = Math.max(0, Integer.getInteger("shmkit.sync.awaitSpins", 256));

    /**
     * The most times a waiter polls the sequence before it sleeps on the futex: the system
     * property {@code shmkit.sync.awaitSpins} read once at class initialisation (default 256;
     * 0 sleeps at once). Each instance adapts its budget below this limit: it halves after a
     * wait that spinning did not catch, grows back after one it did, and every 64th wait probes
     * the full limit. Benchmarks use it to give a peer the same wait policy.
     */
    public static int awaitSpinLimit() {
        return AWAIT_SPINS;
    }
    /** Longest single futex sleep of an await (timed or not) before it re-checks the sequence. */
    private static final long RECHECK_NANOS = 50_000_000L;

    private final MemorySegment mem;
    /** Process-local spin budget of this instance (racy by design: a hint). */
    private int spinBudget = AWAIT_SPINS;
    /** Process-local count of waits, for the periodic full-budget probe (racy by design). */
    private int awaits;
    private final long seq;
    private final long waiters;
    private final long futexAddress;

    private ShmCondition(MemorySegment memory, long offset) {
        this.mem = memory;
        this.seq = offset + OFF_SEQ;
        this.waiters = offset + OFF_WAITERS;
        this.futexAddress = memory.address() + offset + OFF_SEQ;
    }

    /** Initialises a new condition at {@code offset}; nothing else may use that memory yet. */
    public static ShmCondition create(MemorySegment memory, long offset) {
        SyncMemory.clear(memory, offset, SIZE);
        Formats.publish(memory, offset + OFF_MAGIC, MAGIC, offset + OFF_FORMAT, FORMAT);
        return new ShmCondition(memory, offset);
    }

    /**
     * Attaches to a condition made by {@link #create}.
     *
     * @throws SegmentCorruptedException  if there is none at {@code offset}
     * @throws UnsupportedFormatException if the condition there has another format
     */
    public static ShmCondition open(MemorySegment memory, long offset) {
        SyncMemory.check(memory, offset, SIZE);
        Formats.check(memory, offset + OFF_MAGIC, MAGIC, offset + OFF_FORMAT, FORMAT, "ShmCondition at offset=" + offset,
                ConditionLayout.MAGIC_FORMAT_1);
        return new ShmCondition(memory, offset);
    }

    /**
     * Releases {@code mutex} (which the calling thread must hold), waits for a signal (or a
     * spurious wakeup), and re-acquires it. Uninterruptible.
     *
     * @return the result of re-acquiring the mutex: {@link LockResult#ACQUIRED} or
     *         {@link LockResult#OWNER_DIED}
     * @throws IllegalMonitorStateException if the calling thread does not hold {@code mutex}
     */
    public LockResult await(ShmMutex mutex) {
        return awaitNanos(mutex, false, 0L);
    }

    /**
     * Like {@link #await(ShmMutex)}, with a timeout. The mutex is held again on return in every
     * case. Returns {@link LockResult#TIMED_OUT} if no signal came in time (check
     * {@link ShmMutex#isConsistent()} then, in case its owner died meanwhile),
     * {@link LockResult#OWNER_DIED} if re-acquiring found a dead owner, else
     * {@link LockResult#ACQUIRED}.
     */
    public LockResult await(ShmMutex mutex, long timeout, TimeUnit unit) {
        return awaitNanos(mutex, true, System.nanoTime() + Math.max(0, unit.toNanos(timeout)));
    }

    private LockResult awaitNanos(ShmMutex mutex, boolean timed, long deadline) {
        if (!mutex.isHeldByCurrentThread()) {
            throw new IllegalMonitorStateException("ShmCondition.await needs the mutex held by the calling thread: " + mutex);
        }
        // read before releasing the mutex: a signal after the release changes seq, and we
        // either see it while spinning or the futex wait below returns at once
        int s = Mem.getIntVolatile(mem, seq);
        mutex.unlock();
        // spin first: across cores the other side often answers within microseconds, and a
        // spinning waiter is not counted, so the signaller skips FUTEX_WAKE. The budget adapts:
        // it halves when spinning did not catch the signal (the other side was not running, as
        // on a busy machine) and grows back when it did; every 64th wait probes the full budget.
        int budget = (++awaits & 63) == 0 ? AWAIT_SPINS : spinBudget;
        for (int i = 0; i < budget && Mem.getIntVolatile(mem, seq) == s; i++) {
            Thread.onSpinWait();
        }
        if (Mem.getIntVolatile(mem, seq) != s) {
            spinBudget = Math.min(AWAIT_SPINS, Math.max(budget, spinBudget) * 2 + 8);
        } else {
            spinBudget = spinBudget >> 1;
        }
        boolean timedOut = false;
        boolean slept = false;
        if (Mem.getIntVolatile(mem, seq) == s) {
            slept = true;
            // full fence: a signaller that increments seq after this sees waiters > 0, or the
            // kernel sees its new seq when it compares before sleeping
            Mem.getAndAddInt(mem, waiters, 1);
            try {
                // bounded sleeps, timed or not: a waiter requeued onto the mutex futex by a
                // signaller that then died must still get to lock() and its dead-owner check
                // within RECHECK_NANOS, not at the end of its timeout
                if (timed) {
                    for (long left; Mem.getIntVolatile(mem, seq) == s && (left = deadline - System.nanoTime()) > 0; ) {
                        Futex.await(futexAddress, s, Math.min(left, RECHECK_NANOS));
                    }
                    timedOut = Mem.getIntVolatile(mem, seq) == s;
                } else {
                    do {
                        Futex.await(futexAddress, s, RECHECK_NANOS);
                    } while (Mem.getIntVolatile(mem, seq) == s);
                }
            } finally {
                Mem.getAndAddInt(mem, waiters, -1);
            }
        }
        // after sleeping we may share the mutex futex with other requeued waiters: acquire
        // with the waiters flag so that our unlock passes the wake on
        LockResult r = slept ? mutex.lockAfterSleep() : mutex.lock();
        return r == LockResult.ACQUIRED && timedOut ? LockResult.TIMED_OUT : r;
    }

    /** Wakes at most one waiting thread (in any process). */
    public void signal() {
        // full fence: see the comment in awaitNanos
        Mem.getAndAddInt(mem, seq, 1);
        if (Mem.getIntVolatile(mem, waiters) > 0) {
            Futex.wake(futexAddress, 1);
        }
    }

    /**
     * Wakes at most one waiting thread, handing it over to {@code mutex}, which the calling
     * thread holds and the waiter waits with. Instead of waking the waiter only for it to block
     * on the mutex the signaller still holds, the waiter is moved to the mutex's futex
     * ({@code FUTEX_CMP_REQUEUE}) and woken by the signaller's {@link ShmMutex#unlock()}: one
     * context switch per signal instead of two. Prefer this to {@link #signal()} when signalling
     * under the mutex.
     *
     * @throws IllegalMonitorStateException if the calling thread does not hold {@code mutex}
     */
    public void signal(ShmMutex mutex) {
        requeue(mutex, 1);
    }

    /** Like {@link #signalAll()}, handing the waiters over to {@code mutex} (see {@link #signal(ShmMutex)}). */
    public void signalAll(ShmMutex mutex) {
        requeue(mutex, Integer.MAX_VALUE);
    }

    private void requeue(ShmMutex mutex, int count) {
        if (!mutex.isHeldByCurrentThread()) {
            throw new IllegalMonitorStateException("ShmCondition.signal(mutex) needs the mutex held by the calling thread: " + mutex);
        }
        // full fence: see the comment in awaitNanos
        int next = Mem.getAndAddInt(mem, seq, 1) + 1;
        if (Mem.getIntVolatile(mem, waiters) > 0) {
            // our unlock must wake whoever we move onto the mutex futex
            mutex.setWaitersFlagAsOwner();
            if (Libc.futexCmpRequeue(futexAddress, 0, count, mutex.futexAddress(), next) < 0) {
                Futex.wake(futexAddress, count); // seq moved on meanwhile: wake instead
            }
        }
    }

    /** Wakes every waiting thread (in any process). */
    public void signalAll() {
        // full fence: see the comment in awaitNanos
        Mem.getAndAddInt(mem, seq, 1);
        if (Mem.getIntVolatile(mem, waiters) > 0) {
            Futex.wake(futexAddress, Integer.MAX_VALUE);
        }
    }

    /** The offset of the condition in its memory. */
    public long offset() {
        return seq - OFF_SEQ;
    }
}
