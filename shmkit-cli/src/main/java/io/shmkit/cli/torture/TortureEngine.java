package io.shmkit.cli.torture;

import io.shmkit.alloc.FixedPool;
import io.shmkit.alloc.SyncMode;
import io.shmkit.cli.Main;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.sync.LockResult;
import io.shmkit.sync.ShmMutex;
import io.shmkit.table.RowView;
import io.shmkit.table.SharedTable;

import java.io.PrintWriter;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static io.shmkit.cli.torture.TortureState.*;

/**
 * The parent of {@code shmkit torture}: creates a fresh segment holding 4 robust mutexes guarding
 * pairs, a {@link SharedTable} (per-worker counter rows, shared paired rows) and two
 * {@link FixedPool}s (LOCKED, THREAD_CACHED); starts worker JVMs (some in fresh pid namespaces);
 * SIGKILLs one at a seeded random moment, checks every invariant while its facts are still,
 * restarts it. The seed fixes which worker dies, when (delay after it is running) and every
 * worker's operation sequence; thread interleavings still vary between runs.
 */
public final class TortureEngine {
    private static final java.util.logging.Logger QUIET = java.util.logging.Logger.getLogger("io.shmkit.sync");

    /** The outcome of a run. */
    public record Result(long kills, long recoveries, long checks, long violations, long medianRecoverMicros,
                         long maxRecoverMicros, int namespaced) {
    }

    private final long kills;
    private final int workers;
    private final long seed;
    private final long durationMillis;
    private final String namespaces;
    private final PrintWriter out;
    private final List<Process> live = new ArrayList<>();
    private long checks;
    private long violations;
    private long parentRecoveries;

    public TortureEngine(long kills, int workers, long seed, long durationMillis, String namespaces, PrintWriter out) {
        if (workers < 1 || workers > MAX_WORKERS) {
            throw new IllegalArgumentException("--workers must be 1.." + MAX_WORKERS + ": " + workers);
        }
        this.kills = kills;
        this.workers = workers;
        this.seed = seed;
        this.durationMillis = durationMillis;
        this.namespaces = namespaces;
        this.out = out;
    }

    public Result run() throws Exception {
        QUIET.setLevel(java.util.logging.Level.SEVERE); // takeovers are counted, not logged one by one
        String name = "posix:shmkit-torture-" + ProcessHandle.current().pid() + "-" + Long.toHexString(seed);
        SegmentName sn = SegmentName.parse(name);
        Thread hook = new Thread(this::killAll, "shmkit-torture-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        Segment seg = Segment.create(sn, 32L << 20);
        try {
            return torture(seg, name);
        } finally {
            killAll();
            seg.closeAndUnlink();
            Runtime.getRuntime().removeShutdownHook(hook);
        }
    }

    private Result torture(Segment seg, String name) throws Exception {
        long base = seg.reserve(REGION, KIND, LENGTH, 64).offset();
        TortureState st = new TortureState(seg, base);
        for (int k = 0; k < MUTEXES; k++) {
            ShmMutex.create(seg.memory(), base + MUTEX_AT + k * MUTEX_STRIDE);
        }
        st.set(0, MAGIC);
        SharedTable table = SharedTable.create(seg, "table", schema(), 256);
        RowView row = table.newRow();
        for (int w = 0; w < workers; w++) {
            for (int r = 0; r < ROWS; r++) {
                table.set(counterKey(w, r), row.clear().setLong("count", 0));
            }
        }
        for (int k = 0; k < MUTEXES; k++) {
            table.set(pairKey(k), row.clear());
        }
        FixedPool[] pools = {FixedPool.create(seg, POOLS[0], 64, 8192, 8, SyncMode.LOCKED),
                FixedPool.create(seg, POOLS[1], 64, 8192, 8, SyncMode.THREAD_CACHED)};
        boolean ns = namespacesUsable();
        SplittableRandom rnd = new SplittableRandom(seed);
        Process[] procs = new Process[workers];
        int namespaced = 0;
        for (int w = 0; w < workers; w++) {
            procs[w] = start(name, w, rnd.nextLong(), ns && w % 2 == 1);
            namespaced += ns && w % 2 == 1 ? 1 : 0;
        }
        out.printf("torture: segment %s, %d workers (%d in fresh pid namespaces), seed %d, up to %d kills%n",
                name, workers, namespaced, seed, kills);
        out.flush();
        long[] recover = new long[(int) Math.min(kills, 1 << 20)];
        long done = 0;
        long deadline = System.currentTimeMillis() + durationMillis;
        while (done < kills && System.currentTimeMillis() < deadline && violations == 0) {
            int w = rnd.nextInt(workers);
            long delayMicros = rnd.nextLong(50_000);
            long nextSeed = rnd.nextLong();
            awaitRunning(st, w, procs[w]);
            TimeUnit.MICROSECONDS.sleep(delayMicros);
            kill(procs[w]);
            long t0 = System.nanoTime();
            check(st, table, pools, w);
            recover[(int) done] = (System.nanoTime() - t0) / 1000;
            done++;
            if (violations != 0) {
                out.printf("torture: VIOLATION after kill %d (worker %d, delay %d us); reproduce with --seed %d --workers %d%n",
                        done, w, delayMicros, seed, workers);
            }
            if (done % 100 == 0) {
                out.printf("  %d kills, %d checks, %d violations%n", done, checks, violations);
                out.flush();
            }
            procs[w] = start(name, w, nextSeed, ns && w % 2 == 1);
        }
        killAll();
        for (int w = 0; w < workers; w++) { // final check with every worker dead
            check(st, table, pools, w);
        }
        long[] r = Arrays.copyOf(recover, (int) done);
        Arrays.sort(r);
        long recoveries = st.get(OFF_OWNER_DIED) + parentRecoveries;
        Result res = new Result(done, recoveries, checks, violations, r.length == 0 ? 0 : r[r.length / 2],
                r.length == 0 ? 0 : r[r.length - 1], namespaced);
        out.printf("kills %d, recoveries (OWNER_DIED repairs) %d, invariant checks %d, violations %d, "
                        + "time to recover median %.1f ms max %.1f ms%n", res.kills, res.recoveries, res.checks,
                res.violations, res.medianRecoverMicros / 1000.0, res.maxRecoverMicros / 1000.0);
        if (res.violations != 0) {
            out.printf("FAILED: reproduce with: shmkit torture --kills %d --workers %d --seed %d%n", kills, workers, seed);
        }
        out.flush();
        return res;
    }

    /** Every invariant, with worker {@code w} dead (its facts still) and the others running. */
    private void check(TortureState st, SharedTable table, FixedPool[] pools, int w) throws InterruptedException {
        for (int k = 0; k < MUTEXES; k++) {
            ShmMutex mu = st.mutex(k);
            LockResult r = mu.lock(10, TimeUnit.SECONDS);
            checks++;
            if (!r.acquired()) {
                fail("mutex " + k + " stuck: " + r + " after 10 s");
                continue;
            }
            try {
                if (r == LockResult.OWNER_DIED) {
                    parentRecoveries++;
                    st.set(st.pairB(k), st.get(st.pairA(k)));
                    mu.markConsistent();
                } else if (st.get(st.pairA(k)) != st.get(st.pairB(k))) {
                    fail("mutex " + k + " pair differs after an ACQUIRED lock");
                }
            } finally {
                mu.unlock();
            }
        }
        RuntimeException damage = null;
        try {
            table.verify();
            pools[0].verify();
            pools[1].verify();
        } catch (RuntimeException e) {
            damage = e;
        }
        checks += 3;
        if (damage != null) {
            fail("verify(): " + damage);
        }
        RowView row = table.newRow();
        for (int k = 0; k < MUTEXES; k++) {
            checks++;
            if (!table.get(pairKey(k), row) || row.getLong("x") != row.getLong("y")) {
                fail("table pair row " + pairKey(k) + " missing or torn");
            }
        }
        long inflight = st.get(worker(w, W_INFLIGHT));
        for (int r = 0; r < ROWS; r++) {
            long rec = st.get(recorded(w, r));
            long have = table.getLong(counterKey(w, r), "count", -1);
            long slack = inflight == r + 1 ? 1 : 0;
            checks++;
            if (have < rec || have > rec + slack) {
                fail("counter " + counterKey(w, r) + " = " + have + ", recorded " + rec + " (+" + slack + " in flight)");
            }
        }
        for (int p = 0; p < pools.length; p++) {
            for (int i = 0; i < RECORDS; i++) {
                long off = st.get(alloc(w, p, i));
                if (off == 0) {
                    continue;
                }
                checks++;
                if (!pools[p].isAllocated(off) || pools[p].memory().get(ValueLayout.JAVA_LONG, off) != marker(w, off)) {
                    fail(POOLS[p] + ": committed allocation at offset " + off + " of worker " + w + " freed or overwritten");
                }
            }
        }
        long wv = st.get(OFF_VIOLATIONS);
        if (wv != 0) {
            fail(wv + " violation(s) seen by workers (their stderr names them)");
            st.set(OFF_VIOLATIONS, 0);
            violations += wv - 1;
        }
    }

    private void fail(String what) {
        violations++;
        out.println("torture: VIOLATION " + what);
        out.flush();
    }

    private void awaitRunning(TortureState st, int w, Process p) throws InterruptedException {
        long ops = st.get(worker(w, W_OPS));
        long until = System.currentTimeMillis() + 120_000;
        while (st.get(worker(w, W_OPS)) == ops) {
            if (!p.isAlive() || System.currentTimeMillis() > until) {
                throw new IllegalStateException("torture worker " + w + " " + (p.isAlive() ? "made no progress in 120 s"
                        : "exited with status " + p.exitValue()) + " (seed " + seed + ")");
            }
            Thread.sleep(2);
        }
    }

    private Process start(String name, int w, long workerSeed, boolean inNamespace) throws java.io.IOException {
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        List<String> cmd = new ArrayList<>();
        if (inNamespace) {
            cmd.addAll(List.of("unshare", "-p", "-f", "--mount-proc", "--kill-child"));
        }
        cmd.addAll(List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-Xshare:auto", "-Xmx64m", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "torture-worker", name, Integer.toString(w), Long.toString(workerSeed)));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        synchronized (live) {
            live.add(p);
        }
        return p;
    }

    /** SIGKILLs the worker JVM itself (inside a namespace: the JVM under unshare, then unshare). */
    private void kill(Process p) throws InterruptedException {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
        for (ProcessHandle d : p.descendants().toList()) {
            d.destroyForcibly();
        }
        synchronized (live) {
            live.remove(p);
        }
    }

    private void killAll() {
        List<Process> all;
        synchronized (live) {
            all = new ArrayList<>(live);
        }
        for (Process p : all) {
            try {
                kill(p);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private boolean namespacesUsable() {
        if (namespaces.equals("off")) {
            return false;
        }
        boolean ok;
        try {
            Process p = new ProcessBuilder("unshare", "-p", "-f", "--mount-proc", "--kill-child", "true")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            ok = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (java.io.IOException | InterruptedException e) {
            ok = false;
        }
        if (!ok) {
            if (namespaces.equals("on")) {
                throw new IllegalStateException("--namespaces on: 'unshare -p -f --mount-proc' is refused here");
            }
            out.println("torture: pid namespaces unavailable ('unshare -p -f --mount-proc' refused): all workers in the host namespace");
        }
        return ok;
    }
}
