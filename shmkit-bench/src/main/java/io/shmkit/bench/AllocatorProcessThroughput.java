package io.shmkit.bench;

import io.shmkit.alloc.FixedPool;
import io.shmkit.alloc.SharedAllocator;
import io.shmkit.alloc.SlabAllocator;
import io.shmkit.alloc.SyncMode;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Throughput of one allocator shared by 1 and by 2 processes (one thread each), each process
 * running allocate + free in a loop. Not JMH (JMH cannot time several processes at once).
 *
 * <p>The children attach, say {@code READY}, and are then told one common start time; for each
 * allocator in turn they warm up, then count operations in the same {@code windows} windows of
 * wall-clock time. A window's figure is the sum over the processes, in operations per
 * microsecond; the windows are the samples of the score and its error. Run it with
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp shmkit-bench/target/shmkit-benchmarks.jar io.shmkit.bench.AllocatorProcessThroughput
 * </pre>
 */
public final class AllocatorProcessThroughput {

    /** The allocators measured, as reported: {@code <name>[processes=N]}. */
    static final List<String> ALLOCATORS = List.of("fixedPool64", "fixedPool64ThreadCached", "slabMixed", "slabMixedThreadCached");
    /** Sizes of the slab runs (the same sequence as AllocatorBenchmark's {@code sizes=8-2048}). */
    static final String SLAB_SIZES = "8-2048";

    private AllocatorProcessThroughput() {
    }

    /** Timing of one measurement: warm-up, then {@code windows} windows of {@code windowMs}. */
    public record Timing(long warmupMs, long windowMs, int windows) {
        public Timing {
            if (warmupMs < 0 || windowMs <= 0 || windows <= 0) {
                throw new IllegalArgumentException("bad timing: warmupMs=" + warmupMs + " windowMs=" + windowMs + " windows=" + windows);
            }
        }

        long phaseMs() {
            return warmupMs + windowMs * windows;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("child")) {
            child(args[1], Long.parseLong(args[2]), Long.parseLong(args[3]), Integer.parseInt(args[4]));
            return;
        }
        Map<String, double[]> r = measure(new Timing(1500, 500, 6), System.err);
        for (Map.Entry<String, double[]> e : r.entrySet()) {
            double sum = 0;
            for (double v : e.getValue()) {
                sum += v;
            }
            System.out.printf("%-40s %9.2f ops/us%n", e.getKey(), sum / e.getValue().length);
        }
    }

    /**
     * Measures every allocator with 1 and with 2 processes.
     *
     * @return per result name ({@code fixedPool64[processes=2]} ...) the per-window ops/us
     */
    public static Map<String, double[]> measure(Timing timing, PrintStream log) throws Exception {
        String segName = "shmkit-bench-procs-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        Segment seg = Segment.create(SegmentName.posix(segName), 128L << 20);
        Map<String, double[]> out = new LinkedHashMap<>();
        try {
            FixedPool.create(seg, "fixedPool64", 64, 100_000);
            FixedPool.create(seg, "fixedPool64ThreadCached", 64, 100_000, 8, SyncMode.THREAD_CACHED);
            SlabAllocator.create(seg, "slabMixed", 4096);
            SlabAllocator.create(seg, "slabMixedThreadCached", 4096, 4096, SyncMode.THREAD_CACHED);
            for (int processes = 1; processes <= 2; processes++) {
                Map<String, double[]> r = run(segName, processes, timing, log);
                for (String a : ALLOCATORS) {
                    out.put(a + "[processes=" + processes + "]", r.get(a));
                }
            }
        } finally {
            seg.closeAndUnlink();
        }
        return out;
    }

    private static Map<String, double[]> run(String segName, int processes, Timing t, PrintStream log) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<Process> ps = new ArrayList<>();
        Map<String, double[]> sums = new LinkedHashMap<>();
        try {
            List<BufferedReader> outs = new ArrayList<>();
            for (int i = 0; i < processes; i++) {
                Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                        System.getProperty("java.class.path"), AllocatorProcessThroughput.class.getName(),
                        "child", segName, Long.toString(t.warmupMs()), Long.toString(t.windowMs()), Integer.toString(t.windows()))
                        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
                ps.add(p);
                outs.add(new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
            }
            for (BufferedReader r : outs) {
                String line = r.readLine();
                if (!"READY".equals(line)) {
                    throw new IllegalStateException("child said " + line);
                }
            }
            long startAt = System.currentTimeMillis() + 200;
            for (Process p : ps) {
                Writer w = p.outputWriter(StandardCharsets.UTF_8);
                w.write("GO " + startAt + "\n");
                w.flush();
            }
            for (BufferedReader r : outs) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("OPS ")) {
                        String[] f = line.split(" ");
                        double[] sum = sums.computeIfAbsent(f[1], k -> new double[t.windows()]);
                        for (int w = 0; w < t.windows(); w++) {
                            sum[w] += Long.parseLong(f[2 + w]) / (t.windowMs() * 1000.0);
                        }
                    } else {
                        log.println(line);
                    }
                }
            }
            for (Process p : ps) {
                if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IllegalStateException("child process failed (exit " + (p.isAlive() ? "none" : p.exitValue()) + ")");
                }
            }
        } finally {
            for (Process p : ps) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        for (String a : ALLOCATORS) {
            if (!sums.containsKey(a)) {
                throw new IllegalStateException("no figure for " + a + " with " + processes + " processes");
            }
        }
        return sums;
    }

    private static void child(String segName, long warmupMs, long windowMs, int windows) throws Exception {
        Timing t = new Timing(warmupMs, windowMs, windows);
        try (Segment seg = Segment.open(SegmentName.posix(segName))) {
            List<SharedAllocator> allocators = new ArrayList<>();
            for (String a : ALLOCATORS) {
                allocators.add(a.startsWith("fixed") ? FixedPool.open(seg, a) : SlabAllocator.open(seg, a));
            }
            long[] fixed = SizeSequence.of(64, 64);
            long[] mixed = SizeSequence.of(SLAB_SIZES);
            System.out.println("READY");
            System.out.flush();
            String go = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            if (go == null || !go.startsWith("GO ")) {
                throw new IllegalStateException("expected GO, got " + go);
            }
            long startAt = Long.parseLong(go.substring(3));
            long sink = 0;
            for (int k = 0; k < allocators.size(); k++) {
                SharedAllocator a = allocators.get(k);
                long[] sizes = ALLOCATORS.get(k).startsWith("fixed") ? fixed : mixed;
                long phase = startAt + k * t.phaseMs();
                long windowStart = phase + t.warmupMs();
                sink += loop(a, sizes, windowStart);
                StringBuilder line = new StringBuilder("OPS ").append(ALLOCATORS.get(k));
                for (int w = 0; w < windows; w++) {
                    long end = windowStart + (w + 1) * windowMs;
                    long before = count;
                    sink += loop(a, sizes, end);
                    line.append(' ').append(count - before);
                }
                if (a instanceof FixedPool f) {
                    f.releaseThreadCache();
                } else if (a instanceof SlabAllocator s) {
                    s.releaseThreadCache();
                }
                System.out.println(line);
            }
            if (sink == 42) {
                System.out.println("unlikely");
            }
        }
    }

    /** Operations done by this child so far (one thread per child). */
    private static long count;

    /** Allocate + free until {@code untilMillis}; counts into {@link #count}. */
    private static long loop(SharedAllocator a, long[] sizes, long untilMillis) {
        long sink = 0;
        int i = (int) count;
        while (System.currentTimeMillis() < untilMillis) {
            for (int k = 0; k < 1000; k++) {
                long off = a.allocate(sizes[i++ & (SizeSequence.LENGTH - 1)]);
                a.free(off);
                sink += off;
            }
            count += 1000;
        }
        return sink;
    }
}
