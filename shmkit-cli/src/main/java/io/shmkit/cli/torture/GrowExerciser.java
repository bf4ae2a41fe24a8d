package io.shmkit.cli.torture;

import io.shmkit.segment.Segment;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Segment grow while every other worker is attached and working: a worker grows the torture
 * segment by a few pages (up to a cap, then by nothing, which still takes the header's grow
 * lock) and records the size it saw afterwards. After a kill (possibly inside a grow, holding
 * the header lock) the parent's own grow must complete within 10 s (the lock of a dead grower
 * is taken over), and the segment is at least as large as every size a worker recorded. Every
 * other exerciser keeps using the structures it opened before the grows.
 */
final class GrowExerciser implements Exerciser {
    private static final long CAP = 0;
    private static final long GROWN = 0;
    private static final long GROWS = 8;

    private Env env;
    private WorkerContext ctx;
    private Facts mine;

    @Override
    public String name() {
        return "grow";
    }

    @Override
    public List<String> places() {
        return List.of("segment grow");
    }

    @Override
    public void create(Env e) {
        env = e;
        e.global().set(CAP, e.segment().size() + (32L << 20));
    }

    @Override
    public void attach(Env e, WorkerContext c) {
        env = e;
        ctx = c;
        mine = e.worker(c.slot);
    }

    @Override
    public void step(SplittableRandom rnd) {
        Segment s = env.segment();
        long size = s.size();
        long target = Math.min(size + 4096L * (1 + rnd.nextInt(16)), env.global().get(CAP));
        ctx.enter(env.index(), 0);
        try {
            s.grow(Math.max(target, size));
        } catch (IllegalArgumentException shrink) { // another worker grew it past target since our size()
            if (s.size() < target) {
                throw shrink;
            }
        }
        ctx.leave();
        long now = s.size();
        if (now < target) {
            ctx.violation("segment grow(" + target + ") returned with size " + now);
        }
        mine.set(GROWN, now);
        mine.add(GROWS, 1);
    }

    @Override
    public void check(Checks c, int dead) throws InterruptedException {
        Segment s = env.segment();
        long[] recorded = new long[env.workers()]; // read first: sizes only grow
        for (int w = 0; w < recorded.length; w++) {
            recorded[w] = env.worker(w).get(GROWN);
        }
        CompletableFuture<Long> grow = CompletableFuture.supplyAsync(() -> {
            for (int i = 0; ; i++) {
                try {
                    s.grow(s.size());
                    return s.size();
                } catch (IllegalArgumentException lostRace) { // a worker grew it between size() and grow()
                    if (i == 100) {
                        throw lostRace;
                    }
                }
            }
        });
        long size;
        try {
            size = grow.get(10, TimeUnit.SECONDS);
        } catch (TimeoutException stuck) {
            c.fail("segment grow lock stuck: grow() did not return within 10 s");
            return;
        } catch (ExecutionException e) {
            c.fail("segment grow failed: " + e.getCause());
            return;
        }
        c.checks++;
        for (int w = 0; w < env.workers(); w++) {
            int worker = w;
            c.expect(size >= recorded[w], () -> "segment size " + size + " below the " + recorded[worker] + " worker " + worker
                    + " saw after its grow");
        }
    }

    @Override
    public void summarize(Checks c) {
        long grows = 0;
        for (int w = 0; w < env.workers(); w++) {
            grows += env.worker(w).get(GROWS);
        }
        c.out().printf("  segment grows made by workers: %d, final size %d bytes%n",
                grows, env.segment().size());
    }
}
