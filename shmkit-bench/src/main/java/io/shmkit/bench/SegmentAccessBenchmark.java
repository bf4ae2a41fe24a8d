package io.shmkit.bench;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

/**
 * The cost behind design rule 5 (docs/DECISIONS.md): 8 read-modify-writes of a long through
 * the segment's own bounds-checked view, held in a field as the allocators hold it, against the
 * same through a view of the whole address space that the library refuses to use.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -jar shmkit-bench/target/shmkit-benchmarks.jar SegmentAccessBenchmark -f 1 -wi 3 -i 5 -w 1 -r 1
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Benchmark)
public class SegmentAccessBenchmark {

    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    Segment segment;
    MemorySegment memory;
    long address;
    long base = 4096;

    @Setup
    public void setUp() {
        segment = Segment.create(SegmentName.posix("shmkit-bench-access-" + ProcessHandle.current().pid()), 1 << 20);
        memory = segment.memory();
        address = memory.address();
    }

    @TearDown
    public void tearDown() {
        segment.closeAndUnlink();
    }

    @Benchmark
    public long boundsCheckedView() {
        long b = base;
        for (int i = 0; i < 8; i++) {
            memory.set(ValueLayout.JAVA_LONG, b + 8 * i, memory.get(ValueLayout.JAVA_LONG, b + 8 * i) + 1);
        }
        return b;
    }

    /**
     * The same through {@link Segment#memory()} on every operation, as code that does not keep
     * the view in a field does: one acquire load of the header's resize generation more.
     */
    @Benchmark
    public long segmentMemoryEachTime() {
        long b = base;
        MemorySegment m = segment.memory();
        for (int i = 0; i < 8; i++) {
            m.set(ValueLayout.JAVA_LONG, b + 8 * i, m.get(ValueLayout.JAVA_LONG, b + 8 * i) + 1);
        }
        return b;
    }

    @Benchmark
    public long wholeAddressSpace() {
        long b = address + base;
        for (int i = 0; i < 8; i++) {
            EVERYTHING.set(ValueLayout.JAVA_LONG, b + 8 * i, EVERYTHING.get(ValueLayout.JAVA_LONG, b + 8 * i) + 1);
        }
        return b;
    }
}
