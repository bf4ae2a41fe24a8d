package io.shmkit.bench;

import io.shmkit.alloc.FixedPool;
import io.shmkit.alloc.SharedAllocator;
import io.shmkit.alloc.SlabAllocator;
import io.shmkit.alloc.SyncMode;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Throughput of one allocator shared by 1 and by 2 processes (one thread each): each process
 * runs allocate + free in a loop; the figure is the sum of all processes' operations per
 * microsecond over the same 3-second window, after 1.5 s of warm-up. Not JMH (JMH cannot
 * measure several processes at once); run it with
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp shmkit-bench/target/shmkit-benchmarks.jar io.shmkit.bench.AllocatorProcessThroughput
 * </pre>
 */
public final class AllocatorProcessThroughput {

    private static final long WARMUP_MS = 2000;
    private static final long MEASURE_MS = 3000;

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("child")) {
            child(args[1], args[2], Long.parseLong(args[3]));
            return;
        }
        String segName = "shmkit-bench-procs-" + ProcessHandle.current().pid();
        Segment seg = Segment.create(SegmentName.posix(segName), 128L << 20);
        try {
            FixedPool.create(seg, "fixed", 64, 100_000);
            FixedPool.create(seg, "fixed-cached", 64, 100_000, 8, SyncMode.THREAD_CACHED);
            SlabAllocator.create(seg, "slab", 4096);
            SlabAllocator.create(seg, "slab-cached", 4096, 4096, SyncMode.THREAD_CACHED);
            System.out.printf("%-14s %12s %12s%n", "allocator", "1 process", "2 processes");
            for (String name : List.of("fixed", "fixed-cached", "slab", "slab-cached")) {
                double one = run(segName, name, 1);
                double two = run(segName, name, 2);
                System.out.printf("%-14s %9.2f ops/us %9.2f ops/us%n", name, one, two);
            }
        } finally {
            seg.closeAndUnlink();
        }
    }

    private static double run(String segName, String name, int processes) throws Exception {
        long startAt = System.currentTimeMillis() + WARMUP_MS;
        List<Process> ps = new ArrayList<>();
        for (int i = 0; i < processes; i++) {
            String java = ProcessHandle.current().info().command().orElse("java");
            ps.add(new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                    System.getProperty("java.class.path"), AllocatorProcessThroughput.class.getName(),
                    "child", segName, name, Long.toString(startAt)).redirectErrorStream(true).start());
        }
        long ops = 0;
        for (Process p : ps) {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("OPS ")) {
                        ops += Long.parseLong(line.substring(4));
                    } else {
                        System.err.println(line);
                    }
                }
            }
            p.waitFor();
        }
        return ops / (MEASURE_MS * 1000.0);
    }

    private static void child(String segName, String name, long startAt) {
        try (Segment seg = Segment.open(SegmentName.posix(segName))) {
            SharedAllocator a = name.startsWith("fixed") ? FixedPool.open(seg, name) : SlabAllocator.open(seg, name);
            long[] sizes = new long[4096];
            SplittableRandom r = new SplittableRandom(7);
            for (int i = 0; i < sizes.length; i++) {
                sizes[i] = name.startsWith("fixed") ? 64 : 8 + r.nextInt(2041);
            }
            long sink = 0;
            int i = 0;
            while (System.currentTimeMillis() < startAt) {
                for (int k = 0; k < 1000; k++) {
                    long off = a.allocate(sizes[i++ & 4095]);
                    a.free(off);
                    sink += off;
                }
            }
            long end = startAt + MEASURE_MS;
            long ops = 0;
            while (System.currentTimeMillis() < end) {
                for (int k = 0; k < 1000; k++) {
                    long off = a.allocate(sizes[i++ & 4095]);
                    a.free(off);
                    sink += off;
                }
                ops += 1000;
            }
            if (a instanceof FixedPool f) {
                f.releaseThreadCache();
            } else if (a instanceof SlabAllocator s) {
                s.releaseThreadCache();
            }
            System.out.println("OPS " + ops);
            if (sink == 42) {
                System.out.println("unlikely");
            }
        }
    }
}
