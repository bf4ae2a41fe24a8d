package io.shmkit.table;

import io.shmkit.LayoutMismatchException;
import io.shmkit.StructureNotFoundException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.alloc.FixedPool;
import io.shmkit.internal.KeyIndexLayout;
import io.shmkit.internal.SharedTableLayout;
import io.shmkit.internal.index.KeyHash;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.*;

class SharedTableTest {

    static final TableSchema SCHEMA = TableSchema.builder(16)
            .string("name", 8).int64("score").int32("level").float64("ratio").bytes("blob", 4).build();

    private Segment seg;

    @BeforeEach
    void create() {
        seg = Segment.create(SegmentName.posix(TestNames.unique("table")), SharedTable.segmentSize(SCHEMA, 300) + (1 << 16));
    }

    @AfterEach
    void unlink() {
        seg.closeAndUnlink();
    }

    @Test
    void setGetIncrCompareAndSetDeleteAndIterate() {
        SharedTable t = SharedTable.create(seg, "t", SCHEMA, 100);
        RowView row = t.newRow();
        assertEquals(WriteResult.INSERTED, t.set("alice", row.clear().setString("name", "Alice").setLong("score", 10)));
        assertEquals(WriteResult.UPDATED, t.set("alice", row.clear().setInt("level", 3))); // other columns kept
        assertTrue(t.get("alice", row));
        assertEquals("Alice", row.getString("name"));
        assertEquals(10, row.getLong("score"));
        assertEquals(3, row.getInt("level"));
        assertEquals("alice", row.keyString());
        assertEquals(15, t.incr("alice", "score", 5));
        assertEquals(12, t.decr("alice", "score", 3));
        assertEquals(7, t.incr("bob", "score", 7), "a missing key is created from zero");
        assertEquals(-1, t.decr("carol", "level", 1));
        assertEquals(2.5, t.incrDouble("bob", "ratio", 2.5));
        assertEquals(2.5, t.getDouble("bob", "ratio", -1));
        assertFalse(t.compareAndSet("alice", "score", 11, 20));
        assertTrue(t.compareAndSet("alice", "score", 12, 20));
        assertEquals(20, t.getLong("alice", "score", -1));
        assertTrue(t.compareAndSet("alice", "name", "Alice", "Al"));
        assertEquals("Al", t.getString("alice", "name"));
        assertFalse(t.compareAndSet("nobody", "score", 0, 1), "compare-and-set never creates a row");
        assertEquals(WriteResult.EXISTS, t.add("alice", row.clear().setLong("score", 1)));
        assertEquals(WriteResult.ABSENT, t.update("dave", row.clear().setLong("score", 1)));
        assertFalse(t.exists("dave"));
        assertEquals(WriteResult.UPDATED, t.setLong("alice", "level", 9));
        assertEquals(WriteResult.INSERTED, t.setString("erin", "name", "Erin"));
        byte[] bin = {0, (byte) 0xFF, 0, 7};
        assertEquals(WriteResult.INSERTED, t.setBytes(new byte[]{0, 1, 0}, SCHEMA.column("blob"), bin));
        assertArrayEquals(bin, t.getBytes(new byte[]{0, 1, 0}, SCHEMA.column("blob")), "binary-safe keys and values");
        assertEquals(5, t.count());

        Map<String, Long> seen = new HashMap<>();
        t.forEach(v -> seen.put(v.keyString(), v.getLong("score")));
        assertEquals(5, seen.size());
        assertEquals(20L, seen.get("alice"));

        assertTrue(t.getAndDelete("alice", row));
        assertEquals(20, row.getLong("score"));
        assertFalse(t.exists("alice"));
        assertFalse(t.get("alice", row));
        assertEquals(-1, t.getLong("alice", "score", -1));
        assertFalse(t.delete("alice"));
        assertTrue(t.delete("bob"));
        assertEquals(WriteResult.INSERTED, t.set("alice", row.clear().setInt("level", 1)));
        assertTrue(t.get("alice", row));
        assertEquals(0, row.getLong("score"), "a re-inserted row starts zeroed");
        assertEquals("", row.getString("name"));

        TableStats s = t.stats();
        assertEquals(4, s.rows());
        assertEquals(100, s.capacity());
        assertEquals(SharedTable.bytesNeeded(SCHEMA, 100), s.bytesMapped());
        assertTrue(s.bytesResident() > 0 && s.bytesResident() <= s.bytesMapped(), "resident " + s.bytesResident());
        assertEquals(6, s.inserts()); // alice, bob, carol, erin, the binary key, alice again
        assertEquals(2, s.deletes()); // getAndDelete(alice), delete(bob)
        assertEquals(7, s.updates()); // set, incr, decr, incrDouble, two successful compare-and-sets, setLong
        t.verify();
        assertFalse(t.anyLockHeld());
    }

    @Test
    void incrDoubleAddsToTheStoredValue() {
        SharedTable t = SharedTable.create(seg, "t", SCHEMA, 100);
        assertEquals(2.5, t.incrDouble("k", "ratio", 2.5));
        assertEquals(1.25, t.incrDouble("k", "ratio", -1.25));
        assertEquals(1e300 + 1.25, t.incrDouble("k", "ratio", 1e300));
        assertEquals(1e300 + 1.25, t.getDouble("k", "ratio", -1));
        assertEquals(10, t.incr("k", "score", 10), "the neighbouring int64 column is untouched");
        assertEquals(1e300 + 1.25, t.getDouble("k", "ratio", -1));
        t.verify();
    }

    @Test
    void anotherOpenerGetsTheSchemaFromTheSegment() {
        SharedTable t = SharedTable.create(seg, "t", SCHEMA, 10);
        t.incr("k", "score", 41);
        try (Segment other = Segment.open(seg.name())) {
            SharedTable o = SharedTable.open(other, "t");
            assertEquals(SCHEMA, o.schema());
            assertEquals(10, o.capacity());
            assertEquals(42, o.incr("k", "score", 1));
            assertEquals(SCHEMA, SharedTable.openOnly(other).schema());
        }
        assertEquals(42, t.getLong("k", "score", 0));
    }

    /** Keys whose hashes all share one home bucket of the table's index (found with the table's own seed). */
    private List<String> collidingKeys(SharedTable t, int rows, int n) {
        long at = seg.lookup(t.name()).orElseThrow().offset();
        long seed = seg.memory().get(ValueLayout.JAVA_LONG, at + SharedTableLayout.OFF_SEED);
        long slots = KeyIndexLayout.slotsFor(rows);
        List<String> keys = new ArrayList<>();
        long home = -1;
        for (int i = 0; keys.size() < n; i++) {
            byte[] k = ("key-" + i).getBytes(StandardCharsets.UTF_8);
            long h = KeyIndexLayout.home(KeyHash.hash(seed, k, k.length), slots);
            if (home < 0) {
                home = h;
            }
            if (h == home) {
                keys.add("key-" + i);
            }
        }
        return keys;
    }

    @Test
    void holdsExactlyItsRowsEvenWhenEveryKeyCollides() {
        int rows = 200;
        SharedTable t = SharedTable.create(seg, "t", SCHEMA, rows);
        List<String> keys = collidingKeys(t, rows, rows + 1);
        RowView row = t.newRow();
        for (int i = 0; i < rows; i++) {
            assertEquals(WriteResult.INSERTED, t.set(keys.get(i), row.clear().setLong("score", i)), "key " + i);
        }
        assertEquals(rows, t.count());
        assertTrue(t.stats().longestProbe() >= rows, "all on one home bucket: probe " + t.stats().longestProbe());
        String extra = keys.get(rows);
        assertEquals(WriteResult.FULL, t.set(extra, row.clear().setLong("score", 1)));
        assertEquals(WriteResult.FULL, t.add(extra, row));
        TableFullException full = assertThrows(TableFullException.class, () -> t.incr(extra, "score", 1));
        assertEquals("table 't' is full: it holds its capacity of 200 rows", full.getMessage());
        assertFalse(t.exists(extra));
        assertEquals(WriteResult.UPDATED, t.set(keys.get(7), row.clear().setLong("score", 700)), "updates work when full");
        assertEquals(8, t.incr(keys.get(8), "score", 0) + 0);
        assertTrue(t.delete(keys.get(0)));
        assertEquals(WriteResult.INSERTED, t.set(extra, row.clear().setLong("score", -1)), "a delete makes room");
        assertEquals(WriteResult.FULL, t.set("one-more", row));
        for (int i = 1; i < rows; i++) {
            assertEquals(i == 7 ? 700 : i, t.getLong(keys.get(i), "score", Long.MIN_VALUE));
        }
        assertEquals(-1, t.getLong(extra, "score", 0));
        t.verify();
    }

    private static void refused(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + e.getMessage() + "' should contain '" + f + "'");
        }
    }

    @Test
    void badInputIsAClearErrorAndWritesNothing() {
        SharedTable t = SharedTable.create(seg, "t", SCHEMA, 10);
        RowView row = t.newRow();
        t.set("k", row.clear().setString("name", "orig").setLong("score", 5));
        refused(() -> t.set("", row), "empty key");
        refused(() -> t.incr(new byte[0], SCHEMA.column("score"), 1), "empty key");
        refused(() -> t.set("x".repeat(17), row), "key too long", "bytes=17", "max=16");
        refused(() -> t.incr("é".repeat(9), "score", 1), "key too long", "bytes=18");
        refused(() -> t.incr("k", "nosuch", 1), "unknown column 'nosuch'", "score:int64");
        refused(() -> t.incr("k", "name", 1), "'name' is string, not int32 or int64");
        refused(() -> t.setString("k", "score", "12"), "'score' is int64, not string");
        refused(() -> row.clear().setString("score", "1"), "'score' is int64, not string");
        refused(() -> row.clear().setLong("level", 1), "'level' is int32, not int64");
        refused(() -> t.setLong("k", "level", 1L << 40), "out of range for int32");
        refused(() -> t.setString("k", "name", "too long!"), "value too long for column 'name'", "bytes=9 max=8");
        refused(() -> row.clear().setBytes("blob", new byte[5]), "value too long for column 'blob'");
        refused(() -> t.compareAndSet("k", "name", "orig", "123456789"), "value too long");
        assertFalse(t.exists("x".repeat(16)));
        assertEquals(1, t.count());
        assertTrue(t.get("k", row));
        assertEquals("orig", row.getString("name"));
        assertEquals(5, row.getLong("score"));
        assertEquals(0, row.getInt("level"));
        t.verify();
    }

    @Test
    void aSegmentHoldingSomethingElseIsRefused() {
        FixedPool.create(seg, "pool", 64, 10);
        LayoutMismatchException e = assertThrows(LayoutMismatchException.class, () -> SharedTable.open(seg, "pool"));
        assertTrue(e.getMessage().contains("structure 'pool' in segment") && e.getMessage().contains("is not a shared table"),
                e.getMessage());
        LayoutMismatchException none = assertThrows(LayoutMismatchException.class, () -> SharedTable.openOnly(seg));
        assertTrue(none.getMessage().contains("holds no shared table") && none.getMessage().contains("'pool'"), none.getMessage());
        StructureNotFoundException missing = assertThrows(StructureNotFoundException.class, () -> SharedTable.open(seg, "t"));
        assertTrue(missing.getMessage().contains("no structure named 't'"), missing.getMessage());
        long off = seg.lookup("pool").orElseThrow().offset();
        SegmentCorruptedException raw = assertThrows(SegmentCorruptedException.class,
                () -> SharedTable.open(seg.memory(), off, 8192, "pool"));
        assertTrue(raw.getMessage().contains("shared table 'pool'") && raw.getMessage().contains("magic is"), raw.getMessage());
        assertEquals(10, FixedPool.open(seg, "pool").stats().capacity() / 64, "the pool is untouched");
    }

    /** Format 1 (magic "SHMKTBL1", from before the Formats scheme) and another format number are refused as unsupported. */
    @Test
    void legacyAndOtherFormatsAreRefused() {
        SharedTable.create(seg, "t", SCHEMA, 10);
        long off = seg.lookup("t").orElseThrow().offset();
        seg.memory().set(ValueLayout.JAVA_LONG, off + SharedTableLayout.OFF_MAGIC, SharedTableLayout.LEGACY_MAGIC_1);
        io.shmkit.UnsupportedFormatException legacy = assertThrows(io.shmkit.UnsupportedFormatException.class,
                () -> SharedTable.open(seg, "t"));
        assertTrue(legacy.getMessage().contains("older format (magic 'SHMKTBL1')"), legacy.getMessage());
        seg.memory().set(ValueLayout.JAVA_LONG, off + SharedTableLayout.OFF_MAGIC, SharedTableLayout.MAGIC);
        seg.memory().set(ValueLayout.JAVA_INT, off + SharedTableLayout.OFF_FORMAT, SharedTableLayout.FORMAT + 1);
        io.shmkit.UnsupportedFormatException newer = assertThrows(io.shmkit.UnsupportedFormatException.class,
                () -> SharedTable.open(seg, "t"));
        assertTrue(newer.getMessage().contains("written by a newer shmkit"), newer.getMessage());
    }

    /**
     * Every header word the table computes addresses from is checked at open: a damaged row size,
     * stripe or index offset is refused by name instead of sending a read outside the mapping
     * (a fuzz finding: a damaged row size made verify() read at a negative offset).
     */
    @ParameterizedTest
    @ValueSource(strings = {"rowBytes", "stripesAt", "indexAt", "rowsAt", "valueBytes", "stripes"})
    void aDamagedDerivedHeaderFieldIsRefusedByName(String field) {
        SharedTable t = SharedTable.create(seg, "t", SCHEMA, 10);
        t.set("k", t.newRow().setLong("score", 7));
        long off = seg.lookup("t").orElseThrow().offset();
        long at = off + switch (field) {
            case "rowBytes" -> SharedTableLayout.OFF_ROW_BYTES;
            case "stripesAt" -> SharedTableLayout.OFF_STRIPES_AT;
            case "indexAt" -> SharedTableLayout.OFF_INDEX_AT;
            case "rowsAt" -> SharedTableLayout.OFF_ROWS_AT;
            case "valueBytes" -> SharedTableLayout.OFF_VALUE_BYTES;
            default -> SharedTableLayout.OFF_STRIPES;
        };
        int good = seg.memory().get(ValueLayout.JAVA_INT, at);
        seg.memory().set(ValueLayout.JAVA_INT, at, 0x80001000); // a large negative value in the low word
        SegmentCorruptedException e = assertThrows(SegmentCorruptedException.class, () -> SharedTable.open(seg, "t"));
        assertTrue(e.getMessage().contains("header field " + field + "=") && e.getMessage().contains("expected"),
                e.getMessage());
        seg.memory().set(ValueLayout.JAVA_INT, at, good);
        assertEquals(7, SharedTable.open(seg, "t").getLong("k", "score", -1), "nothing was lost");
    }

    /** A high-water mark past the row count (a CI fuzz finding) is damage, never a row count to walk. */
    @Test
    void aHighWaterMarkPastTheRowsIsRefusedAndNothingIsLost() {
        SharedTable t = SharedTable.create(seg, "t", SCHEMA, 10);
        t.set("k", t.newRow().setLong("score", 7));
        long at = seg.lookup("t").orElseThrow().offset() + SharedTableLayout.OFF_HIGH_WATER;
        long good = seg.memory().get(ValueLayout.JAVA_LONG, at);
        seg.memory().set(ValueLayout.JAVA_LONG, at, 1L << 40);
        SegmentCorruptedException walk = assertThrows(SegmentCorruptedException.class, () -> t.forEach(r -> { }));
        assertTrue(walk.getMessage().contains("high water=" + (1L << 40)), walk.getMessage());
        assertThrows(SegmentCorruptedException.class, () -> t.set("new", t.newRow().setLong("score", 1)));
        for (long bad : new long[]{1L << 40, -3_435_973_837L, 11}) { // verify: a long fuzz run found a negative one
            seg.memory().set(ValueLayout.JAVA_LONG, at, bad);
            SegmentCorruptedException v = assertThrows(SegmentCorruptedException.class, t::verify);
            assertTrue(v.getMessage().contains("high water=" + bad + " outside 0..10"), v.getMessage());
        }
        seg.memory().set(ValueLayout.JAVA_LONG, at, good);
        assertEquals(7, t.getLong("k", "score", -1), "nothing was lost");
        t.verify();
    }

    @Test
    void getAllocatesNothingOnTheHeap() throws Exception {
        SharedTable t = SharedTable.create(seg, "t", SCHEMA, 100);
        RowView row = t.newRow();
        byte[][] keys = new byte[50][];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = ("key" + i).getBytes(StandardCharsets.UTF_8);
            t.set(keys[i], row.clear().setLong("score", i));
        }
        Column score = SCHEMA.column("score");
        // through reflection: the test sources compile inside module io.shmkit, which does not read java.management
        Object mx = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
        java.lang.reflect.Method allocatedBytes = Class.forName("com.sun.management.ThreadMXBean")
                .getMethod("getCurrentThreadAllocatedBytes");
        long sum = 0;
        for (int round = 0; round < 20; round++) { // warm up
            for (byte[] k : keys) {
                t.get(k, row);
                sum += t.getLong(k, score, 0);
            }
        }
        int gets = 200_000;
        long before = (long) allocatedBytes.invoke(mx);
        for (int i = 0; i < gets; i++) {
            if (t.get(keys[i % keys.length], row)) {
                sum += row.getLong(score);
            }
        }
        long allocated = (long) allocatedBytes.invoke(mx) - before;
        assertTrue(sum > 0);
        assertTrue(allocated < gets / 10, "get allocated " + allocated + " bytes over " + gets + " calls");
    }

    @Test
    void aRowLeftMidWriteIsRepairedByTheNextReaderAndAReadOnlyOpenerSaysWhyItCannotGoOn() {
        SharedTable t = SharedTable.create(seg, "t", SCHEMA, 10);
        t.set("k", t.newRow().setLong("score", 7));
        long at = seg.lookup("t").orElseThrow().offset();
        long seqAt = at + seg.memory().get(ValueLayout.JAVA_LONG, at + SharedTableLayout.OFF_ROWS_AT) + SharedTableLayout.Row.OFF_SEQ;
        long seq = seg.memory().get(ValueLayout.JAVA_LONG, seqAt);
        seg.memory().set(ValueLayout.JAVA_LONG, seqAt, seq | 1); // row 0 odd with no writer: as if one died mid-copy

        try (Segment ro = Segment.open(seg.name(), io.shmkit.segment.SegmentOptions.defaults().withReadOnly(true))) {
            SharedTable r = SharedTable.open(ro, "t");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> r.getLong("k", "score", -1));
            assertTrue(e.getMessage().contains("stays mid-write") && e.getMessage().contains("open the table read-write"),
                    e.getMessage());
        }
        long repairs = t.stats().repairs();
        assertEquals(7, t.getLong("k", "score", -1), "a read-write reader repairs the row and reads it");
        assertEquals(repairs + 1, t.stats().repairs());
        assertEquals(0, seg.memory().get(ValueLayout.JAVA_LONG, seqAt) & 1);
        t.verify();
    }
}
