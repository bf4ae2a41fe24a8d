package io.shmkit.table;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;

import java.util.Arrays;

/**
 * Child JVM for the multi-process table tests.
 * <ul>
 *   <li>{@code incr SEG THREADS OPS KEYS CHILD}: each thread increments column {@code n} of key
 *       {@link #counterKey} for OPS operations, and every 4th operation sets a pair row (columns
 *       {@code a} and {@code b} equal, {@code blob} filled with {@code (byte) a}); prints DONE.</li>
 *   <li>{@code set SEG}: sets rows r0..r15 to pair values again and again, and deletes and
 *       re-adds churn rows c0..c7; prints READY after the first pass, runs until killed.</li>
 * </ul>
 */
public final class TableChild {

    static final TableSchema SCHEMA = TableSchema.builder(16).int64("a").int64("b").bytes("blob", 1000).int64("n").build();
    static final int PAIRS = 10;

    private TableChild() {
    }

    static String counterKey(int child, int thread, int i, int keys) {
        return "k" + (int) (((long) i * 7 + thread * 13L + child * 31L) % keys);
    }

    static void pair(RowView v, long value) {
        byte[] blob = new byte[1000];
        Arrays.fill(blob, (byte) value);
        v.clear().setLong("a", value).setLong("b", value).setBytes("blob", blob);
    }

    /** Null if the row's columns agree, else what is wrong. */
    static String tornness(RowView v) {
        long a = v.getLong("a");
        if (a != v.getLong("b")) {
            return "a=" + a + " b=" + v.getLong("b");
        }
        byte[] blob = v.getBytes("blob");
        for (int i = 0; i < blob.length; i++) {
            if (blob[i] != (byte) a) {
                return "a=" + a + " but blob[" + i + "]=" + blob[i] + " (length " + blob.length + ")";
            }
        }
        return a == 0 || blob.length == 1000 ? null : "blob length " + blob.length;
    }

    public static void main(String[] args) throws Exception {
        try (Segment seg = Segment.open(SegmentName.posix(args[1]))) {
            SharedTable t = SharedTable.openOnly(seg);
            switch (args[0]) {
                case "incr" -> incr(t, Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                        Integer.parseInt(args[5]));
                case "set" -> set(t);
                default -> throw new IllegalArgumentException(args[0]);
            }
        }
    }

    private static void incr(SharedTable t, int threads, int ops, int keys, int child) throws InterruptedException {
        Thread[] ts = new Thread[threads];
        for (int th = 0; th < threads; th++) {
            final int thread = th;
            ts[th] = new Thread(() -> {
                RowView v = t.newRow();
                Column n = t.schema().column("n");
                for (int i = 0; i < ops; i++) {
                    t.incr(counterKey(child, thread, i, keys).getBytes(), n, 1);
                    if (i % 4 == 0) {
                        pair(v, ((long) child << 40) | ((long) thread << 32) | i);
                        t.set("p" + (i / 4) % PAIRS, v);
                    }
                }
            });
            ts[th].start();
        }
        for (Thread th : ts) {
            th.join();
        }
        System.out.println("DONE");
    }

    private static void set(SharedTable t) {
        RowView v = t.newRow();
        for (long value = 1; ; value++) {
            for (int r = 0; r < 16; r++) {
                pair(v, value * 16 + r);
                t.set("r" + r, v);
            }
            t.delete("c" + value % 8);
            pair(v, value);
            t.add("c" + (value + 3) % 8, v);
            if (value == 1) {
                System.out.println("READY");
            }
        }
    }
}
