package io.shmkit.bench;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.sync.LockResult;
import io.shmkit.sync.ShmMutex;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Measures the time from an owner's SIGKILL to the next waiter holding the lock with
 * {@link LockResult#OWNER_DIED}. Each round starts a child JVM that locks a {@link ShmMutex}
 * and sleeps; a waiter thread here calls {@code lock()} and goes to sleep on the futex; the
 * child is killed with SIGKILL; the time until {@code lock()} returns is recorded.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp shmkit-bench/target/shmkit-benchmarks.jar io.shmkit.bench.OwnerDiedLatency 31
 * </pre>
 */
public final class OwnerDiedLatency {

    private OwnerDiedLatency() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("hold")) {
            hold(args[1], Long.parseLong(args[2]));
            return;
        }
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 31;
        double[] ms = measure(rounds, System.out);
        System.out.printf("SIGKILL -> OWNER_DIED over %d rounds: min %.2f ms, median %.2f ms, p90 %.2f ms, max %.2f ms%n",
                rounds, ms[0], ms[rounds / 2], ms[(int) Math.min(rounds - 1, Math.ceil(rounds * 0.9) - 1)], ms[rounds - 1]);
    }

    /**
     * Runs {@code rounds} kills, printing one line per round to {@code log}.
     *
     * @return the latencies in milliseconds, sorted
     */
    public static double[] measure(int rounds, PrintStream log) throws Exception {
        if (rounds < 1) {
            throw new IllegalArgumentException("rounds must be >= 1, got rounds=" + rounds);
        }
        String name = "shmkit-bench-ownerdied-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (Segment seg = Segment.create(SegmentName.posix(name), 64 * 1024)) {
            long off = seg.dataOffset();
            ShmMutex m = ShmMutex.create(seg.memory(), off);
            String java = ProcessHandle.current().info().command().orElse("java");
            double[] ms = new double[rounds];
            for (int i = 0; i < rounds; i++) {
                ms[i] = round(m, java, name, off);
                log.printf("round %2d: %.2f ms%n", i + 1, ms[i]);
            }
            Arrays.sort(ms);
            return ms;
        } finally {
            Segment.unlink(SegmentName.posix(name));
        }
    }

    private static double round(ShmMutex m, String java, String name, long off) throws Exception {
        Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), OwnerDiedLatency.class.getName(), "hold", name, Long.toString(off))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            String line = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8)).readLine();
            if (line == null || !line.startsWith("LOCKED")) {
                throw new IllegalStateException("holder said " + line);
            }
            CompletableFuture<long[]> waiter = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                LockResult r = m.lock();
                long at = System.nanoTime();
                if (r == LockResult.OWNER_DIED) {
                    m.markConsistent();
                }
                m.unlock();
                waiter.complete(new long[] {at, r.ordinal()});
            });
            t.start();
            Thread.sleep(100); // the waiter spins for microseconds, then sleeps on the futex
            if (waiter.isDone()) {
                throw new IllegalStateException("waiter got the lock of a live holder");
            }
            long killedAt = System.nanoTime();
            child.destroyForcibly(); // SIGKILL
            long[] res = waiter.get(30, TimeUnit.SECONDS);
            if (res[1] != LockResult.OWNER_DIED.ordinal()) {
                throw new IllegalStateException("expected OWNER_DIED, got " + LockResult.values()[(int) res[1]]);
            }
            t.join();
            return (res[0] - killedAt) / 1e6;
        } finally {
            child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static void hold(String name, long off) throws InterruptedException {
        Segment seg = Segment.open(SegmentName.posix(name));
        ShmMutex m = ShmMutex.open(seg.memory(), off);
        LockResult r = m.lock();
        if (r == LockResult.OWNER_DIED) {
            m.markConsistent();
        }
        System.out.println("LOCKED " + r);
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
