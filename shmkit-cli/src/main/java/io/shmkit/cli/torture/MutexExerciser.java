package io.shmkit.cli.torture;

import io.shmkit.sync.LockResult;
import io.shmkit.sync.ShmCondition;
import io.shmkit.sync.ShmMutex;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Robust mutexes guarding pairs of words that must match, and a condition whose waiters and
 * signallers share one more guarded pair. A kill inside a section leaves the pair half written;
 * the next owner gets {@code OWNER_DIED} and repairs it ({@code b = a}). A live owner must never
 * see its pair changed under it (robbed), and no lock may stay stuck.
 */
final class MutexExerciser implements Exerciser {
    static final int MUTEXES = 4;
    private static final long STRIDE = 128;
    private static final long COND_MUTEX = 512;
    private static final long COND = 640;
    private static final long REPAIRS = 1024;
    private static final long COND_REPAIRS = 1032;
    private static final long SIGNALS = 1040;

    private Env env;
    private Facts g;
    private WorkerContext ctx;
    private MemorySegment m;

    @Override
    public String name() {
        return "mutex";
    }

    @Override
    public List<String> places() {
        return List.of("mutex section", "condition wait", "condition signal section");
    }

    @Override
    public void create(Env env) {
        open(env);
        for (int k = 0; k < MUTEXES; k++) {
            ShmMutex.create(m, g.at(k * STRIDE));
        }
        ShmMutex.create(m, g.at(COND_MUTEX));
        ShmCondition.create(m, g.at(COND));
    }

    private void open(Env e) {
        this.env = e;
        this.g = e.global();
        this.m = g.m;
    }

    @Override
    public void attach(Env e, WorkerContext c) {
        open(e);
        this.ctx = c;
    }

    private ShmMutex mutex(long at) {
        return ShmMutex.open(m, g.at(at));
    }

    @Override
    public void step(SplittableRandom rnd) throws InterruptedException {
        int op = rnd.nextInt(4);
        if (op < 2) {
            section(rnd.nextInt(MUTEXES) * STRIDE, 0, rnd);
        } else if (op == 2) {
            section(COND_MUTEX, 2, rnd);
        } else {
            await(rnd);
        }
    }

    /** Lock; repair or check; write a, linger, check nobody wrote a, write b; unlock. */
    private void section(long at, int place, SplittableRandom rnd) throws InterruptedException {
        ShmMutex mu = mutex(at);
        LockResult r = mu.lock(30, TimeUnit.SECONDS);
        if (!r.acquired()) {
            ctx.violation(where(at) + " stuck: " + r + " after 30 s");
            return;
        }
        ctx.enter(env.index(), place);
        try {
            settle(mu, at, r, at == COND_MUTEX ? COND_REPAIRS : REPAIRS);
            long v = g.get(at + 64) + 1;
            g.set(at + 64, v);
            Linger.briefly(rnd);
            if (g.get(at + 64) != v) {
                ctx.violation(where(at) + " robbed: another process wrote the pair while this live worker held it");
            }
            g.set(at + 72, v);
            if (at == COND_MUTEX) {
                ShmCondition.open(m, g.at(COND)).signalAll(mu);
                g.add(SIGNALS, 1);
            }
        } finally {
            ctx.leave();
            mu.unlock();
        }
    }

    /** Wait (bounded) for the condition pair to move; after every wake-up the pair must match. */
    private void await(SplittableRandom rnd) throws InterruptedException {
        ShmMutex mu = mutex(COND_MUTEX);
        ShmCondition cond = ShmCondition.open(m, g.at(COND));
        LockResult r = mu.lock(30, TimeUnit.SECONDS);
        if (!r.acquired()) {
            ctx.violation("condition mutex stuck: " + r + " after 30 s");
            return;
        }
        ctx.enter(env.index(), 1);
        try {
            settle(mu, COND_MUTEX, r, COND_REPAIRS);
            long seen = g.get(COND_MUTEX + 64);
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1 + rnd.nextInt(20));
            while (g.get(COND_MUTEX + 64) == seen && System.nanoTime() < until) {
                r = cond.await(mu, Math.max(0, until - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (r == LockResult.TIMED_OUT && !mu.isConsistent()) {
                    r = LockResult.OWNER_DIED;
                }
                settle(mu, COND_MUTEX, r, COND_REPAIRS);
            }
        } finally {
            ctx.leave();
            mu.unlock();
        }
    }

    /** On OWNER_DIED repair the pair from its source of truth; on ACQUIRED it must match. */
    private void settle(ShmMutex mu, long at, LockResult r, long counter) {
        if (r == LockResult.OWNER_DIED) {
            g.add(counter, 1);
            g.set(at + 72, g.get(at + 64));
            mu.markConsistent();
        } else if (g.get(at + 64) != g.get(at + 72)) {
            ctx.violation(where(at) + " " + r + " but its pair differs: " + g.get(at + 64) + " != " + g.get(at + 72));
        }
    }

    private static String where(long at) {
        return at == COND_MUTEX ? "condition mutex" : "mutex " + at / STRIDE;
    }

    @Override
    public void check(Checks c, int dead) throws InterruptedException {
        for (int k = 0; k <= MUTEXES; k++) {
            long at = k == MUTEXES ? COND_MUTEX : k * STRIDE;
            ShmMutex mu = mutex(at);
            LockResult r = mu.lock(10, TimeUnit.SECONDS);
            c.expect(r.acquired(), () -> where(at) + " stuck: " + r + " after 10 s");
            if (!r.acquired()) {
                continue;
            }
            try {
                if (r == LockResult.OWNER_DIED) {
                    c.recovered("mutex OWNER_DIED repairs", 1);
                    g.set(at + 72, g.get(at + 64));
                    mu.markConsistent();
                } else {
                    c.expect(g.get(at + 64) == g.get(at + 72), () -> where(at) + " pair differs after an ACQUIRED lock");
                }
                if (at == COND_MUTEX) { // a dead waiter must not wedge the condition: a timed wait returns
                    long t0 = System.nanoTime();
                    LockResult w = ShmCondition.open(m, g.at(COND)).await(mu, 1, TimeUnit.MILLISECONDS);
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    c.expect(w.acquired() || w == LockResult.TIMED_OUT, () -> "condition await returned " + w);
                    c.expect(ms < 10_000, () -> "condition await(1 ms) took " + ms + " ms");
                    if (w == LockResult.OWNER_DIED || !mu.isConsistent()) {
                        c.recovered("mutex OWNER_DIED repairs", 1);
                        g.set(at + 72, g.get(at + 64));
                        mu.markConsistent();
                    }
                    ShmCondition.open(m, g.at(COND)).signalAll(mu);
                }
            } finally {
                mu.unlock();
            }
        }
    }

    @Override
    public void summarize(Checks c) {
        c.recovered("mutex OWNER_DIED repairs", g.get(REPAIRS));
        c.recovered("condition-mutex OWNER_DIED repairs", g.get(COND_REPAIRS));
    }
}
