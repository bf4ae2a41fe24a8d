package io.shmkit.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.shmkit.alloc.FixedPool;
import io.shmkit.alloc.SlabAllocator;
import io.shmkit.alloc.SyncMode;
import io.shmkit.segment.Segment;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.invoke.MethodHandle;
import java.util.concurrent.TimeUnit;

/**
 * FixedPool and SlabAllocator against Netty's pooled direct buffers (in its default
 * configuration and tuned, see {@link NettyTuned}) and glibc malloc/free (FFM downcall; the
 * native C reference is {@code src/main/c/malloc_bench.c}), one allocate + one free per
 * operation, in one run:
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -jar shmkit-bench/target/shmkit-benchmarks.jar AllocatorBenchmark -f 1 -wi 3 -i 5 -w 1 -r 1
 * </pre>
 *
 * <p>Methods ending in {@code _2t} run the same operation on two threads sharing one
 * allocator (Netty and malloc use their per-thread caches/arenas).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = AllocatorBenchmark.NATIVE)
public class AllocatorBenchmark {

    static final String NATIVE = "--enable-native-access=ALL-UNNAMED";
    static final String NETTY_NO_LEAK_DETECTION = "-Dio.netty.leakDetection.level=disabled";

    private static final MethodHandle MALLOC = Glibc.MALLOC;
    private static final MethodHandle FREE = Glibc.FREE;


    /** One segment with a locked pool, a single-threaded pool and a locked slab, shared by all threads. */
    @State(Scope.Benchmark)
    public static class Shared {
        Segment segment;
        FixedPool pool;
        FixedPool poolNoLock;
        FixedPool poolCached;
        SlabAllocator slabNoLock;
        SlabAllocator slabCached;
        SlabAllocator slab;

        @Setup(Level.Trial)
        public void setUp() {
            segment = Segment.create(SegmentName.posix("shmkit-bench-alloc-" + ProcessHandle.current().pid()), 128L << 20);
            try {
                pool = FixedPool.create(segment, "pool", 64, 100_000);
                poolNoLock = FixedPool.create(segment, "pool-st", 64, 100_000, 8, SyncMode.SINGLE_THREADED);
                poolCached = FixedPool.create(segment, "pool-tc", 64, 100_000, 8, SyncMode.THREAD_CACHED);
                slab = SlabAllocator.create(segment, "slab", 4096);
                slabNoLock = SlabAllocator.create(segment, "slab-st", 4096, 4096, SyncMode.SINGLE_THREADED);
                slabCached = SlabAllocator.create(segment, "slab-tc", 4096, 4096, SyncMode.THREAD_CACHED);
            } catch (RuntimeException e) {
                segment.closeAndUnlink(); // JMH skips @TearDown when @Setup fails
                throw e;
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            segment.closeAndUnlink();
        }
    }

    /**
     * Per-thread request sizes for the mixed benchmarks ({@link SizeSequence}): {@code 8-1032}
     * stays inside glibc's tcache range (every size malloc caches per thread), {@code 8-2048}
     * sends about half the requests beyond it, onto malloc's locked arena path.
     */
    @State(Scope.Thread)
    public static class Sizes {
        @Param({"8-1032", "8-2048"})
        public String sizes;
        long[] sequence;
        int i;

        @Setup(Level.Trial)
        public void setUp() {
            sequence = SizeSequence.of(sizes);
        }

        long next() {
            return sequence[i++ & (SizeSequence.LENGTH - 1)];
        }
    }

    /**
     * Netty configured as a performance-minded user would: thread caches for every thread (JMH's
     * threads are not {@code FastThreadLocalThread}s, so the default gives them none), otherwise
     * Netty's defaults; the benchmarks using it fork with leak detection disabled.
     */
    static final class NettyTuned {
        static final PooledByteBufAllocator ALLOCATOR = new PooledByteBufAllocator(true,
                PooledByteBufAllocator.defaultNumHeapArena(), PooledByteBufAllocator.defaultNumDirectArena(),
                PooledByteBufAllocator.defaultPageSize(), PooledByteBufAllocator.defaultMaxOrder(),
                PooledByteBufAllocator.defaultSmallCacheSize(), PooledByteBufAllocator.defaultNormalCacheSize(), true);

        private NettyTuned() {
        }
    }

    private static int netty(PooledByteBufAllocator allocator, int size) {
        ByteBuf b = allocator.directBuffer(size);
        int c = b.capacity();
        b.release();
        return c;
    }

    // ------------------------------------------------------------------ 64-byte, one thread

    @Benchmark
    public long fixedPool64(Shared s) {
        FixedPool p = s.pool;
        long off = p.allocate(64);
        p.free(off);
        return off;
    }

    @Benchmark
    public long fixedPool64SingleThreadedMode(Shared s) {
        FixedPool p = s.poolNoLock;
        long off = p.allocate(64);
        p.free(off);
        return off;
    }

    @Benchmark
    public long fixedPool64ThreadCached(Shared s) {
        FixedPool p = s.poolCached;
        long off = p.allocate(64);
        p.free(off);
        return off;
    }

    /** Netty's default configuration: {@code PooledByteBufAllocator.DEFAULT}, leak detection at its default. */
    @Benchmark
    public int nettyDefault64() {
        return netty(PooledByteBufAllocator.DEFAULT, 64);
    }

    /** Netty tuned: thread caches for all threads, leak detection off ({@link NettyTuned}). */
    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {NATIVE, NETTY_NO_LEAK_DETECTION})
    public int nettyTuned64() {
        return netty(NettyTuned.ALLOCATOR, 64);
    }

    /** glibc malloc + free through two FFM downcalls (what a Java caller gets). */
    @Benchmark
    public long mallocFfm64() throws Throwable {
        long a = (long) MALLOC.invokeExact(64L);
        FREE.invokeExact(a);
        return a;
    }

    // ------------------------------------------------------------------ mixed 8..2048, one thread

    @Benchmark
    public long slabMixed(Shared s, Sizes z) {
        SlabAllocator slab = s.slab;
        long off = slab.allocate(z.next());
        slab.free(off);
        return off;
    }

    @Benchmark
    public long slabMixedThreadCached(Shared s, Sizes z) {
        SlabAllocator slab = s.slabCached;
        long off = slab.allocate(z.next());
        slab.free(off);
        return off;
    }

    @Benchmark
    public long slabMixedSingleThreadedMode(Shared s, Sizes z) {
        SlabAllocator slab = s.slabNoLock;
        long off = slab.allocate(z.next());
        slab.free(off);
        return off;
    }

    @Benchmark
    public int nettyDefaultMixed(Sizes z) {
        return netty(PooledByteBufAllocator.DEFAULT, (int) z.next());
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {NATIVE, NETTY_NO_LEAK_DETECTION})
    public int nettyTunedMixed(Sizes z) {
        return netty(NettyTuned.ALLOCATOR, (int) z.next());
    }

    @Benchmark
    public long mallocFfmMixed(Sizes z) throws Throwable {
        long a = (long) MALLOC.invokeExact(z.next());
        FREE.invokeExact(a);
        return a;
    }

    // ------------------------------------------------------------------ two threads

    @Benchmark
    @Threads(2)
    public long fixedPool64_2t(Shared s) {
        return fixedPool64(s);
    }

    @Benchmark
    @Threads(2)
    public long fixedPool64ThreadCached_2t(Shared s) {
        return fixedPool64ThreadCached(s);
    }

    @Benchmark
    @Threads(2)
    public int nettyDefault64_2t() {
        return nettyDefault64();
    }

    @Benchmark
    @Threads(2)
    @Fork(value = 1, jvmArgsAppend = {NATIVE, NETTY_NO_LEAK_DETECTION})
    public int nettyTuned64_2t() {
        return nettyTuned64();
    }

    @Benchmark
    @Threads(2)
    public long mallocFfm64_2t() throws Throwable {
        return mallocFfm64();
    }

    @Benchmark
    @Threads(2)
    public long slabMixed_2t(Shared s, Sizes z) {
        return slabMixed(s, z);
    }

    @Benchmark
    @Threads(2)
    public long slabMixedThreadCached_2t(Shared s, Sizes z) {
        return slabMixedThreadCached(s, z);
    }

    @Benchmark
    @Threads(2)
    public int nettyDefaultMixed_2t(Sizes z) {
        return nettyDefaultMixed(z);
    }

    @Benchmark
    @Threads(2)
    @Fork(value = 1, jvmArgsAppend = {NATIVE, NETTY_NO_LEAK_DETECTION})
    public int nettyTunedMixed_2t(Sizes z) {
        return nettyTunedMixed(z);
    }

    @Benchmark
    @Threads(2)
    public long mallocFfmMixed_2t(Sizes z) throws Throwable {
        return mallocFfmMixed(z);
    }
}
