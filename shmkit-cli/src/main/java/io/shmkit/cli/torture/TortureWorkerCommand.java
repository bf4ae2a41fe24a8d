package io.shmkit.cli.torture;

import io.shmkit.alloc.FixedPool;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.sync.LockResult;
import io.shmkit.sync.ShmMutex;
import io.shmkit.table.Column;
import io.shmkit.table.RowView;
import io.shmkit.table.SharedTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static io.shmkit.cli.torture.TortureState.*;

/**
 * A worker of {@code shmkit torture}: attaches the torture segment, settles the one table
 * increment its predecessor had in flight, then runs a random mix of operations until it is
 * SIGKILLed. Every committed fact goes to shared memory before the next operation starts.
 */
@Command(name = "torture-worker", hidden = true)
public final class TortureWorkerCommand implements Callable<Integer> {
    private static final java.util.logging.Logger QUIET = java.util.logging.Logger.getLogger("io.shmkit.sync");
    @Parameters(index = "0") String segmentName;
    @Parameters(index = "1") int slot;
    @Parameters(index = "2") long seed;

    private TortureState st;

    @Override
    public Integer call() throws Exception {
        QUIET.setLevel(java.util.logging.Level.SEVERE); // takeovers are counted, not logged one by one
        Segment seg = Segment.open(SegmentName.parse(segmentName));
        st = new TortureState(seg, seg.lookup(REGION).orElseThrow().offset());
        SharedTable table = TortureState.table(seg);
        Column count = table.schema().column("count");
        Column x = table.schema().column("x");
        Column y = table.schema().column("y");
        FixedPool[] pools = {FixedPool.open(seg, POOLS[0]), FixedPool.open(seg, POOLS[1])};
        long inflight = st.get(worker(slot, W_INFLIGHT));
        if (inflight != 0) { // the kill cut an increment: it happened or not; the table says which
            int row = (int) inflight - 1;
            st.set(recorded(slot, row), table.getLong(counterKey(slot, row), "count", -1));
            st.set(worker(slot, W_INFLIGHT), 0);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        RowView row = table.newRow();
        while (true) {
            switch (rnd.nextInt(5)) {
                case 0 -> mutexSection(rnd);
                case 1 -> {
                    int r = rnd.nextInt(ROWS);
                    st.set(worker(slot, W_INFLIGHT), r + 1);
                    table.incr(counterKey(slot, r), "count", 1);
                    st.add(recorded(slot, r), 1);
                    st.set(worker(slot, W_INFLIGHT), 0);
                }
                case 2 -> {
                    String key = pairKey(rnd.nextInt(MUTEXES));
                    long v = rnd.nextLong();
                    table.set(key, row.clear().setLong(count, 0).setLong(x, v).setLong(y, v));
                    if (table.get(key, row) && row.getLong(x) != row.getLong(y)) {
                        violation("table row " + key + " read torn: x=" + row.getLong(x) + " y=" + row.getLong(y));
                    }
                }
                default -> allocOrFree(pools, rnd);
            }
            st.add(worker(slot, W_OPS), 1);
        }
    }

    private void mutexSection(SplittableRandom rnd) throws InterruptedException {
        int k = rnd.nextInt(MUTEXES);
        ShmMutex mu = st.mutex(k);
        LockResult r = mu.lock(30, TimeUnit.SECONDS);
        if (!r.acquired()) {
            violation("mutex " + k + " stuck: " + r + " after 30 s");
            return;
        }
        try {
            if (r == LockResult.OWNER_DIED) {
                st.add(OFF_OWNER_DIED, 1);
                st.set(st.pairB(k), st.get(st.pairA(k))); // repair from the source of truth
                mu.markConsistent();
            } else if (st.get(st.pairA(k)) != st.get(st.pairB(k))) {
                violation("mutex " + k + " ACQUIRED but pair differs: " + st.get(st.pairA(k)) + " != " + st.get(st.pairB(k)));
            }
            long v = st.get(st.pairA(k)) + 1;
            st.set(st.pairA(k), v);
            int spin = rnd.nextInt(2000);
            for (int i = 0; i < spin; i++) {
                Thread.onSpinWait();
            }
            if (rnd.nextInt(8) == 0) {
                Thread.sleep(1); // a wider window for a kill inside the section
            }
            if (st.get(st.pairA(k)) != v) {
                violation("mutex " + k + " robbed: another process wrote the pair while this live worker held it");
            }
            st.set(st.pairB(k), v);
        } finally {
            mu.unlock();
        }
    }

    private void allocOrFree(FixedPool[] pools, SplittableRandom rnd) {
        int p = rnd.nextInt(pools.length);
        int i = rnd.nextInt(RECORDS);
        long rec = alloc(slot, p, i);
        long off = st.get(rec);
        if (off == 0) {
            long got = pools[p].tryAllocate(pools[p].sliceSize(), 8);
            if (got != 0) {
                pools[p].memory().set(ValueLayout.JAVA_LONG, got, marker(slot, got));
                st.set(rec, got); // committed: the allocation is recorded
            }
        } else {
            if (pools[p].memory().get(ValueLayout.JAVA_LONG, off) != marker(slot, off)) {
                violation(POOLS[p] + ": committed slice at offset " + off + " was overwritten (handed out twice?)");
            }
            st.set(rec, 0);
            pools[p].free(off);
        }
    }

    private void violation(String what) {
        st.add(OFF_VIOLATIONS, 1);
        System.err.println("torture-worker " + slot + ": VIOLATION " + what);
        System.err.flush();
    }
}
