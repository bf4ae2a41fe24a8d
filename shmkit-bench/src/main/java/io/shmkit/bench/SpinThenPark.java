package io.shmkit.bench;

import io.shmkit.sync.ShmCondition;
import io.shmkit.sync.ShmMutex;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The wait policy of {@link ShmMutex} and {@link ShmCondition} given to a {@link ReentrantLock}
 * and its {@link Condition}, so that the ping-pong peer spins exactly the same budget before it
 * parks (LockBenchmark's {@code _spin} benchmarks):
 * <ul>
 *   <li>lock: poll up to {@link ShmMutex#spinLimit()} times, the first 8 one pause apart, then
 *       with a backoff of 2, 4 ... 16 pauses, then {@code lock()} (which parks);</li>
 *   <li>await: read a sequence word, unlock, poll the sequence for an adaptive budget of at most
 *       {@link ShmCondition#awaitSpinLimit()} iterations (halved after a miss, grown after a hit,
 *       the full limit every 64th wait), then lock and {@code await()} while the sequence is
 *       unchanged; signal increments the sequence, then signals.</li>
 * </ul>
 * With both limits 0 this is a plain {@code ReentrantLock} + {@code Condition}. One instance per
 * lock; not for general use.
 */
final class SpinThenPark {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition cond = lock.newCondition();
    private final AtomicInteger seq = new AtomicInteger();
    private final int lockSpins = ShmMutex.spinLimit();
    private final int awaitSpins = ShmCondition.awaitSpinLimit();
    private int spinBudget = awaitSpins;
    private int awaits;

    void lock() {
        if (lock.tryLock()) {
            return;
        }
        for (int i = 0, backoff = 1; i < lockSpins; i++) {
            if (!lock.isLocked() && lock.tryLock()) {
                return;
            }
            for (int k = 0; k < backoff; k++) {
                Thread.onSpinWait();
            }
            if (i >= 8) {
                backoff = Math.min(backoff << 1, 16);
            }
        }
        lock.lock();
    }

    void unlock() {
        lock.unlock();
    }

    /** Waits for a signal with the lock held (at most {@code timeoutNanos} when it is positive). */
    void await(long timeoutNanos) throws InterruptedException {
        int s = seq.get();
        lock.unlock();
        int budget = (++awaits & 63) == 0 ? awaitSpins : spinBudget;
        for (int i = 0; i < budget && seq.get() == s; i++) {
            Thread.onSpinWait();
        }
        if (seq.get() != s) {
            spinBudget = Math.min(awaitSpins, Math.max(budget, spinBudget) * 2 + 8);
        } else {
            spinBudget = spinBudget >> 1;
        }
        lock();
        // the signaller increments seq under the lock, so checking it here loses no signal
        if (seq.get() == s) {
            if (timeoutNanos > 0) {
                cond.awaitNanos(timeoutNanos);
            } else {
                while (seq.get() == s) {
                    cond.await();
                }
            }
        }
    }

    /** Wakes one waiter; call with the lock held. */
    void signal() {
        seq.incrementAndGet();
        cond.signal();
    }

    /** Wakes every waiter; call with the lock held. */
    void signalAll() {
        seq.incrementAndGet();
        cond.signalAll();
    }
}
