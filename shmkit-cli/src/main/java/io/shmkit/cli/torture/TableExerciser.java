package io.shmkit.cli.torture;

import io.shmkit.table.Column;
import io.shmkit.table.RowView;
import io.shmkit.table.SharedTable;
import io.shmkit.table.TableSchema;

import java.util.List;
import java.util.SplittableRandom;

/**
 * The shared table: {@code incr} of a worker's own counter rows (a committed increment is never
 * lost, and none is counted twice), {@code set} of paired rows shared by all ({@code x == y},
 * never read torn), and {@code set}/{@code delete} of a worker's own scratch rows (present with
 * the recorded value, or absent, exactly as recorded). The one operation in flight at a kill is
 * marked before it starts, so either outcome is accepted for it, and the restarted worker settles
 * it from the table.
 */
final class TableExerciser implements Exerciser {
    private static final String NAME = "table";
    static final int ROWS = 4;
    static final int SCRATCH = 8;
    static final int PAIRS = 4;
    private static final long INFLIGHT = 0;
    private static final long PENDING = 8;
    private static final long COUNTS = 16;
    private static final long SCRATCH_AT = 64;
    private static final int OP_INCR = 1;
    private static final int OP_SET = 2;
    private static final int OP_DELETE = 3;

    private Env env;
    private WorkerContext ctx;
    private SharedTable table;
    private Facts mine;
    private RowView row;
    private Column count;
    private Column x;
    private Column y;

    @Override
    public String name() {
        return "table";
    }

    @Override
    public List<String> places() {
        return List.of("table incr", "table set", "table delete");
    }

    static String counterKey(int w, int r) {
        return "w" + w + "c" + r;
    }

    static String scratchKey(int w, int i) {
        return "w" + w + "s" + i;
    }

    static String pairKey(int k) {
        return "p" + k;
    }

    @Override
    public void create(Env e) {
        TableSchema schema = TableSchema.builder(16).int64("count").int64("x").int64("y").build();
        table = SharedTable.create(e.segment(), NAME, schema, 1024);
        bind(e);
        for (int w = 0; w < e.workers(); w++) {
            for (int r = 0; r < ROWS; r++) {
                table.set(counterKey(w, r), row.clear().setLong(count, 0));
            }
        }
        for (int k = 0; k < PAIRS; k++) {
            table.set(pairKey(k), row.clear());
        }
    }

    private void bind(Env e) {
        env = e;
        row = table.newRow();
        count = table.schema().column("count");
        x = table.schema().column("x");
        y = table.schema().column("y");
    }

    @Override
    public void attach(Env e, WorkerContext c) {
        table = SharedTable.open(e.segment(), NAME);
        bind(e);
        ctx = c;
        mine = e.worker(c.slot);
        long inflight = mine.get(INFLIGHT);
        if (inflight != 0) { // the kill cut an operation: it happened or not; the table says which
            int op = (int) (inflight >> 8);
            int i = (int) (inflight & 0xFF) - 1;
            if (op == OP_INCR) {
                mine.set(COUNTS + i * 8L, table.getLong(counterKey(c.slot, i), "count", -1));
            } else {
                mine.set(SCRATCH_AT + i * 8L, table.getLong(scratchKey(c.slot, i), "count", 0));
            }
            mine.set(INFLIGHT, 0);
        }
    }

    @Override
    public void step(SplittableRandom rnd) {
        int op = rnd.nextInt(3);
        if (op == 0) {
            int r = rnd.nextInt(ROWS);
            ctx.enter(env.index(), 0);
            mine.set(INFLIGHT, (OP_INCR << 8) | (r + 1));
            table.incr(counterKey(ctx.slot, r), "count", 1);
            mine.add(COUNTS + r * 8L, 1);
            mine.set(INFLIGHT, 0);
            ctx.leave();
        } else if (op == 1) {
            String key = pairKey(rnd.nextInt(PAIRS));
            long v = rnd.nextLong();
            ctx.enter(env.index(), 1);
            table.set(key, row.clear().setLong(count, 0).setLong(x, v).setLong(y, v));
            ctx.leave();
            if (table.get(key, row) && row.getLong(x) != row.getLong(y)) {
                ctx.violation("table row " + key + " read torn: x=" + row.getLong(x) + " y=" + row.getLong(y));
            }
        } else {
            scratch(rnd);
        }
    }

    private void scratch(SplittableRandom rnd) {
        int i = rnd.nextInt(SCRATCH);
        String key = scratchKey(ctx.slot, i);
        long recorded = mine.get(SCRATCH_AT + i * 8L);
        long have = table.getLong(key, "count", 0);
        if (have != recorded) {
            ctx.violation("table scratch row " + key + " = " + have + ", recorded " + recorded);
        }
        if (recorded == 0) {
            long v = rnd.nextLong(1, Long.MAX_VALUE);
            ctx.enter(env.index(), 1);
            mine.set(PENDING, v);
            mine.set(INFLIGHT, (OP_SET << 8) | (i + 1));
            table.set(key, row.clear().setLong(count, v));
            mine.set(SCRATCH_AT + i * 8L, v);
        } else {
            ctx.enter(env.index(), 2);
            mine.set(INFLIGHT, (OP_DELETE << 8) | (i + 1));
            if (!table.delete(key)) {
                ctx.violation("table scratch row " + key + " recorded present but delete found none");
            }
            mine.set(SCRATCH_AT + i * 8L, 0);
        }
        mine.set(INFLIGHT, 0);
        ctx.leave();
    }

    @Override
    public void check(Checks c, int dead) {
        c.verify("table", table::verify);
        for (int k = 0; k < PAIRS; k++) {
            String key = pairKey(k);
            c.expect(table.get(key, row) && row.getLong(x) == row.getLong(y), () -> "table pair row " + key + " missing or torn");
        }
        Facts f = env.worker(dead);
        long inflight = f.get(INFLIGHT);
        int op = (int) (inflight >> 8);
        int at = (int) (inflight & 0xFF) - 1;
        for (int r = 0; r < ROWS; r++) {
            String key = counterKey(dead, r);
            long rec = f.get(COUNTS + r * 8L);
            long have = table.getLong(key, "count", -1);
            long slack = op == OP_INCR && at == r ? 1 : 0;
            c.expect(have >= rec && have <= rec + slack,
                    () -> "counter " + key + " = " + have + ", recorded " + rec + " (+" + slack + " in flight)");
        }
        for (int i = 0; i < SCRATCH; i++) {
            String key = scratchKey(dead, i);
            long rec = f.get(SCRATCH_AT + i * 8L);
            long have = table.getLong(key, "count", 0);
            boolean ok = have == rec
                    || (at == i && op == OP_SET && have == f.get(PENDING))
                    || (at == i && op == OP_DELETE && have == 0);
            c.expect(ok, () -> "scratch row " + key + " = " + have + ", recorded " + rec + " (in flight: op " + op + ")");
        }
    }
}
