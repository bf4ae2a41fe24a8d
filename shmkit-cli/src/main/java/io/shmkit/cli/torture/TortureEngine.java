package io.shmkit.cli.torture;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The parent of {@code shmkit torture}: creates a fresh segment holding every structure kind
 * (one {@link Exerciser} each, see {@link Exercisers}), starts worker JVMs (odd ones in fresh
 * pid namespaces when allowed), SIGKILLs them one at a time (in rounds, each worker once per round
 * in a seeded order) at a seeded random moment, checks every invariant
 * of every structure while the dead worker's facts are still, and restarts it. The seed fixes
 * which worker dies, when (delay after it is running) and every worker's operation sequence;
 * thread interleavings still vary between runs.
 */
public final class TortureEngine {
    private static final java.util.logging.Logger QUIET = java.util.logging.Logger.getLogger("io.shmkit.sync");

    /** The outcome of a run. */
    public record Result(long kills, long recoveries, long checks, long violations, long medianRecoverMicros,
                         long maxRecoverMicros, int namespaced, Map<String, Long> killsByPlace) {
    }

    private final long kills;
    private final int workers;
    private final long seed;
    private final long durationMillis;
    private final String namespaces;
    private final PrintWriter out;
    private final Workers procs;
    private final List<Exerciser> exercisers = Exercisers.all();
    private final Map<String, Long> places = new LinkedHashMap<>();

    public TortureEngine(long kills, int workers, long seed, long durationMillis, String namespaces, PrintWriter out) {
        if (workers < 1 || workers > TortureState.MAX_WORKERS) {
            throw new IllegalArgumentException("--workers must be 1.." + TortureState.MAX_WORKERS + ": " + workers);
        }
        if (kills < 0 || durationMillis <= 0) {
            throw new IllegalArgumentException("--kills must be >= 0 and --duration > 0");
        }
        this.kills = kills;
        this.workers = workers;
        this.seed = seed;
        this.durationMillis = durationMillis;
        this.namespaces = namespaces;
        this.out = out;
        this.procs = new Workers(out);
    }

    public Result run() throws Exception {
        QUIET.setLevel(java.util.logging.Level.SEVERE); // takeovers are counted, not logged one by one
        String name = "posix:shmkit-torture-" + ProcessHandle.current().pid() + "-" + Long.toHexString(seed);
        Thread hook = new Thread(procs::killAll, "shmkit-torture-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        Segment seg = Segment.create(SegmentName.parse(name), 48L << 20);
        try {
            return torture(seg, name);
        } finally {
            procs.killAll();
            for (Exerciser e : exercisers) {
                e.cleanup();
            }
            seg.closeAndUnlink();
            Runtime.getRuntime().removeShutdownHook(hook);
        }
    }

    private Env env(Segment seg, String name, TortureState st, int i) {
        return new Env(seg, name, workers, st, i);
    }

    private Result torture(Segment seg, String name) throws Exception {
        TortureState st = new TortureState(seg, seg.reserve(TortureState.REGION, TortureState.KIND, TortureState.LENGTH, 64)
                .offset());
        st.run.set(TortureState.OFF_WORKERS, workers);
        for (int i = 0; i < exercisers.size(); i++) {
            exercisers.get(i).create(env(seg, name, st, i));
        }
        st.run.set(TortureState.OFF_MAGIC, TortureState.MAGIC);
        boolean ns = procs.namespacesUsable(namespaces);
        SplittableRandom rnd = new SplittableRandom(seed);
        long warmUpSeed = rnd.nextLong();
        if (Workers.archivable(System.getProperty("java.class.path"))) {
            procs.warmUp(name, warmUpSeed, 2000);
        }
        Process[] live = new Process[workers];
        int namespaced = 0;
        for (int w = 0; w < workers; w++) {
            live[w] = procs.start(name, w, rnd.nextLong(), ns && w % 2 == 1);
            namespaced += ns && w % 2 == 1 ? 1 : 0;
        }
        out.printf("torture: segment %s, %d workers (%d in fresh pid namespaces), seed %d, up to %d kills, %d structure kinds: %s%n",
                name, workers, namespaced, seed, kills, exercisers.size(),
                String.join(", ", exercisers.stream().map(Exerciser::name).toList()));
        out.flush();
        Checks c = new Checks(out);
        long[] recover = new long[(int) Math.min(kills, 1 << 20)];
        long done = 0;
        long deadline = System.currentTimeMillis() + durationMillis;
        int[] order = new int[workers];
        while (done < kills && System.currentTimeMillis() < deadline && c.violations == 0) {
            if (done % workers == 0) { // rounds: each worker once, in a seeded order; a restart overlaps the others' kills
                shuffle(order, rnd);
            }
            int w = order[(int) (done % workers)];
            long delayMicros = rnd.nextLong(50_000);
            long nextSeed = rnd.nextLong();
            long waited = procs.awaitRunning(st, w, live[w], seed);
            long tk = System.nanoTime();
            TimeUnit.MICROSECONDS.sleep(delayMicros);
            procs.kill(live[w]);
            long killMs = (System.nanoTime() - tk) / 1_000_000;
            places.merge(placeName(st.worker(w).get(TortureState.W_PLACE)), 1L, Long::sum);
            long t0 = System.nanoTime();
            c.liveWorkers = workers - 1;
            check(c, st, w);
            recover[(int) done] = (System.nanoTime() - t0) / 1000;
            done++;
            if (c.violations != 0) {
                out.printf("torture: VIOLATION after kill %d (worker %d, delay %d us); reproduce with --seed %d --workers %d%n",
                        done, w, delayMicros, seed, workers);
            }
            if (done % 100 == 0) {
                out.printf("  %d kills, %d checks, %d violations%n", done, c.checks, c.violations);
                out.flush();
            }
            long ts = System.nanoTime();
            live[w] = procs.start(name, w, nextSeed, ns && w % 2 == 1);
            if (System.getenv("SHMKIT_TORTURE_DEBUG") != null) {
                System.err.printf("kill %d: waited %d ms for worker %d, kill+delay %d ms, check %d ms, start %d ms%n", done,
                        waited, w, killMs, recover[(int) done - 1] / 1000, (System.nanoTime() - ts) / 1_000_000);
            }
        }
        procs.killAll();
        c.liveWorkers = 0;
        for (int w = 0; w < workers; w++) { // final check with every worker dead
            check(c, st, w);
        }
        for (Exerciser e : exercisers) {
            e.summarize(c);
        }
        return report(c, Arrays.copyOf(recover, (int) done), done, namespaced);
    }

    private Result report(Checks c, long[] r, long done, int namespaced) {
        Arrays.sort(r);
        Result res = new Result(done, c.totalRecoveries(), c.checks, c.violations, r.length == 0 ? 0 : r[r.length / 2],
                r.length == 0 ? 0 : r[r.length - 1], namespaced, places);
        out.println("kills by place (what the killed worker was inside):");
        places.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> out.printf("  %-44s %d%n", e.getKey(), e.getValue()));
        out.println("recoveries:");
        c.recoveries.forEach((k, v) -> out.printf("  %-56s %d%n", k, v));
        out.printf("kills %d, recoveries %d, invariant checks %d, violations %d, time to recover median %.1f ms max %.1f ms%n",
                res.kills(), res.recoveries(), res.checks(), res.violations(), res.medianRecoverMicros() / 1000.0,
                res.maxRecoverMicros() / 1000.0);
        if (res.violations() != 0) {
            out.printf("FAILED: reproduce with: shmkit torture --kills %d --workers %d --seed %d --namespaces %s%n",
                    kills, workers, seed, namespaces);
        }
        out.flush();
        return res;
    }

    private static void shuffle(int[] order, SplittableRandom rnd) {
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        for (int i = order.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }

    private String placeName(long code) {
        if (code <= 0) {
            return "between operations";
        }
        int e = (int) ((code - 1) / 16);
        int p = (int) ((code - 1) % 16);
        return e < exercisers.size() && p < exercisers.get(e).places().size() ? exercisers.get(e).places().get(p)
                : "unknown place " + code;
    }

    /** Every invariant of every structure, with worker {@code w} dead (its facts still). */
    private void check(Checks c, TortureState st, int w) {
        for (Exerciser e : exercisers) {
            try {
                e.check(c, w);
            } catch (Exception | Error x) {
                c.fail(e.name() + ": check threw " + x);
                x.printStackTrace(System.err);
            }
        }
        long wv = st.run.get(TortureState.OFF_VIOLATIONS);
        if (wv != 0) {
            c.fail(wv + " violation(s) seen by workers (their stderr names them)");
            st.run.set(TortureState.OFF_VIOLATIONS, 0);
            c.violations += wv - 1;
        }
    }
}
