package io.shmkit.bench;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.table.Column;
import io.shmkit.table.RowView;
import io.shmkit.table.SharedTable;
import io.shmkit.table.TableSchema;
import net.openhft.chronicle.map.ChronicleMap;
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

import java.io.File;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * get, set and incr on a table of 1M rows, 16-byte keys and 64-byte values (an int64 counter
 * plus 56 bytes), uniformly random keys: {@link SharedTable} against Chronicle Map (a
 * persisted map in {@code /dev/shm}, its own forks with the JVM flags it needs on JDK 25) and
 * {@link ConcurrentHashMap} (one JVM, the in-process ceiling), with one thread and ({@code _2t})
 * two threads on one table.
 * The setup prints each table's bytes per row. The floor benchmarks read the same memory by hand
 * (see {@link Floor}; {@code src/main/c/table_floor.c} is the same floor in C). {@code -Dtable.dir=DIR} (given with {@code -jvmArgsPrepend}) puts every
 * table's file in DIR instead of {@code /dev/shm}, e.g. a tmpfs mounted {@code huge=always}.
 *
 * <pre>
 * ./mvnw -q -B -pl shmkit-core,shmkit-bench -am package -DskipTests
 * java --enable-native-access=ALL-UNNAMED -jar shmkit-bench/target/shmkit-benchmarks.jar SharedTableBenchmark
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class SharedTableBenchmark {

    static final int ROWS = Integer.getInteger("table.rows", 1_000_000);
    /** Where both tables' files go ({@code -Dtable.dir=}, e.g. a tmpfs mounted {@code huge=always}); default /dev/shm. */
    static final String DIR = System.getProperty("table.dir");
    static final int KEY_BYTES = 16;
    static final int VALUE_BYTES = 64;
    static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** Key i: "key-" and 12 decimal digits, 16 bytes. */
    static byte[] key(int i) {
        return String.format("key-%012d", i).getBytes(StandardCharsets.US_ASCII);
    }

    /** Per-thread random key choice (xorshift, no allocation) and buffers. */
    @State(Scope.Thread)
    public static class Cursor {
        int x = (int) System.nanoTime() | 1;
        final byte[] value = new byte[VALUE_BYTES];
        final byte[] buffer = new byte[VALUE_BYTES];
        RowView row;

        int next() {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            return (x & 0x7FFF_FFFF) % ROWS;
        }
    }

    // ------------------------------------------------------------------ shmkit

    @State(Scope.Benchmark)
    public static class Shm {
        static final TableSchema SCHEMA = TableSchema.builder(KEY_BYTES).int64("n").bytes("v", VALUE_BYTES - 8 - 4).build();
        Segment segment;
        SharedTable table;
        Column n;
        Column v;
        byte[][] keys;

        @Setup(Level.Trial)
        public void setUp() {
            String name = "shmkit-bench-table-" + ProcessHandle.current().pid();
            segment = Segment.create(DIR == null ? SegmentName.posix(name) : SegmentName.file(Path.of(DIR, name)),
                    SharedTable.segmentSize(SCHEMA, ROWS));
            table = SharedTable.create(segment, "t", SCHEMA, ROWS);
            n = SCHEMA.column("n");
            v = SCHEMA.column("v");
            keys = new byte[ROWS][];
            RowView row = table.newRow();
            for (int i = 0; i < ROWS; i++) {
                keys[i] = key(i);
                table.set(keys[i], row.clear().setLong(n, i).setBytes(v, new byte[VALUE_BYTES - 12]));
            }
            System.out.printf("%nshmkit SharedTable: %d rows, schema %s, %d bytes reserved = %.1f bytes per row%n", ROWS,
                    SCHEMA, SharedTable.bytesNeeded(SCHEMA, ROWS), SharedTable.bytesNeeded(SCHEMA, ROWS) / (double) ROWS);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            segment.closeAndUnlink();
        }
    }

    @Benchmark
    public long shmkitGet(Shm s, Cursor c) {
        RowView row = c.row == null ? (c.row = s.table.newRow()) : c.row;
        s.table.get(s.keys[c.next()], row);
        return row.getLong(s.n);
    }

    @Benchmark
    public Object shmkitSet(Shm s, Cursor c) {
        RowView row = c.row == null ? (c.row = s.table.newRow().setBytes(s.v, new byte[VALUE_BYTES - 12])) : c.row;
        row.setLong(s.n, c.x);
        return s.table.set(s.keys[c.next()], row);
    }

    @Benchmark
    public long shmkitIncr(Shm s, Cursor c) {
        return s.table.incr(s.keys[c.next()], s.n, 1);
    }

    @Benchmark
    @Threads(2)
    public long shmkitGet_2t(Shm s, Cursor c) {
        return shmkitGet(s, c);
    }

    @Benchmark
    @Threads(2)
    public Object shmkitSet_2t(Shm s, Cursor c) {
        return shmkitSet(s, c);
    }

    @Benchmark
    @Threads(2)
    public long shmkitIncr_2t(Shm s, Cursor c) {
        return shmkitIncr(s, c);
    }

    // ------------------------------------------------------------------ the physical floor

    /**
     * What a get must touch, with no table code around it: the same heap keys, a multiply hash
     * of their 16 bytes, linear probing with a 32-bit tag, a compare of the 16 key bytes and a
     * 64-byte copy, written out by hand over raw shared memory ({@code /dev/shm}, or
     * {@code -Dtable.dir}). Two layouts of the same 1M rows:
     * <ul>
     *   <li>{@code floorBucketThenRow}: shmkit's own (and, in outline, Chronicle Map's): an 8-byte
     *       bucket word {@code tag << 32 | row + 1} in an index of 2M buckets, naming a 96-byte
     *       row (seq, key length, key, values) in a separate array. Two dependent reads of shared
     *       memory per get.</li>
     *   <li>{@code floorRowInBucket}: the row stored in its bucket (2M buckets of 96 bytes, as
     *       many buckets as shmkit's index has: the slack exact capacity needs, paid on every
     *       row): one read.</li>
     * </ul>
     * shmkit's get against the first says what its code costs over its memory; the second says
     * what a change of format could gain.
     */
    @State(Scope.Benchmark)
    public static class Floor {
        static final long ROW = 96; // shmkit's row for this schema: 8 seq + 4 key length + 4 + 16 key + 64 values
        Segment segment;
        MemorySegment m;
        long mask;
        long rowsAt;
        byte[][] keys;
        /** {@code true}: rows in their buckets; {@code false}: bucket words, then rows. */
        boolean inline;

        void build(boolean inline) {
            this.inline = inline;
            long buckets = Long.highestOneBit(ROWS * 4L / 3) * 2;
            mask = buckets - 1;
            rowsAt = inline ? 0 : buckets * 8;
            long bytes = inline ? buckets * ROW : rowsAt + ROWS * ROW;
            String name = "shmkit-bench-floor-" + ProcessHandle.current().pid();
            segment = Segment.create(DIR == null ? SegmentName.posix(name) : SegmentName.file(Path.of(DIR, name)),
                    bytes + (1 << 20));
            m = segment.memory().asSlice(segment.dataOffset(), bytes); // after the segment's header
            keys = new byte[ROWS][];
            for (int i = 0; i < ROWS; i++) {
                keys[i] = key(i);
                long h = hash(keys[i]);
                long slot = h >>> 32 & mask;
                while (occupied(slot)) {
                    slot = slot + 1 & mask;
                }
                long at;
                if (inline) {
                    at = slot * ROW;
                } else {
                    m.set(ValueLayout.JAVA_LONG, slot * 8, h & 0xFFFF_FFFF_0000_0000L | i + 1);
                    at = rowsAt + i * ROW;
                }
                m.set(ValueLayout.JAVA_INT, at + 8, KEY_BYTES);
                MemorySegment.copy(keys[i], 0, m, ValueLayout.JAVA_BYTE, at + 16, KEY_BYTES);
                m.set(ValueLayout.JAVA_LONG, at + 32, i);
            }
        }

        boolean occupied(long slot) {
            return inline ? m.get(ValueLayout.JAVA_INT, slot * ROW + 8) != 0 : m.get(ValueLayout.JAVA_LONG, slot * 8) != 0;
        }

        static long hash(byte[] k) {
            long h = ((long) LONG.get(k, 0) * 0x9E37_79B9_7F4A_7C15L ^ (long) LONG.get(k, 8)) * 0xC2B2_AE3D_27D4_EB4FL;
            return h ^ h >>> 29;
        }

        /** The offset of the row holding key {@code k}. */
        long find(byte[] k) {
            long h = hash(k);
            long slot = h >>> 32 & mask;
            while (true) {
                long at = inline ? slot * ROW : -1;
                if (!inline) {
                    long w = m.get(ValueLayout.JAVA_LONG, slot * 8);
                    if ((w ^ h) >>> 32 == 0) {
                        at = rowsAt + ((w & 0xFFFF_FFFFL) - 1) * ROW;
                    }
                }
                if (at >= 0 && m.get(ValueLayout.JAVA_INT, at + 8) == KEY_BYTES
                        && m.get(ValueLayout.JAVA_LONG_UNALIGNED, at + 16) == (long) LONG.get(k, 0)
                        && m.get(ValueLayout.JAVA_LONG_UNALIGNED, at + 24) == (long) LONG.get(k, 8)) {
                    return at;
                }
                slot = slot + 1 & mask;
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            segment.closeAndUnlink();
        }
    }

    /** {@link Floor} with shmkit's layout: bucket word, then row. */
    @State(Scope.Benchmark)
    public static class FloorBucketThenRow extends Floor {
        @Setup(Level.Trial)
        public void setUp() {
            build(false);
        }
    }

    /** {@link Floor} with the row in its bucket. */
    @State(Scope.Benchmark)
    public static class FloorRowInBucket extends Floor {
        @Setup(Level.Trial)
        public void setUp() {
            build(true);
        }
    }

    @Benchmark
    public long floorBucketThenRow(FloorBucketThenRow s, Cursor c) {
        return floorGet(s, c);
    }

    @Benchmark
    public long floorRowInBucket(FloorRowInBucket s, Cursor c) {
        return floorGet(s, c);
    }

    private static long floorGet(Floor s, Cursor c) {
        long at = s.find(s.keys[c.next()]);
        MemorySegment.copy(s.m, ValueLayout.JAVA_BYTE, at + 32, c.buffer, 0, VALUE_BYTES);
        return (long) LONG.get(c.buffer, 0);
    }

    // ------------------------------------------------------------------ ConcurrentHashMap

    @State(Scope.Benchmark)
    public static class Chm {
        ConcurrentHashMap<String, byte[]> map;
        String[] keys;

        @Setup(Level.Trial)
        public void setUp() {
            map = new ConcurrentHashMap<>(ROWS * 2);
            keys = new String[ROWS];
            for (int i = 0; i < ROWS; i++) {
                keys[i] = new String(key(i), StandardCharsets.US_ASCII);
                map.put(keys[i], new byte[VALUE_BYTES]);
            }
        }
    }

    @Benchmark
    public long chmGet(Chm s, Cursor c) {
        byte[] v = s.map.get(s.keys[c.next()]);
        System.arraycopy(v, 0, c.buffer, 0, VALUE_BYTES); // a copy, as a shared table's get makes
        return (long) LONG.get(c.buffer, 0);
    }

    @Benchmark
    @Threads(2)
    public long chmGet_2t(Chm s, Cursor c) {
        return chmGet(s, c);
    }

    @Benchmark
    public Object chmSet(Chm s, Cursor c) {
        return s.map.put(s.keys[c.next()], c.value.clone()); // a fresh value: the map keeps a reference
    }

    @Benchmark
    public Object chmIncr(Chm s, Cursor c) {
        return s.map.compute(s.keys[c.next()], (k, v) -> {
            LONG.set(v, 0, (long) LONG.get(v, 0) + 1);
            return v;
        });
    }

    // ------------------------------------------------------------------ Chronicle Map

    /**
     * Chronicle Map's side (benchmarks {@code SharedTableBenchmark.Chronicle.*}): a map persisted
     * in {@code /dev/shm} (or {@code -Dtable.dir}), in its own forks with the JVM flags it needs on
     * JDK 25. JMH does not take the enclosing class's annotations, so they are repeated here.
     */
    @State(Scope.Benchmark)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Warmup(iterations = 2, time = 2)
    @Measurement(iterations = 3, time = 2)
    @Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g",
            "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED", "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
            "--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED", "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED", "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED", "-Dchronicle.analytics.disable=true"})
    public static class Chronicle {
        ChronicleMap<byte[], byte[]> map;
        File file;
        byte[][] keys;

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            file = new File(DIR == null ? "/dev/shm" : DIR, "shmkit-bench-chronicle-" + ProcessHandle.current().pid());
            map = ChronicleMap.of(byte[].class, byte[].class).name("bench").entries(ROWS)
                    .constantKeySizeBySample(new byte[KEY_BYTES]).constantValueSizeBySample(new byte[VALUE_BYTES])
                    .createPersistedTo(file);
            keys = new byte[ROWS][];
            byte[] value = new byte[VALUE_BYTES];
            for (int i = 0; i < ROWS; i++) {
                keys[i] = key(i);
                map.put(keys[i], value);
            }
            long size = Files.size(file.toPath());
            System.out.printf("%nChronicle Map: %d entries, file %d bytes = %.1f bytes per row%n", ROWS, size, size / (double) ROWS);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            map.close();
            file.delete();
        }

        @Benchmark
        public byte[] get(Cursor c) {
            return map.getUsing(keys[c.next()], c.buffer);
        }

        @Benchmark
        public byte[] set(Cursor c) {
            return map.put(keys[c.next()], c.value);
        }

        @Benchmark
        public byte[] incr(Cursor c) {
            return map.compute(keys[c.next()], (k, v) -> {
                LONG.set(v, 0, (long) LONG.get(v, 0) + 1);
                return v;
            });
        }

        @Benchmark
        @Threads(2)
        public byte[] get_2t(Cursor c) {
            return get(c);
        }

        @Benchmark
        @Threads(2)
        public byte[] set_2t(Cursor c) {
            return set(c);
        }

        @Benchmark
        @Threads(2)
        public byte[] incr_2t(Cursor c) {
            return incr(c);
        }
    }
}
