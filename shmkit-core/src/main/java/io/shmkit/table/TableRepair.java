package io.shmkit.table;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.Mem;
import io.shmkit.internal.StructureLocks;
import io.shmkit.internal.index.KeyHash;
import io.shmkit.sync.LockResult;
import io.shmkit.sync.ShmMutex;

import java.lang.invoke.VarHandle;

import static io.shmkit.internal.SharedTableLayout.*;

/**
 * Recovery and checking of a {@link SharedTable}: what the next owner of a dead writer's lock
 * does (a stripe: replay a committed redo log and end odd row sequences; the writer lock:
 * complete the key index's interrupted delete, finish or undo half-done deletes and inserts,
 * rebuild the free list from the index), and {@link #verify}. Package-private.
 */
final class TableRepair {


    private TableRepair() {
    }

    /** Stripe lock held after OWNER_DIED: replay a committed image, make every odd row of the stripe even. */
    static void repairStripe(TableStore t, int s) {
        long st = t.stripes + s * t.stripeBytes;
        long log = Mem.getLong(t.m, st + Stripe.OFF_LOG_ROW);
        if (log != LOG_ROW_EMPTY) {
            if (log < 0 || log >= t.capacity || (log & t.stripeMask) != s) {
                throw new SegmentCorruptedException("table '" + t.name + "': stripe " + s + " logs row " + log
                        + ", not a row of this stripe");
            }
            t.applyLog(st, (int) log);
            Mem.setLong(t.m, st + Stripe.OFF_LOG_ROW, LOG_ROW_EMPTY);
        }
        long hw = Math.min(t.capacity, Mem.getLongAcquire(t.m, t.base + OFF_HIGH_WATER));
        for (long r = s; r < hw; r += t.stripeMask + 1) {
            long seqAt = t.rowAt((int) r) + Row.OFF_SEQ;
            long seq = Mem.getLongAcquire(t.m, seqAt);
            if ((seq & 1) != 0) {
                Mem.setLongRelease(t.m, seqAt, seq + 1); // the single store or key change it covered is old or new
            }
        }
        Mem.getAndAddLong(t.m, t.base + OFF_REPAIRS, 1L);
    }

    /**
     * Writer lock held after OWNER_DIED: complete the key index's interrupted delete, remove
     * index entries of rows a dead deleter already freed, free rows a dead inserter did not
     * publish, and rebuild the free list from the index (the source of truth for live rows).
     */
    static void repairTable(TableStore t) {
        t.index.repair();
        long hw = t.highWater(Mem.getLong(t.m, t.base + OFF_HIGH_WATER));
        java.util.BitSet live = new java.util.BitSet((int) hw);
        for (long slot = 0; slot < t.index.slots(); ) {
            int e = t.index.entryAt(slot);
            if (e >= hw) {
                throw new SegmentCorruptedException("table '" + t.name + "': index bucket " + slot + " names row " + e
                        + " above the high water mark " + hw);
            }
            if (e >= 0 && Mem.getInt(t.m, t.rowAt(e) + Row.OFF_KEY_LEN) == 0) {
                t.index.removeAt(slot); // a delete that died after freeing the row: finish it (re-examine this bucket)
                continue;
            }
            if (e >= 0) {
                live.set(e);
            }
            slot++;
        }
        for (int s = 0; s <= t.stripeMask; s++) {
            boolean work = false;
            for (long r = s; r < hw && !work; r += t.stripeMask + 1) {
                work = !live.get((int) r) && Mem.getInt(t.m, t.rowAt((int) r) + Row.OFF_KEY_LEN) != 0;
            }
            if (!work) {
                releaseIfDead(t, s); // the dead writer may have held this stripe too (an insert cut short)
                continue;
            }
            t.lockStripe(s);
            try {
                for (long r = s; r < hw; r += t.stripeMask + 1) {
                    long at = t.rowAt((int) r);
                    if (!live.get((int) r) && Mem.getInt(t.m, at + Row.OFF_KEY_LEN) != 0) {
                        long seq = Mem.getLong(t.m, at + Row.OFF_SEQ) | 1;
                        Mem.setLong(t.m, at + Row.OFF_SEQ, seq);
                        VarHandle.storeStoreFence(); // a stale reader sees the odd sequence first
                        Mem.setInt(t.m, at + Row.OFF_KEY_LEN, 0); // an insert that died before publishing
                        Mem.setLongRelease(t.m, at + Row.OFF_SEQ, seq + 1);
                    }
                }
            } finally {
                StructureLocks.unlock(t.stripeLocks[s]);
            }
        }
        long head = -1;
        for (long r = hw - 1; r >= 0; r--) {
            if (!live.get((int) r)) {
                Mem.setInt(t.m, t.rowAt((int) r) + Row.OFF_NEXT, (int) head);
                head = r;
            }
        }
        Mem.setLong(t.m, t.base + OFF_FREE_HEAD, head);
        Mem.getAndAddLong(t.m, t.base + OFF_REPAIRS, 1L);
    }

    /**
     * Takes a stripe lock only if it is free or its owner is dead (repairing then), and lets it
     * go at once; false if a live owner holds it. Never waits.
     */
    static boolean releaseIfDead(TableStore t, int s) {
        ShmMutex lock = t.stripeLocks[s];
        if (!lock.isLocked() && lock.isConsistent()) {
            return true;
        }
        LockResult res = lock.tryLock();
        if (!res.acquired()) {
            return false;
        }
        try {
            if (res == LockResult.OWNER_DIED) {
                repairStripe(t, s);
                StructureLocks.markConsistent(lock);
            }
        } finally {
            StructureLocks.unlock(lock);
        }
        return true;
    }

    /**
     * Checks every invariant and throws {@link SegmentCorruptedException} naming the first broken
     * one: the key index's (each bucket's tag is its row's key hash, each entry reachable, size),
     * every live row's key length in range, every row below the high water mark either live or
     * on the free list exactly once, every stripe's redo log empty and rows even (stripes a live
     * writer holds are skipped). Takes the writer lock (and repairs after a dead writer) and each
     * stripe lock that is free or dead-owned; waits for no live stripe writer.
     */
    static void verify(TableStore t) {
        t.lockWriter();
        try {
            long hw = t.highWater(Mem.getLong(t.m, t.base + OFF_HIGH_WATER)); // outside 0..rows: damage
            t.index.verify(e -> {
                int len = Mem.getInt(t.m, t.rowAt(e) + Row.OFF_KEY_LEN);
                if (len < 1 || len > t.maxKey || e >= hw) {
                    throw corrupt(t, "row " + e + " is in the key index but has key length " + len
                            + (e >= hw ? " and is above the high water mark " + hw : ""));
                }
                return KeyHash.hash(t.seed, t.m, t.rowAt(e) + Row.OFF_KEY, len);
            });
            java.util.BitSet live = new java.util.BitSet((int) hw);
            for (long slot = 0; slot < t.index.slots(); slot++) {
                int e = t.index.entryAt(slot);
                if (e >= 0) {
                    live.set(e);
                }
            }
            java.util.BitSet free = new java.util.BitSet((int) hw);
            long n = 0;
            for (long r = Mem.getLong(t.m, t.base + OFF_FREE_HEAD); r != -1;
                 r = Mem.getInt(t.m, t.rowAt((int) r) + Row.OFF_NEXT)) {
                if (r < 0 || r >= hw || free.get((int) r) || live.get((int) r) || ++n > hw) {
                    throw corrupt(t, "free list reaches row " + r + " (live, listed twice, or outside 0.." + (hw - 1) + ")");
                }
                free.set((int) r);
                if (Mem.getInt(t.m, t.rowAt((int) r) + Row.OFF_KEY_LEN) != 0) {
                    throw corrupt(t, "free row " + r + " has a key");
                }
            }
            if (live.cardinality() + free.cardinality() != hw) {
                throw corrupt(t, (hw - live.cardinality() - free.cardinality()) + " rows below the high water mark " + hw
                        + " are neither live nor free");
            }
            for (int s = 0; s <= t.stripeMask; s++) {
                ShmMutex lock = t.stripeLocks[s];
                LockResult res = lock.tryLock();
                if (!res.acquired()) {
                    continue;
                }
                try {
                    if (res == LockResult.OWNER_DIED) {
                        repairStripe(t, s);
                        StructureLocks.markConsistent(lock);
                    }
                    if (Mem.getLong(t.m, t.stripes + s * t.stripeBytes + Stripe.OFF_LOG_ROW) != LOG_ROW_EMPTY) {
                        throw corrupt(t, "stripe " + s + " has a redo log entry while nobody holds it");
                    }
                    for (long r = s; r < hw; r += t.stripeMask + 1) {
                        if ((Mem.getLong(t.m, t.rowAt((int) r) + Row.OFF_SEQ) & 1) != 0) {
                            throw corrupt(t, "row " + r + " has an odd sequence while nobody holds its stripe");
                        }
                    }
                } finally {
                    StructureLocks.unlock(lock);
                }
            }
        } finally {
            StructureLocks.unlock(t.writer);
        }
    }

    private static SegmentCorruptedException corrupt(TableStore t, String what) {
        return new SegmentCorruptedException("table '" + t.name + "' at offset=" + t.base + ": " + what);
    }
}
