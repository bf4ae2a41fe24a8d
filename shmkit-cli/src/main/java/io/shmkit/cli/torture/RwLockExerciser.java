package io.shmkit.cli.torture;

import io.shmkit.sync.LockResult;
import io.shmkit.sync.ShmRwLock;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * A robust read-write lock guarding a pair. Writers write {@code a}, linger, write {@code b};
 * readers read the pair twice around a linger and must see it whole and unchanged (no writer
 * let in while a live reader holds the lock). A killed writer's half-written pair is repaired by
 * the next writer ({@code OWNER_DIED}); a killed reader's slot must be reclaimed, so the parent's
 * write lock is never stuck.
 */
final class RwLockExerciser implements Exerciser {
    private static final String NAME = "t-rwlock";
    private static final int KIND = 0x0F14;
    private static final long A = 0;
    private static final long B = 8;
    private static final long REPAIRS = 64;

    private Env env;
    private Facts g;
    private WorkerContext ctx;
    private ShmRwLock lock;

    @Override
    public String name() {
        return "rwlock";
    }

    @Override
    public List<String> places() {
        return List.of("rwlock write section", "rwlock read section");
    }

    @Override
    public void create(Env e) {
        long off = e.segment().reserve(NAME, KIND, ShmRwLock.bytesNeeded(ShmRwLock.DEFAULT_READER_SLOTS), 64).offset();
        lock = ShmRwLock.create(e.segment().memory(), off);
        env = e;
        g = e.global();
    }

    @Override
    public void attach(Env e, WorkerContext c) {
        env = e;
        g = e.global();
        ctx = c;
        lock = ShmRwLock.open(e.segment().memory(), e.segment().lookup(NAME).orElseThrow().offset());
    }

    @Override
    public void step(SplittableRandom rnd) throws InterruptedException {
        if (rnd.nextInt(3) == 0) {
            write(rnd);
        } else {
            read(rnd);
        }
    }

    private void write(SplittableRandom rnd) throws InterruptedException {
        LockResult r = lock.writeLock(30, TimeUnit.SECONDS);
        if (!r.acquired()) {
            ctx.violation("rwlock write lock stuck: " + r + " after 30 s");
            return;
        }
        ctx.enter(env.index(), 0);
        try {
            if (r == LockResult.OWNER_DIED) {
                g.add(REPAIRS, 1);
                g.set(B, g.get(A));
                lock.markConsistent();
            } else if (g.get(A) != g.get(B)) {
                ctx.violation("rwlock ACQUIRED for writing but its pair differs: " + g.get(A) + " != " + g.get(B));
            }
            long v = g.get(A) + 1;
            g.set(A, v);
            Linger.briefly(rnd);
            if (g.get(A) != v) {
                ctx.violation("rwlock writer robbed: the pair changed while this live worker held the write lock");
            }
            g.set(B, v);
        } finally {
            ctx.leave();
            lock.writeUnlock();
        }
    }

    private void read(SplittableRandom rnd) throws InterruptedException {
        LockResult r = lock.readLock(30, TimeUnit.SECONDS);
        if (!r.acquired()) {
            ctx.violation("rwlock read lock stuck: " + r + " after 30 s");
            return;
        }
        ctx.enter(env.index(), 1);
        try {
            long a = g.get(A);
            long b = g.get(B);
            if (r == LockResult.ACQUIRED && a != b) {
                ctx.violation("rwlock reader saw a torn pair: " + a + " != " + b);
            }
            Linger.briefly(rnd);
            if (g.get(A) != a || g.get(B) != b) {
                ctx.violation("rwlock reader robbed: a writer changed the pair while this live worker held a read lock");
            }
        } finally {
            ctx.leave();
            lock.readUnlock();
        }
    }

    @Override
    public void check(Checks c, int dead) throws InterruptedException {
        LockResult r = lock.writeLock(10, TimeUnit.SECONDS);
        c.expect(r.acquired(), () -> "rwlock write lock stuck (a dead reader's slot not reclaimed?): " + r + " after 10 s");
        if (r.acquired()) {
            try {
                if (r == LockResult.OWNER_DIED) {
                    c.recovered("rwlock OWNER_DIED repairs", 1);
                    g.set(B, g.get(A));
                    lock.markConsistent();
                } else {
                    c.expect(g.get(A) == g.get(B), () -> "rwlock pair differs after an ACQUIRED write lock");
                }
            } finally {
                lock.writeUnlock();
            }
        }
        LockResult rr = lock.readLock(10, TimeUnit.SECONDS);
        c.expect(rr.acquired(), () -> "rwlock read lock stuck: " + rr + " after 10 s");
        if (rr.acquired()) {
            lock.readUnlock();
        }
    }

    @Override
    public void summarize(Checks c) {
        c.recovered("rwlock OWNER_DIED repairs", g.get(REPAIRS));
    }
}
