package io.shmkit.table;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.Mem;
import io.shmkit.internal.StructureLocks;
import io.shmkit.internal.Residency;
import io.shmkit.internal.index.KeyHash;
import io.shmkit.internal.index.KeyIndex;
import io.shmkit.sync.LockResult;
import io.shmkit.sync.ShmMutex;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.function.Consumer;

import static io.shmkit.internal.SharedTableLayout.*;

/**
 * The shared-memory side of a {@link SharedTable} (see its class comment for the guarantees):
 * the layout fields read once at open, row and stripe addressing, the lock-free read paths
 * (seqlock copies), the write paths under the writer and stripe locks (single-word stores,
 * redo-logged images, inserts and deletes through the key index), and statistics. Arguments
 * arrive checked, in a {@link Probe}. Repair after a dead writer is in {@link TableRepair}.
 * Package-private.
 */
final class TableStore {

    private static final VarHandle ARRAY_LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong SEG_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Spins on an odd row sequence before a reader checks the stripe's lock owner. */
    private static final int ODD_SPINS = 1 << 12;
    /** How long a read-only opener waits for a row or a delete a dead writer left unfinished. */
    private static final long READ_ONLY_WAIT_NANOS = 2_000_000_000L;

    final String name;
    final MemorySegment m;
    final long base;
    final long length;
    final TableSchema schema;
    final int capacity;
    final int maxKey;
    final long rowBytes;
    final int valueBytes;
    final long keyArea;     // offset of the column area within a row
    final int stripeMask;
    final long stripeBytes;
    final long stripes;     // memory offset of stripe 0
    final long rows;        // memory offset of row 0
    final long seed;
    final KeyIndex index;
    final ShmMutex writer;
    final ShmMutex[] stripeLocks;

    TableStore(String name, MemorySegment m, long base, long length, TableSchema schema) {
        this.name = name;
        this.m = m;
        this.base = base;
        this.length = length;
        this.schema = schema;
        this.capacity = (int) Mem.getLong(m, base + OFF_ROWS);
        this.maxKey = Mem.getInt(m, base + OFF_MAX_KEY);
        this.rowBytes = Mem.getInt(m, base + OFF_ROW_BYTES);
        this.valueBytes = Mem.getInt(m, base + OFF_VALUE_BYTES);
        this.keyArea = Row.OFF_KEY + align8(maxKey);
        int nStripes = Mem.getInt(m, base + OFF_STRIPES);
        this.stripeMask = nStripes - 1;
        this.stripeBytes = stripeBytes(valueBytes);
        this.stripes = base + Mem.getLong(m, base + OFF_STRIPES_AT);
        this.rows = base + Mem.getLong(m, base + OFF_ROWS_AT);
        this.seed = Mem.getLong(m, base + OFF_SEED);
        long indexAt = base + Mem.getLong(m, base + OFF_INDEX_AT);
        this.index = KeyIndex.open(m, indexAt, rows - indexAt);
        if (index.capacity() != capacity) {
            throw new SegmentCorruptedException("table '" + name + "': key index capacity=" + index.capacity()
                    + " but the table has rows=" + capacity);
        }
        this.writer = ShmMutex.open(m, base + OFF_WRITER_LOCK);
        this.stripeLocks = new ShmMutex[nStripes];
        for (int s = 0; s < nStripes; s++) {
            stripeLocks[s] = ShmMutex.open(m, stripes + s * stripeBytes + Stripe.OFF_LOCK);
        }
    }

    // ------------------------------------------------------------------ keys and rows

    long rowAt(int r) {
        return rows + r * rowBytes;
    }

    long valuesAt(int r) {
        return rows + r * rowBytes + keyArea;
    }

    long stripeAt(int r) {
        return stripes + (r & stripeMask) * stripeBytes;
    }

    /** Whether row {@code r} holds key {@code key[0..len)} now (tolerates torn reads: callers validate). */
    boolean keyEquals(int r, byte[] key, int len) {
        long at = rowAt(r);
        if (Mem.getInt(m, at + Row.OFF_KEY_LEN) != len) {
            return false;
        }
        at += Row.OFF_KEY;
        int i = 0;
        for (; i + 8 <= len; i += 8) {
            if (m.get(SEG_LONG, at + i) != (long) ARRAY_LONG.get(key, i)) {
                return false;
            }
        }
        for (; i < len; i++) {
            if (Mem.getByte(m, at + i) != key[i]) {
                return false;
            }
        }
        return true;
    }

    boolean get(Probe p, RowView into) {
        while (true) {
            int r = find(p);
            if (r < 0) {
                return false;
            }
            if (snapshot(r, p, into)) {
                return true;
            }
        }
    }

    /** The row of the key, found lock-free; under the writer lock if deletes kept overlapping. Negative if absent. */
    int find(Probe p) {
        int r = index.find(p.hash, p);
        if (r != KeyIndex.UNSETTLED) {
            return r;
        }
        if (m.isReadOnly()) {
            return findReadOnly(p);
        }
        lockWriter();
        try {
            long slot = index.findSlot(p.hash, p);
            return slot < 0 ? -1 : index.entryAt(slot);
        } finally {
            StructureLocks.unlock(writer);
        }
    }

    /** A read-only opener cannot take the writer lock: it retries for a while, then says why it cannot go on. */
    int findReadOnly(Probe p) {
        long deadline = System.nanoTime() + READ_ONLY_WAIT_NANOS;
        while (System.nanoTime() - deadline < 0) {
            Thread.yield();
            int r = index.find(p.hash, p);
            if (r != KeyIndex.UNSETTLED) {
                return r;
            }
        }
        throw new IllegalStateException("table '" + name + "': a delete stays unfinished (its writer may have died); "
                + "a read-only opener cannot repair it: open the table read-write");
    }

    /** Copies row r into the view if it still holds the probe's key; false if the row was reused. */
    boolean snapshot(int r, Probe p, RowView into) {
        long seqAt = rowAt(r) + Row.OFF_SEQ;
        while (true) {
            long s = awaitEven(r);
            if (!keyEquals(r, p.key, p.length)) {
                return false;
            }
            copyOut(valuesAt(r), into.values);
            VarHandle.loadLoadFence(); // the copy's reads happen before the sequence re-read
            if (Mem.getLongAcquire(m, seqAt) == s) {
                System.arraycopy(p.key, 0, into.key, 0, p.length);
                into.keyLength = p.length;
                into.dirty = 0;
                return true;
            }
        }
    }

    /** Copies a row's column area into a view's array, 8 bytes at a time (value bytes are a multiple of 8). */
    void copyOut(long at, byte[] dst) {
        for (int i = 0; i < valueBytes; i += 8) {
            ARRAY_LONG.set(dst, i, Mem.getLong(m, at + i));
        }
    }

    /** Reads row r's sequence once it is even; rescues the row if its writer died. */
    long awaitEven(int r) {
        long seqAt = rowAt(r) + Row.OFF_SEQ;
        int spins = 0;
        long since = 0;
        long s;
        while (((s = Mem.getLongAcquire(m, seqAt)) & 1) != 0) { // acquire: the row's reads stay after it
            if (++spins < ODD_SPINS) {
                Thread.onSpinWait();
                continue;
            }
            spins = 0;
            if (!m.isReadOnly()) {
                rescue(r);
                continue;
            }
            long now = System.nanoTime();
            since = since == 0 ? now : since;
            if (now - since > READ_ONLY_WAIT_NANOS) {
                throw new IllegalStateException("table '" + name + "': row " + r + " stays mid-write (its writer may have "
                        + "died); a read-only opener cannot repair it: open the table read-write");
            }
            Thread.yield();
        }
        return s;
    }

    /** A reader found a row odd for long: if the stripe's owner is dead, repair it; else let the writer run. */
    void rescue(int r) {
        int stripe = r & stripeMask;
        ShmMutex lock = stripeLocks[stripe];
        LockResult res = lock.tryLock();
        if (!res.acquired()) {
            Thread.yield(); // a live writer holds it: let it finish
            return;
        }
        try {
            // holding the stripe lock, no live writer is inside this stripe: an odd row is a dead
            // writer's (OWNER_DIED) or damage; either way repair it rather than spin on it
            if (res == LockResult.OWNER_DIED || (Mem.getLongAcquire(m, rowAt(r) + Row.OFF_SEQ) & 1) != 0) {
                TableRepair.repairStripe(this, stripe);
            }
            if (res == LockResult.OWNER_DIED) {
                StructureLocks.markConsistent(lock);
            }
        } finally {
            StructureLocks.unlock(lock);
        }
    }

    /** A numeric column's value as raw bits (int32 sign-extended), or {@code ifAbsent} if the key is absent. */
    long readWord(Probe p, Column c, long ifAbsent) {
        while (true) {
            int r = find(p);
            if (r < 0) {
                return ifAbsent;
            }
            long seqAt = rowAt(r) + Row.OFF_SEQ;
            long s = awaitEven(r);
            if (!keyEquals(r, p.key, p.length)) {
                continue;
            }
            long v = c.type() == ColumnType.INT32 ? Mem.getInt(m, valuesAt(r) + c.offset())
                    : Mem.getLong(m, valuesAt(r) + c.offset());
            VarHandle.loadLoadFence(); // the value read happens before the sequence re-read
            if (Mem.getLongAcquire(m, seqAt) == s) {
                return v;
            }
        }
    }

    void forEach(Consumer<RowView> visitor) {
        RowView v = new RowView(schema);
        RowIs live = new RowIs();
        long hw = highWater(Mem.getLongAcquire(m, base + OFF_HIGH_WATER));
        for (int r = 0; r < hw; r++) {
            live.row = r;
            // a row with a key is visited only if the index has it: not one an inserter is still
            // writing (or died writing) before publishing it
            if (snapshotAny(r, v) && find(KeyHash.hash(seed, v.key, v.keyLength), live) == r) {
                visitor.accept(v);
            }
        }
    }

    /** The rows ever used, checked: a high-water mark outside 0..capacity is damage, never a row count. */
    long highWater(long hw) {
        if (hw < 0 || hw > capacity) {
            throw new SegmentCorruptedException("table '" + name + "': high water=" + hw + " outside 0.." + capacity);
        }
        return hw;
    }

    /** Matches exactly one row (iteration's liveness check). */
    private static final class RowIs implements KeyIndex.Matcher {
        int row;

        @Override
        public boolean matches(int entry) {
            return entry == row;
        }
    }

    int find(long hash, KeyIndex.Matcher matcher) {
        int r = index.find(hash, matcher);
        if (r != KeyIndex.UNSETTLED || m.isReadOnly()) {
            return r;
        }
        lockWriter();
        try {
            long slot = index.findSlot(hash, matcher);
            return slot < 0 ? -1 : index.entryAt(slot);
        } finally {
            StructureLocks.unlock(writer);
        }
    }

    boolean snapshotAny(int r, RowView into) {
        long at = rowAt(r);
        while (true) {
            long s = awaitEven(r);
            int len = Mem.getInt(m, at + Row.OFF_KEY_LEN);
            if (len < 1 || len > maxKey) {
                return false;
            }
            MemorySegment.copy(m, ValueLayout.JAVA_BYTE, at + Row.OFF_KEY, into.key, 0, len);
            MemorySegment.copy(m, at + keyArea, into.segment, 0, valueBytes);
            VarHandle.loadLoadFence(); // the copies happen before the sequence re-read
            if (Mem.getLongAcquire(m, at + Row.OFF_SEQ) == s) {
                into.keyLength = len;
                into.dirty = 0;
                // a free row's key length is 0; a row still in the index is live
                return true;
            }
        }
    }

    // ------------------------------------------------------------------ write paths

    WriteResult write(Probe p, boolean mayInsert, boolean mayUpdate) {
        if (mayUpdate) {
            while (true) {
                int r = index.find(p.hash, p);
                if (r < 0) {
                    break; // absent or unsettled: decide under the writer lock
                }
                int s = r & stripeMask;
                lockStripe(s);
                try {
                    if (keyEquals(r, p.key, p.length)) {
                        applyExisting(r, p);
                        return WriteResult.UPDATED;
                    }
                } finally {
                    StructureLocks.unlock(stripeLocks[s]);
                }
                // the row was deleted (and maybe reused) meanwhile: look again
            }
        }
        return writeSlowPath(p, mayInsert, mayUpdate);
    }

    WriteResult writeSlowPath(Probe p, boolean mayInsert, boolean mayUpdate) {
        lockWriter();
        try {
            long slot = index.findSlot(p.hash, p);
            if (slot >= 0) {
                if (!mayUpdate) {
                    return WriteResult.EXISTS;
                }
                int r = index.entryAt(slot);
                int s = r & stripeMask;
                lockStripe(s);
                try {
                    applyExisting(r, p);
                } finally {
                    StructureLocks.unlock(stripeLocks[s]);
                }
                return WriteResult.UPDATED;
            }
            if (!mayInsert) {
                return WriteResult.ABSENT;
            }
            return insert(p) ? WriteResult.INSERTED : WriteResult.FULL;
        } finally {
            StructureLocks.unlock(writer);
        }
    }

    /** Under the row's stripe lock, the row holding the key: performs the operation. */
    void applyExisting(int r, Probe p) {
        Column c = p.column;
        long vals = valuesAt(r);
        switch (p.op) {
            case Probe.OP_VIEW -> writeImage(r, p.view);
            case Probe.OP_BYTES -> writeBytesImage(r, c, p.bytes);
            case Probe.OP_WORD -> writeWord(r, c, p.bits);
            case Probe.OP_INCR -> {
                long v = (c.type() == ColumnType.INT32 ? (long) (int) (Mem.getInt(m, vals + c.offset()) + (int) p.bits)
                        : Mem.getLong(m, vals + c.offset()) + p.bits);
                writeWord(r, c, v);
                p.result = v;
            }
            case Probe.OP_INCR_FLOAT -> {
                double v = Double.longBitsToDouble(Mem.getLong(m, vals + c.offset())) + p.delta;
                writeWord(r, c, Double.doubleToRawLongBits(v));
                p.result = Double.doubleToRawLongBits(v);
            }
            case Probe.OP_CAS_WORD -> {
                long cur = c.type() == ColumnType.INT32 ? Mem.getInt(m, vals + c.offset())
                        : Mem.getLong(m, vals + c.offset());
                p.ok = cur == p.expect;
                if (p.ok) {
                    writeWord(r, c, p.bits);
                }
            }
            case Probe.OP_CAS_BYTES -> {
                int len = Mem.getInt(m, vals + c.offset());
                p.ok = len == p.expected.length && MemorySegment.mismatch(m, vals + c.offset() + LENGTH_PREFIX,
                        vals + c.offset() + LENGTH_PREFIX + len, MemorySegment.ofArray(p.expected), 0, len) < 0;
                if (p.ok) {
                    writeBytesImage(r, c, p.bytes);
                }
            }
            default -> throw new IllegalStateException("op " + p.op);
        }
        if (p.ok || (p.op != Probe.OP_CAS_WORD && p.op != Probe.OP_CAS_BYTES)) {
            long st = stripeAt(r);
            Mem.setLong(m, st + Stripe.OFF_UPDATES, Mem.getLong(m, st + Stripe.OFF_UPDATES) + 1);
        }
    }

    /** One column of at most 8 bytes: a single store inside the row's odd sequence (old or new value on death). */
    void writeWord(int r, Column c, long bits) {
        long seqAt = rowAt(r) + Row.OFF_SEQ;
        long seq = Mem.getLong(m, seqAt);
        Mem.setLong(m, seqAt, seq + 1);
        VarHandle.storeStoreFence(); // readers see the odd sequence before the new value
        putWord(valuesAt(r) + c.offset(), c, bits);
        Mem.setLongRelease(m, seqAt, seq + 2); // release: the new value is visible with the even sequence
    }

    void putWord(long at, Column c, long bits) {
        if (c.type() == ColumnType.INT32) {
            Mem.setInt(m, at, (int) bits);
        } else {
            Mem.setLong(m, at, bits);
        }
    }

    /** Several columns: the new column area is built in the stripe's redo log, committed, then copied in. */
    void writeImage(int r, RowView v) {
        long img = stripeAt(r) + Stripe.OFF_IMAGE;
        MemorySegment.copy(m, valuesAt(r), m, img, valueBytes);
        long dirty = v.dirty;
        Column[] cols = schema.byIndex;
        while (dirty != 0) {
            Column c = cols[Long.numberOfTrailingZeros(dirty)];
            dirty &= dirty - 1;
            MemorySegment.copy(v.segment, c.offset(), m, img + c.offset(), c.width());
        }
        commitImage(r);
    }

    void writeBytesImage(int r, Column c, byte[] value) {
        long img = stripeAt(r) + Stripe.OFF_IMAGE;
        MemorySegment.copy(m, valuesAt(r), m, img, valueBytes);
        putBytes(img + c.offset(), c, value);
        commitImage(r);
    }

    void putBytes(long at, Column c, byte[] value) {
        Mem.setInt(m, at, value.length);
        MemorySegment.copy(value, 0, m, ValueLayout.JAVA_BYTE, at + LENGTH_PREFIX, value.length);
        m.asSlice(at + LENGTH_PREFIX + value.length, c.size() - value.length).fill((byte) 0);
    }

    void commitImage(int r) {
        long st = stripeAt(r);
        // the commit point: from here a repair replays the image (plain: read only by a lock holder)
        Mem.setLong(m, st + Stripe.OFF_LOG_ROW, r);
        applyLog(st, r);
        Mem.setLong(m, st + Stripe.OFF_LOG_ROW, LOG_ROW_EMPTY);
    }

    /** Copies the stripe's image into row r inside an odd sequence. */
    void applyLog(long st, int r) {
        long seqAt = rowAt(r) + Row.OFF_SEQ;
        long seq = Mem.getLong(m, seqAt) | 1;   // odd (already odd if a writer died mid-copy)
        Mem.setLong(m, seqAt, seq);
        VarHandle.storeStoreFence(); // readers see the odd sequence before the copy
        MemorySegment.copy(m, st + Stripe.OFF_IMAGE, m, valuesAt(r), valueBytes);
        Mem.setLongRelease(m, seqAt, seq + 1); // release: the copy is visible with the even sequence
    }

    /** Under the writer lock: takes a free row, writes key and values, publishes it. False if full. */
    boolean insert(Probe p) {
        int r = allocRow();
        if (r < 0) {
            return false;
        }
        int s = r & stripeMask;
        lockStripe(s);
        try {
            long at = rowAt(r);
            long seq = Mem.getLong(m, at + Row.OFF_SEQ) | 1;
            Mem.setLong(m, at + Row.OFF_SEQ, seq);
            VarHandle.storeStoreFence(); // a stale reader of this row sees the odd sequence first
            Mem.setInt(m, at + Row.OFF_KEY_LEN, p.length);
            MemorySegment.copy(p.key, 0, m, ValueLayout.JAVA_BYTE, at + Row.OFF_KEY, p.length);
            long vals = at + keyArea;
            m.asSlice(vals, valueBytes).fill((byte) 0);
            Column c = p.column;
            switch (p.op) {
                case Probe.OP_VIEW -> {
                    long dirty = p.view.dirty;
                    Column[] cols = schema.byIndex;
                    while (dirty != 0) {
                        Column d = cols[Long.numberOfTrailingZeros(dirty)];
                        dirty &= dirty - 1;
                        MemorySegment.copy(p.view.segment, d.offset(), m, vals + d.offset(), d.width());
                    }
                }
                case Probe.OP_WORD -> putWord(vals + c.offset(), c, p.bits);
                case Probe.OP_BYTES -> putBytes(vals + c.offset(), c, p.bytes);
                case Probe.OP_INCR -> {
                    p.result = c.type() == ColumnType.INT32 ? (int) p.bits : p.bits;
                    putWord(vals + c.offset(), c, p.result);
                }
                case Probe.OP_INCR_FLOAT -> {
                    p.result = Double.doubleToRawLongBits(0.0 + p.delta);
                    putWord(vals + c.offset(), c, p.result);
                }
                default -> throw new IllegalStateException("op " + p.op);
            }
            Mem.setLongRelease(m, at + Row.OFF_SEQ, seq + 1);
            // the commit point: one release store publishes the row. allocRow saw room, so a full
            // index here is damage (the branch is on the returned slot: no extra load)
            if (index.insert(p.hash, r) < 0) {
                throw new SegmentCorruptedException("table '" + name + "': key index full (size=" + index.size()
                        + ") while the table handed out row " + r + " of " + capacity + "; the insert is not published");
            }
            Mem.setLong(m, base + OFF_INSERTS, Mem.getLong(m, base + OFF_INSERTS) + 1);
        } finally {
            StructureLocks.unlock(stripeLocks[s]);
        }
        return true;
    }

    int allocRow() {
        long head = Mem.getLong(m, base + OFF_FREE_HEAD);
        if (head >= 0) {
            if (head >= capacity) {
                throw new SegmentCorruptedException("table '" + name + "': free list head=" + head + " outside 0.."
                        + (capacity - 1));
            }
            Mem.setLong(m, base + OFF_FREE_HEAD, (long) Mem.getInt(m, rowAt((int) head) + Row.OFF_NEXT));
            return (int) head;
        }
        long hw = highWater(Mem.getLong(m, base + OFF_HIGH_WATER));
        if (hw < capacity && index.size() < capacity) {
            Mem.setLongRelease(m, base + OFF_HIGH_WATER, hw + 1); // release: iterators read it with acquire
            return (int) hw;
        }
        return -1;
    }

    boolean delete(Probe p, RowView into) {
        lockWriter();
        try {
            long slot = index.findSlot(p.hash, p);
            if (slot < 0) {
                return false;
            }
            int r = index.entryAt(slot);
            int s = r & stripeMask;
            lockStripe(s);
            try {
                long at = rowAt(r);
                if (into != null) {
                    MemorySegment.copy(m, at + keyArea, into.segment, 0, valueBytes);
                    System.arraycopy(p.key, 0, into.key, 0, p.length);
                    into.keyLength = p.length;
                    into.dirty = 0;
                }
                long seq = Mem.getLong(m, at + Row.OFF_SEQ) | 1;
                Mem.setLong(m, at + Row.OFF_SEQ, seq);
                VarHandle.storeStoreFence(); // readers see the odd sequence before the key goes
                Mem.setInt(m, at + Row.OFF_KEY_LEN, 0); // the delete's linearisation point
                Mem.setLongRelease(m, at + Row.OFF_SEQ, seq + 1);
                index.removeAt(slot);
                Mem.setInt(m, at + Row.OFF_NEXT, (int) Mem.getLong(m, base + OFF_FREE_HEAD));
                Mem.setLong(m, base + OFF_FREE_HEAD, r);
                Mem.setLong(m, base + OFF_DELETES, Mem.getLong(m, base + OFF_DELETES) + 1);
            } finally {
                StructureLocks.unlock(stripeLocks[s]);
            }
            return true;
        } finally {
            StructureLocks.unlock(writer);
        }
    }

    // ------------------------------------------------------------------ locks and repair

    void lockWriter() {
        if (StructureLocks.lock(writer)) {
            TableRepair.repairTable(this);
            StructureLocks.markConsistent(writer);
        }
    }

    void lockStripe(int s) {
        ShmMutex lock = stripeLocks[s];
        if (StructureLocks.lock(lock)) {
            TableRepair.repairStripe(this, s);
            StructureLocks.markConsistent(lock);
        }
    }

    // ------------------------------------------------------------------ statistics

    /** Rows, capacity, memory and counters; cheap (no lock; one {@code mincore} call over the range). */
    TableStats stats() {
        long updates = 0;
        for (int s = 0; s <= stripeMask; s++) {
            updates += Mem.getLong(m, stripes + s * stripeBytes + Stripe.OFF_UPDATES);
        }
        return new TableStats(index.size(), capacity, length, Residency.residentBytes(m, base, length),
                Mem.getLong(m, base + OFF_INSERTS), updates, Mem.getLong(m, base + OFF_DELETES),
                index.longestProbe(), Mem.getLongAcquire(m, base + OFF_REPAIRS));
    }

    /** Whether the writer lock or any stripe lock is held right now (by anybody, alive or dead): for tests and tools. */
    boolean anyLockHeld() {
        if (writer.isLocked()) {
            return true;
        }
        for (ShmMutex l : stripeLocks) {
            if (l.isLocked()) {
                return true;
            }
        }
        return false;
    }
}
