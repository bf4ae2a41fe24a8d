package io.shmkit.table;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.TestNames;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random operation sequences (set, add, update, incr, compare-and-set, delete, getAndDelete,
 * re-inserts) against a {@code HashMap} model, with tables small enough to fill: every result,
 * every row, the count, iteration and {@code verify()} checked after every step.
 */
class SharedTableModelTest {

    static final TableSchema SCHEMA = TableSchema.builder(6).int64("a").string("s", 5).int32("c").build();

    record Row(long a, String s, int c) {
    }

    @Property(tries = 150)
    void randomOperationsMatchAHashMap(@ForAll @Size(max = 200) List<@IntRange(min = 0, max = 1 << 24) Integer> ops,
                                       @ForAll @IntRange(min = 1, max = 12) int rows) {
        try (Segment seg = Segment.create(SegmentName.posix(TestNames.unique("tmodel")), SharedTable.segmentSize(SCHEMA, rows))) {
            try {
                run(SharedTable.create(seg, "t", SCHEMA, rows), ops, rows);
            } finally {
                Segment.unlink(seg.name());
            }
        }
    }

    private static void run(SharedTable t, List<Integer> ops, int rows) {
        Map<String, Row> model = new HashMap<>();
        RowView v = t.newRow();
        int keys = rows * 2;
        for (int op : ops) {
            String key = "k" + (op >>> 4) % keys;
            long x = (op >>> 8) % 100;
            String s = "v" + x % 1000;
            Row old = model.get(key);
            boolean full = old == null && model.size() == rows;
            switch (op & 15) {
                case 0, 1, 2 -> {
                    WriteResult r = t.set(key, v.clear().setLong("a", x).setString("s", s));
                    assertEquals(full ? WriteResult.FULL : old == null ? WriteResult.INSERTED : WriteResult.UPDATED, r);
                    if (!full) {
                        model.put(key, new Row(x, s, old == null ? 0 : old.c()));
                    }
                }
                case 3 -> {
                    WriteResult r = t.add(key, v.clear().setInt("c", (int) x));
                    assertEquals(old != null ? WriteResult.EXISTS : full ? WriteResult.FULL : WriteResult.INSERTED, r);
                    if (old == null && !full) {
                        model.put(key, new Row(0, "", (int) x));
                    }
                }
                case 4 -> {
                    WriteResult r = t.update(key, v.clear().setInt("c", (int) x));
                    assertEquals(old == null ? WriteResult.ABSENT : WriteResult.UPDATED, r);
                    if (old != null) {
                        model.put(key, new Row(old.a(), old.s(), (int) x));
                    }
                }
                case 5, 6 -> {
                    if (full) {
                        assertThrows(TableFullException.class, () -> t.incr(key, "a", x));
                    } else {
                        long now = (old == null ? 0 : old.a()) + x;
                        assertEquals(now, t.incr(key, "a", x));
                        model.put(key, old == null ? new Row(now, "", 0) : new Row(now, old.s(), old.c()));
                    }
                }
                case 7 -> {
                    long expect = old == null ? x : (x % 2 == 0 ? old.a() : old.a() + 1);
                    boolean swapped = t.compareAndSet(key, "a", expect, x + 1000);
                    assertEquals(old != null && old.a() == expect, swapped);
                    if (swapped) {
                        model.put(key, new Row(x + 1000, old.s(), old.c()));
                    }
                }
                case 8, 9, 10 -> assertEquals(old != null, t.delete(key)) ;
                case 11 -> {
                    assertEquals(old != null, t.getAndDelete(key, v));
                    if (old != null) {
                        assertEquals(old.a(), v.getLong("a"));
                        assertEquals(old.s(), v.getString("s"));
                    }
                }
                default -> assertEquals(old != null, t.get(key, v));
            }
            if ((op & 15) >= 8 && (op & 15) <= 11) {
                model.remove(key);
            }
            check(t, model, keys, v);
        }
    }

    private static void check(SharedTable t, Map<String, Row> model, int keys, RowView v) {
        assertEquals(model.size(), t.count());
        for (int k = 0; k < keys; k++) {
            String key = "k" + k;
            Row want = model.get(key);
            assertEquals(want != null, t.get(key, v), key);
            if (want != null) {
                assertEquals(want, new Row(v.getLong("a"), v.getString("s"), v.getInt("c")), key);
                assertEquals(want.a(), t.getLong(key, "a", -1));
            }
            assertEquals(want != null, t.exists(key));
        }
        Map<String, Row> seen = new HashMap<>();
        t.forEach(r -> assertNull(seen.put(r.keyString(), new Row(r.getLong("a"), r.getString("s"), r.getInt("c")))));
        assertEquals(model, seen);
        t.verify();
    }
}
