package io.shmkit.bench;

import io.shmkit.pool.Pool;
import io.shmkit.pool.PoolConfig;
import io.shmkit.pool.Pools;
import io.shmkit.pool.TypeDef;
import io.shmkit.segment.SegmentName;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.HashMap;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * Object pools (issue 11): {@code get(handle)} + one long field against the same field read
 * from a raw {@code MemorySegment} at a precomputed offset; keyed lookup by a long player id
 * against {@code HashMap<Long, Long>.get}; resume and cold start of pools holding N objects.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -jar shmkit-bench/target/shmkit-benchmarks.jar PoolBenchmark -f 1 -wi 3 -i 5 -w 1 -r 1
 * </pre>
 */
public class PoolBenchmark {

    static final StructLayout PLAYER = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("playerId"),
            ValueLayout.JAVA_LONG.withName("gold"),
            ValueLayout.JAVA_INT.withName("level"),
            ValueLayout.JAVA_INT.withName("zone")).withName("Player");
    static final VarHandle GOLD = PLAYER.varHandle(groupElement("gold"));
    static final int PROBES = 1024;

    static PoolConfig config(String tag) {
        String p = "shmkit-bench-pool-" + tag + "-" + ProcessHandle.current().pid();
        return PoolConfig.of("zone", SegmentName.posix(p + "-base"), 64L << 20,
                List.of(SegmentName.posix(p + "-b0"), SegmentName.posix(p + "-b1")));
    }

    static TypeDef players(int n) {
        return TypeDef.keyed(1, "Player", PLAYER, n);
    }

    static Pools filled(PoolConfig c, int n) {
        Pools.remove(c);
        Pools pools = Pools.start(c, List.of(players(n)));
        Pool p = pools.pool(1);
        for (int i = 0; i < n; i++) {
            long h = p.allocate(1_000_000_000L + i * 7919L);
            GOLD.set(p.get(h), 0L, (long) i);
        }
        return pools;
    }

    /** Field access and key lookup at 1,000,000 objects. */
    @State(Scope.Benchmark)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"}) // JMH reads a benchmark's own class only
    @Warmup(iterations = 3, time = 1)
    @Measurement(iterations = 5, time = 1)
    public static class Access {
        PoolConfig config = config("access");
        Pools pools;
        Pool players;
        long[] handles = new long[PROBES];
        long[] offsets = new long[PROBES];
        long[] keys = new long[PROBES];
        Long[] boxedKeys = new Long[PROBES];
        MemorySegment raw;
        HashMap<Long, Long> map = new HashMap<>();
        int i;

        @Setup
        public void setUp() {
            int n = 1_000_000;
            pools = filled(config, n);
            players = pools.pool(1);
            SplittableRandom r = new SplittableRandom(42);
            for (int k = 0; k < n; k++) {
                long key = 1_000_000_000L + k * 7919L;
                map.put(key, players.find(key));
            }
            for (int k = 0; k < PROBES; k++) {
                long key = 1_000_000_000L + r.nextInt(1 << 16) * 7919L; // the first chunk: one memory for the raw read
                keys[k] = key;
                boxedKeys[k] = key;
                handles[k] = players.find(key);
                offsets[k] = players.offset(handles[k]);
            }
            raw = players.memoryOf(handles[0]);
        }

        @TearDown
        public void tearDown() {
            pools.closeAndRemove();
        }

        @Benchmark
        public long getHandleReadLong() {
            long h = handles[i++ & (PROBES - 1)];
            return (long) GOLD.get(players.get(h), 0L);
        }

        @Benchmark
        public long offsetHandleReadLong() {
            long h = handles[i++ & (PROBES - 1)];
            return (long) GOLD.get(players.memoryOf(h), players.offset(h));
        }

        @Benchmark
        public long rawSegmentReadLong() {
            return (long) GOLD.get(raw, offsets[i++ & (PROBES - 1)]);
        }

        @Benchmark
        public long keyedFind() {
            return players.find(keys[i++ & (PROBES - 1)]);
        }

        @Benchmark
        public Long hashMapGet() {
            return map.get(boxedKeys[i++ & (PROBES - 1)]);
        }
    }

    /** Resume (attach, validate, recover) and cold start of pools with N objects. */
    @State(Scope.Benchmark)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"}) // JMH reads a benchmark's own class only
    @Warmup(iterations = 3, time = 1)
    @Measurement(iterations = 5, time = 1)
    public static class Start {
        @Param({"10000", "1000000"})
        int objects;
        PoolConfig config;
        PoolConfig fresh;

        @Setup(Level.Trial)
        public void setUp() {
            config = config("resume" + objects);
            fresh = config("cold" + objects);
            filled(config, objects).close();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            Pools.remove(config);
            Pools.remove(fresh);
        }

        @Setup(Level.Invocation)
        public void clean() {
            Pools.remove(fresh);
        }

        @Benchmark
        public Pools resume() {
            Pools p = Pools.start(config, List.of(players(objects)));
            p.close();
            return p;
        }

        @Benchmark
        public Pools coldStart() {
            Pools p = Pools.start(fresh, List.of(players(objects)));
            p.close();
            return p;
        }
    }
}
