package io.shmkit.table;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.ChildJvm;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Real child JVMs writing one table: exact counters from 2 processes x 2 threads while this
 * process reads pair rows that must never look torn; and writers killed with SIGKILL in the
 * middle of their writes, again and again, after which every row is an old or a new value,
 * {@code verify()} passes and no lock stays held. {@code -Dshmkit.long=true}: 10x the kills.
 */
class SharedTableProcessTest {

    private static final int KILL_ROUNDS = Boolean.getBoolean("shmkit.long") ? 250 : 25; // two children a round
    private String name;
    private Segment seg;
    private SharedTable table;

    @BeforeEach
    void create() {
        name = TestNames.unique("tableproc");
        seg = Segment.create(SegmentName.posix(name), SharedTable.segmentSize(TableChild.SCHEMA, 2000));
        table = SharedTable.create(seg, SharedTable.DEFAULT_NAME, TableChild.SCHEMA, 2000);
    }

    @AfterEach
    void unlink() {
        seg.closeAndUnlink();
    }

    @Test
    void twoProcessesOfTwoThreadsIncrementExactlyWhileReadersNeverSeeATornRow() throws Exception {
        int threads = 2;
        int ops = 20_000;
        int keys = 1000;
        RowView v = table.newRow();
        long reads = 0;
        try (ChildJvm c0 = ChildJvm.start(TableChild.class, "incr", name, "" + threads, "" + ops, "" + keys, "0");
             ChildJvm c1 = ChildJvm.start(TableChild.class, "incr", name, "" + threads, "" + ops, "" + keys, "1")) {
            while (c0.process().isAlive() || c1.process().isAlive()) {
                for (int p = 0; p < TableChild.PAIRS; p++) {
                    if (table.get("p" + p, v)) {
                        assertNull(TableChild.tornness(v), "torn row p" + p);
                        reads++;
                    }
                }
            }
            assertEquals(0, c0.waitFor(Duration.ofSeconds(120)), c0.stderr());
            assertEquals(0, c1.waitFor(Duration.ofSeconds(120)), c1.stderr());
        }
        long[] expected = new long[keys];
        for (int c = 0; c < 2; c++) {
            for (int t = 0; t < threads; t++) {
                for (int i = 0; i < ops; i++) {
                    expected[Integer.parseInt(TableChild.counterKey(c, t, i, keys).substring(1))]++;
                }
            }
        }
        long total = 0;
        for (int k = 0; k < keys; k++) {
            assertEquals(expected[k], table.getLong("k" + k, "n", -1), "key k" + k);
            total += expected[k];
        }
        assertEquals(2L * threads * ops, total);
        assertEquals(keys + TableChild.PAIRS, table.count());
        assertTrue(reads > 0, "the reader read rows while the children wrote");
        table.verify();
        assertFalse(table.anyLockHeld());
    }

    @Test
    void writersKilledMidSetLeaveOldOrNewRowsAndTheNextWriterRepairs() throws Exception {
        Random random = new Random();
        RowView v = table.newRow();
        int killsWithALockHeld = 0;
        for (int round = 0; round < KILL_ROUNDS; round++) {
            try (ChildJvm a = ChildJvm.start(TableChild.class, "set", name);
                 ChildJvm b = ChildJvm.start(TableChild.class, "set", name)) {
                a.awaitLine("READY", Duration.ofSeconds(60));
                b.awaitLine("READY", Duration.ofSeconds(60));
                Thread.sleep(2 + random.nextInt(20));
                assertTrue(a.process().isAlive() && b.process().isAlive(), "a child died by itself: " + a.stderr() + b.stderr());
                a.kill9();
                b.kill9();
            }
            boolean held = table.anyLockHeld();
            long repairsBefore = table.stats().repairs();
            // readers first: they see old or new rows (and rescue a row whose writer died mid-copy)
            for (int r = 0; r < 16; r++) {
                assertTrue(table.get("r" + r, v), "row r" + r);
                assertNull(TableChild.tornness(v), "round " + round + ": row r" + r);
            }
            for (int c = 0; c < 8; c++) {
                if (table.get("c" + c, v)) {
                    assertNull(TableChild.tornness(v), "round " + round + ": row c" + c);
                }
            }
            // the next writer: takes every lock the children used, is told OWNER_DIED, repairs
            for (int r = 0; r < 16; r++) {
                TableChild.pair(v, -r);
                assertEquals(WriteResult.UPDATED, table.set("r" + r, v));
            }
            for (int c = 0; c < 8; c++) {
                table.delete("c" + c);
            }
            assertFalse(table.anyLockHeld(), "round " + round + ": a lock is still held");
            table.verify();
            if (held) {
                killsWithALockHeld++;
                assertTrue(table.stats().repairs() > repairsBefore, "round " + round + ": a dead writer's lock was not repaired");
            }
            assertEquals(16, table.count());
        }
        assertTrue(killsWithALockHeld > 0, "no kill landed inside a write in " + KILL_ROUNDS * 2 + " kills");
        System.out.println("table SIGKILL test: " + KILL_ROUNDS * 2 + " kills, rounds with a dead writer's lock held: "
                + killsWithALockHeld + ", repairs: " + table.stats().repairs());
    }
}
