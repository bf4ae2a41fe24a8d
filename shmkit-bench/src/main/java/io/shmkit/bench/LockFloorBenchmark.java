package io.shmkit.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The floor under an uncontended lock + unlock: two CAS on a word of a shared-arena segment
 * (what {@code ShmMutex} does) and on an {@link AtomicLong}, for reading
 * {@link LockBenchmark}'s uncontended figures.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
public class LockFloorBenchmark {

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private Arena arena;
    private MemorySegment shared;
    private final AtomicLong atomic = new AtomicLong();
    private final long me = 12345L << 32 | 8;

    @Setup
    public void setUp() {
        arena = Arena.ofShared();
        shared = arena.allocate(4096, 64);
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public void twoCasOnSegment() {
        LONG.compareAndSet(shared, 64L, 0L, me);
        LONG.compareAndSet(shared, 64L, me, 0L);
    }

    @Benchmark
    public void twoCasOnAtomicLong() {
        atomic.compareAndSet(0L, me);
        atomic.compareAndSet(me, 0L);
    }
}
