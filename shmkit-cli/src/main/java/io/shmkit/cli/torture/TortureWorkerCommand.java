package io.shmkit.cli.torture;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * A worker of {@code shmkit torture}: attaches the torture segment and every structure (each
 * exerciser settles what its killed predecessor had in flight), then runs a random mix of
 * operations on all of them until it is SIGKILLed. Every committed fact goes to shared memory
 * before the next operation starts. With a fourth argument it exits after that many operations
 * (the engine's warm-up run, which leaves a class-data archive that makes every later worker
 * start faster).
 */
@Command(name = "torture-worker", hidden = true)
public final class TortureWorkerCommand implements Callable<Integer> {
    private static final java.util.logging.Logger QUIET = java.util.logging.Logger.getLogger("io.shmkit.sync");
    @Parameters(index = "0") String segmentName;
    @Parameters(index = "1") int slot;
    @Parameters(index = "2") long seed;
    @Parameters(index = "3", defaultValue = "0") long exitAfter;

    /**
     * Starts a worker without the command line parser (it is started once per kill, so its
     * start-up time bounds the kill rate): {@code NAME SLOT SEED [EXIT_AFTER_OPS]}.
     */
    public static void main(String[] args) throws Exception {
        TortureWorkerCommand w = new TortureWorkerCommand();
        w.segmentName = args[0];
        w.slot = Integer.parseInt(args[1]);
        w.seed = Long.parseLong(args[2]);
        w.exitAfter = args.length > 3 ? Long.parseLong(args[3]) : 0;
        System.exit(w.call());
    }

    @Override
    public Integer call() throws Exception {
        QUIET.setLevel(java.util.logging.Level.SEVERE); // takeovers are counted, not logged one by one
        Segment seg = Segment.open(SegmentName.parse(segmentName));
        TortureState st = new TortureState(seg, seg.lookup(TortureState.REGION).orElseThrow().offset());
        WorkerContext ctx = new WorkerContext(st, slot);
        int workers = (int) st.run.get(TortureState.OFF_WORKERS);
        List<Exerciser> exercisers = Exercisers.all();
        boolean debug = System.getenv("SHMKIT_TORTURE_DEBUG") != null;
        StringBuilder times = new StringBuilder();
        for (int i = 0; i < exercisers.size(); i++) {
            long t0 = System.nanoTime();
            exercisers.get(i).attach(new Env(seg, segmentName, workers, st, i), ctx);
            times.append(' ').append(exercisers.get(i).name()).append('=').append((System.nanoTime() - t0) / 1_000_000);
        }
        if (debug) {
            System.err.println("worker " + slot + " attached " + (System.currentTimeMillis()
                    - ProcessHandle.current().info().startInstant().map(java.time.Instant::toEpochMilli).orElse(0L))
                    + " ms after its start:" + times);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long ops = 1; ; ops++) {
            exercisers.get(rnd.nextInt(exercisers.size())).step(rnd);
            ctx.operationDone();
            if ((ops & 15) == 0) {
                Thread.sleep(1); // pace: leaves CPU for the worker being restarted and the parent's checks
            }
            if (ops == exitAfter) { // the warm-up worker: exits normally, so the JVM writes its class archive
                return 0;
            }
        }
    }
}
