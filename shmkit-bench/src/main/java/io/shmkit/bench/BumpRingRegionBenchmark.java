package io.shmkit.bench;

import io.shmkit.alloc.BumpAllocator;
import io.shmkit.alloc.Region;
import io.shmkit.alloc.RingAllocator;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.TimeUnit;

/**
 * BumpAllocator, RingAllocator and Region against glibc malloc/free (FFM downcall) and a
 * confined {@link Arena}, 64-byte requests, in one run. Every operation allocates 64 bytes,
 * writes one long into them and, one way or another, gives them back:
 * <ul>
 *   <li>{@code bump64*}: allocate; when the allocator is full, {@code reset()} (amortised);
 *       {@code bump8NoReset*}: 8 bytes from a range large enough for a whole iteration;</li>
 *   <li>{@code ring*}: allocate + free;</li>
 *   <li>{@code region64}: allocate; {@code reset()} every 256 allocations (one "request");</li>
 *   <li>{@code arena64}: {@code Arena.allocate}; a fresh confined arena every 256 allocations;</li>
 *   <li>{@code malloc64}: malloc + free.</li>
 * </ul>
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -jar shmkit-bench/target/shmkit-benchmarks.jar BumpRingRegionBenchmark -f 1 -wi 3 -i 5 -w 1 -r 1
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class BumpRingRegionBenchmark {

    private static final MethodHandle MALLOC = Glibc.MALLOC;
    private static final MethodHandle FREE = Glibc.FREE;
    private static final int REQUEST = 256;


    /** One segment holding process-safe and single-threaded bump and ring allocators. */
    @State(Scope.Benchmark)
    public static class Shared {
        Segment segment;
        MemorySegment memory;
        BumpAllocator bump;
        BumpAllocator bumpNoSync;
        RingAllocator ring;
        RingAllocator ringNoLock;
        BumpAllocator bump2t;

        @Setup(Level.Trial)
        public void setUp() {
            SegmentName name = SegmentName.posix("shmkit-bench-brr-" + ProcessHandle.current().pid());
            segment = Segment.create(name, (32L << 20) + (2048L << 20));
            // a failing benchmark ends the fork without the trial teardown: never leave 2 GiB in /dev/shm
            Runtime.getRuntime().addShutdownHook(new Thread(() -> Segment.unlink(name)));
            memory = segment.memory();
            bump = BumpAllocator.create(segment, "bump", 4L << 20, 64 * 1024);
            bumpNoSync = BumpAllocator.create(segment, "bump-st", 4L << 20, 64 * 1024, SyncMode.SINGLE_THREADED);
            ring = RingAllocator.create(segment, "ring", RingAllocator.bytesNeeded(4L << 20));
            ringNoLock = RingAllocator.create(segment, "ring-st", RingAllocator.bytesNeeded(4L << 20), SyncMode.SINGLE_THREADED);
            bump2t = BumpAllocator.create(segment, "bump-2t", 2048L << 20, 64 * 1024);
        }

        /** Between iterations no benchmark thread runs, so resetting here is safe. */
        @Setup(Level.Iteration)
        public void resetTwoThreadBump() {
            bump2t.reset();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            segment.closeAndUnlink();
        }
    }

    /** Thread-confined region and arena (created on the benchmark thread). */
    @State(Scope.Thread)
    public static class Local {
        Region region;
        Arena arena;
        int n;

        @Setup(Level.Trial)
        public void setUp() {
            region = Region.create(16 * 1024);
            arena = Arena.ofConfined();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            region.close();
            arena.close();
        }
    }

    private static long bumpOnce(BumpAllocator b, MemorySegment m) {
        long off = b.tryAllocate(64);
        if (off == 0) {
            b.reset(); // only in the one-thread benchmark: reset needs no concurrent users
            off = b.allocate(64);
        }
        m.set(ValueLayout.JAVA_LONG, off, off);
        return off;
    }

    @Benchmark
    public long bump64(Shared s) {
        return bumpOnce(s.bump, s.memory);
    }

    @Benchmark
    public long bump64SingleThreadedMode(Shared s) {
        return bumpOnce(s.bumpNoSync, s.memory);
    }

    @Benchmark
    public long ring64(Shared s) {
        RingAllocator r = s.ring;
        long off = r.allocate(64);
        s.memory.set(ValueLayout.JAVA_LONG, off, off);
        r.free(off);
        return off;
    }

    @Benchmark
    public long ring64SingleThreadedMode(Shared s) {
        RingAllocator r = s.ringNoLock;
        long off = r.allocate(64);
        s.memory.set(ValueLayout.JAVA_LONG, off, off);
        r.free(off);
        return off;
    }

    @Benchmark
    public long region64(Local l) {
        if (++l.n == REQUEST) {
            l.n = 0;
            l.region.reset();
        }
        MemorySegment m = l.region.allocate(64);
        m.set(ValueLayout.JAVA_LONG, 0, 1L);
        return m.address();
    }

    @Benchmark
    public long arena64(Local l) {
        if (++l.n == REQUEST) {
            l.n = 0;
            l.arena.close();
            l.arena = Arena.ofConfined();
        }
        MemorySegment m = l.arena.allocate(64, 8);
        m.set(ValueLayout.JAVA_LONG, 0, 1L);
        return m.address();
    }

    @Benchmark
    public long malloc64(Shared s) throws Throwable {
        long a = (long) MALLOC.invokeExact(64L);
        MemorySegment.ofAddress(a).reinterpret(64).set(ValueLayout.JAVA_LONG, 0, 1L);
        FREE.invokeExact(a);
        return a;
    }

    // ------------------------------------------------------------------ two threads, one allocator

    /**
     * 8-byte allocations from a 2 GiB bump allocator that is reset only between iterations
     * (when no thread runs), so no reset happens inside the measurement; if it ever filled, the
     * benchmark would fail with OutOfSharedMemoryException rather than measure failures.
     */
    @Benchmark
    public long bump8NoReset(Shared s) {
        long off = s.bump2t.allocate(8);
        s.memory.set(ValueLayout.JAVA_LONG, off, off);
        return off;
    }

    /** The same with two threads on one allocator (they race on the page's USED word). */
    @Benchmark
    @Threads(2)
    public long bump8NoReset_2t(Shared s) {
        return bump8NoReset(s);
    }

    /**
     * Two threads allocate + free on one ring. A thread descheduled while it holds the oldest
     * block holds back the ring (see RingAllocator's javadoc), so a request that finds the ring
     * momentarily full retries until it succeeds; the waiting counts in the figure.
     */
    @Benchmark
    @Threads(2)
    public long ring64_2t(Shared s) {
        RingAllocator r = s.ring;
        long off;
        while ((off = r.tryAllocate(64)) == 0) {
            Thread.onSpinWait();
        }
        s.memory.set(ValueLayout.JAVA_LONG, off, off);
        r.free(off);
        return off;
    }

    @Benchmark
    @Threads(2)
    public long malloc64_2t(Shared s) throws Throwable {
        return malloc64(s);
    }
}
