package io.shmkit.cli.torture;

import io.shmkit.pool.Handles;
import io.shmkit.pool.Pool;
import io.shmkit.pool.PoolConfig;
import io.shmkit.pool.Pools;
import io.shmkit.pool.StartMode;
import io.shmkit.pool.TypeDef;
import io.shmkit.segment.SegmentName;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.SplittableRandom;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * Object pools with transactions: every worker owns one pool section (its own base and data
 * block segments; a section has one live owner at a time) holding a bank account (key 0) and
 * accounts it opens and closes, all inside {@code Pools.atomically}: opening takes a gift from
 * the bank, closing gives the gold back, transfers move gold, some transactions throw on purpose
 * (rolled back). Total gold is {@link #TOTAL} whatever happens. A worker records an account's key
 * after the transaction that opened it committed, and clears it before the one that closes it.
 * After a kill the parent resumes the dead worker's section (rolling back a transaction the kill
 * cut), runs {@code verify()}, checks the total and that every recorded account exists, closes it;
 * the restarted worker resumes it again.
 */
final class PoolExerciser implements Exerciser {
    static final long TOTAL = 1_000_000;
    private static final int RECORDS = 32;
    private static final long NEXT_KEY = 0;
    private static final long KEYS = 64;
    private static final StructLayout ACCOUNT = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("id"), ValueLayout.JAVA_LONG.withName("gold")).withName("Account");
    private static final VarHandle ID = ACCOUNT.varHandle(groupElement("id"));
    private static final VarHandle GOLD = ACCOUNT.varHandle(groupElement("gold"));
    private static final TypeDef ACCOUNTS = TypeDef.keyed(7, "Account", ACCOUNT, 256);

    private Env env;
    private WorkerContext ctx;
    private Facts mine;
    private Pools pools;
    private Pool accounts;
    private long ops;

    @Override
    public String name() {
        return "pool";
    }

    @Override
    public List<String> places() {
        return List.of("pool transaction", "pool start (resume)");
    }

    private PoolConfig config(int w) {
        String prefix = env.segmentName() + "-p" + w;
        return new PoolConfig("torture-" + w, SegmentName.parse(prefix + "-base"), 256 << 10,
                List.of(SegmentName.parse(prefix + "-b0")), 64 << 10);
    }

    @Override
    public void create(Env e) {
        env = e; // cold start here: a kill inside a cold start leaves a half-made section that the next
        // start refuses (documented), so workers only ever resume
        for (int w = 0; w < e.workers(); w++) {
            try (Pools p = Pools.start(config(w), List.of(ACCOUNTS))) {
                Pool a = p.pool(ACCOUNTS);
                p.atomically(tx -> GOLD.set(tx.write(a.allocate(0)), 0L, TOTAL));
            }
        }
    }

    @Override
    public void attach(Env e, WorkerContext c) {
        env = e;
        ctx = c;
        mine = e.worker(c.slot);
        ctx.enter(e.index(), 1);
        pools = Pools.start(config(c.slot), List.of(ACCOUNTS));
        accounts = pools.pool(ACCOUNTS);
        ctx.leave();
        if (accounts.find(0) == Handles.NONE) {
            ctx.violation("pool of worker " + c.slot + ": the bank account is missing after " + pools.startMode());
        }
        long sum = total(accounts);
        if (sum != TOTAL) {
            ctx.violation("pool of worker " + c.slot + " holds " + sum + " gold after " + pools.startMode()
                    + ", not " + TOTAL);
        }
    }

    private static long total(Pool p) {
        long[] sum = {0};
        p.forEach((h, r) -> sum[0] += (long) GOLD.get(r, 0L));
        return sum[0];
    }

    @Override
    public void step(SplittableRandom rnd) throws InterruptedException {
        int i = rnd.nextInt(RECORDS);
        long key = mine.get(KEYS + i * 8L);
        long bank = accounts.find(0);
        int op = rnd.nextInt(4);
        ctx.enter(env.index(), 0);
        try {
            if (key == 0 && accounts.used() < ACCOUNTS.capacity() - 1) {
                long k = mine.add(NEXT_KEY, 1) + 1; // never reused, also across restarts
                long gift = 1 + rnd.nextInt(100);
                pools.atomically(tx -> {
                    long h = accounts.allocate(k);
                    MemorySegment a = tx.write(h);
                    ID.set(a, 0L, k);
                    MemorySegment b = tx.write(bank);
                    GOLD.set(b, 0L, (long) GOLD.get(b, 0L) - gift);
                    GOLD.set(a, 0L, gift);
                    linger(rnd);
                });
                mine.set(KEYS + i * 8L, k); // committed
            } else if (key != 0 && op == 0) {
                mine.set(KEYS + i * 8L, 0); // may be gone from now on
                long h = accounts.find(key);
                if (h == Handles.NONE) {
                    ctx.violation("pool account " + key + " committed but missing");
                    return;
                }
                pools.atomically(tx -> {
                    MemorySegment b = tx.write(bank);
                    GOLD.set(b, 0L, (long) GOLD.get(b, 0L) + (long) GOLD.get(accounts.get(h), 0L));
                    GOLD.set(tx.write(h), 0L, 0L);
                    linger(rnd);
                    accounts.free(h);
                });
            } else if (key != 0) {
                long h = accounts.find(key);
                if (h == Handles.NONE) {
                    ctx.violation("pool account " + key + " committed but missing");
                    return;
                }
                boolean fail = op == 1;
                try {
                    pools.atomically(tx -> {
                        MemorySegment from = tx.write(rnd.nextBoolean() ? h : bank);
                        MemorySegment to = tx.write(from.address() == accounts.get(h).address() ? bank : h);
                        long amount = Math.min((long) GOLD.get(from, 0L), 1 + rnd.nextInt(50));
                        GOLD.set(from, 0L, (long) GOLD.get(from, 0L) - amount);
                        linger(rnd);
                        GOLD.set(to, 0L, (long) GOLD.get(to, 0L) + amount);
                        if (fail) {
                            throw new IllegalStateException("rolled back on purpose");
                        }
                    });
                } catch (IllegalStateException expected) {
                    // rolled back: nothing moved
                }
            }
        } finally {
            ctx.leave();
        }
        if (++ops % 64 == 0 && total(accounts) != TOTAL) {
            ctx.violation("pool of worker " + ctx.slot + " holds " + total(accounts) + " gold, not " + TOTAL);
        }
    }

    private static void linger(SplittableRandom rnd) {
        try {
            Linger.briefly(rnd);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void check(Checks c, int dead) {
        Facts f = env.worker(dead);
        try (Pools p = Pools.start(config(dead), List.of(ACCOUNTS))) {
            c.expect(p.startMode() != StartMode.COLD_START, () -> "pool of worker " + dead + " cold-started again");
            c.recovered("pool sections resumed after their owner was killed", 1);
            c.recovered("pool transactions cut by a kill, rolled back on resume",
                    p.startReport().stream().filter(l -> l.contains("rolled back a transaction")).count());
            c.verify("pool " + dead, p::verify);
            Pool a = p.pool(ACCOUNTS);
            long sum = total(a);
            c.expect(a.find(0) != Handles.NONE && sum == TOTAL, () -> "pool of worker " + dead + " holds " + sum
                    + " gold, not " + TOTAL + " (bank " + (a.find(0) != Handles.NONE ? "present" : "missing") + ")");
            for (int i = 0; i < RECORDS; i++) {
                long key = f.get(KEYS + i * 8L);
                if (key != 0) {
                    c.expect(a.find(key) != Handles.NONE, () -> "pool account " + key + " of worker " + dead
                            + " committed but missing after the kill");
                }
            }
        }
    }

    @Override
    public void cleanup() {
        for (int w = 0; w < env.workers(); w++) {
            try {
                Pools.remove(config(w));
            } catch (RuntimeException e) {
                System.err.println("torture: could not remove the pool segments of worker " + w + ": " + e);
            }
        }
    }
}
