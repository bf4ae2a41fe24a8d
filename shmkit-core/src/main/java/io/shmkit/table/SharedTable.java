package io.shmkit.table;

import io.shmkit.LayoutMismatchException;
import io.shmkit.StructureNotFoundException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.UnsupportedFormatException;
import io.shmkit.internal.SegmentHeader;
import io.shmkit.internal.index.KeyHash;
import io.shmkit.internal.index.KeyIndex;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;
import io.shmkit.sync.ShmMutex;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;

import static io.shmkit.internal.SharedTableLayout.*;

/**
 * A typed hash table in shared memory, used by any number of threads in any number of
 * processes (after Swoole's {@code swoole_table}, without its traps). Rows have named, typed
 * columns ({@link TableSchema}); keys are 1 to {@code maxKeyLength} bytes (or strings, as UTF-8).
 *
 * {@snippet :
 * TableSchema schema = TableSchema.builder(64).string("name", 32).int64("score").build();
 * try (Segment seg = Segment.create(SegmentName.posix("scores"), SharedTable.segmentSize(schema, 10_000))) {
 *     SharedTable t = SharedTable.create(seg, "table", schema, 10_000);
 *     RowView row = t.newRow();
 *     t.set("alice", row.clear().setString("name", "Alice").setLong("score", 10));
 *     t.incr("alice", "score", 5);                  // 15
 *     if (t.get("alice", row)) {
 *         long score = row.getLong("score");
 *     }
 * }
 * // another process: SharedTable.open(Segment.open(SegmentName.posix("scores")), "table")
 * }
 *
 * <p><b>Exact capacity.</b> A table created for N rows accepts N distinct keys whatever their
 * hashes (the key index has more buckets than rows, see {@code KeyIndex}); the next new key is
 * refused with {@link WriteResult#FULL} (or {@link TableFullException} from {@code incr}),
 * existing keys can still be written, and a delete makes room at once.
 *
 * <p><b>Thread and process safety.</b> Every method may be called from any thread of any
 * process that opened the table. Inserts and deletes take one robust writer lock
 * ({@link ShmMutex}); writes to existing rows take only the row's stripe lock (one of up to
 * 1024, row {@code r} uses stripe
 * {@code r mod stripes}). Reads ({@code get}, {@code exists}, iteration) take no lock: each
 * row carries a sequence word that a writer makes odd while it changes the row; a reader copies
 * the row and retries if the sequence moved, so it never sees a torn row and never blocks a
 * writer. A reader that finds a row held odd for long checks the stripe lock: if its owner
 * died, the reader repairs the row itself (it never waits for a timeout); while a live writer
 * holds it, the reader waits for it. {@code RowView}s are single-threaded.
 *
 * <p><b>Publication.</b> A row is written completely before its key is published in the index
 * (one release store); a write to an existing row ends with a release store of the row's even
 * sequence. A reader that sees the key or the new sequence sees the values.
 *
 * <p><b>If a writer dies</b> (SIGKILL at any instruction), no reader sees a torn row and nobody
 * waits for a timeout: the next process that needs the dead writer's lock is told
 * {@code OWNER_DIED} and repairs before it goes on. A write of one numeric column is one store
 * (old or new value). A write of several columns or of a string is first built completely in
 * the stripe's redo log; the log's commit word makes it durable, then it is copied into the row:
 * repair replays a committed log (new value) and ignores an uncommitted one (old value). An
 * insert or delete interrupted by death is completed or undone from the key index (the source
 * of truth for which rows are live) and the free list is rebuilt. A live writer's lock is never
 * taken away.
 *
 * <p><b>Memory.</b> {@link #bytesNeeded} tells the footprint before creation; it is reserved in
 * the segment at creation. Pages of rows are touched when rows are first used (a table created
 * in a fresh reservation touches only its header, stripes and index pages as they are used);
 * {@link #stats()} reports bytes mapped and resident.
 *
 * <p><b>Errors.</b> An empty or too long key, an unknown column, a column of another type, a
 * value longer than its column: {@link IllegalArgumentException} naming the table and the
 * column, nothing written. A segment structure that is not a table:
 * {@link LayoutMismatchException}. Damage found by {@link #verify()} or on open:
 * {@link SegmentCorruptedException}.
 */
public final class SharedTable {

    /** Directory kind of a shared table. */
    public static final int KIND = 0x0301;
    /** Structure name the command line uses for a segment's table. */
    public static final String DEFAULT_NAME = "table";

    private final TableStore store;
    private final String name;
    private final TableSchema schema;
    private final int capacity;
    private final int maxKey;
    private final long seed;
    private final ThreadLocal<Probe> probes;
    private final ThreadLocal<RowView> views;

    private SharedTable(TableStore store) {
        this.store = store;
        this.name = store.name;
        this.schema = store.schema;
        this.capacity = store.capacity;
        this.maxKey = store.maxKey;
        this.seed = store.seed;
        this.probes = ThreadLocal.withInitial(() -> new Probe(maxKey));
        this.views = ThreadLocal.withInitial(() -> new RowView(schema));
    }

    // ------------------------------------------------------------------ create / open

    /** Bytes a table of {@code rows} rows with this schema occupies in its segment. */
    public static long bytesNeeded(TableSchema schema, int rows) {
        checkRows(rows);
        return io.shmkit.internal.SharedTableLayout.bytesNeeded(rows, schema.maxKeyLength(), schema.valueBytes(),
                KeyIndex.bytesNeeded(rows));
    }

    /** A segment size (header and page rounding included) that holds one such table. */
    public static long segmentSize(TableSchema schema, int rows) {
        long n = SegmentHeader.HEADER_SIZE + bytesNeeded(schema, rows) + 64;
        return Math.max(Segment.MIN_SIZE, (n + Segment.PAGE_SIZE - 1) & -Segment.PAGE_SIZE);
    }

    private static void checkRows(int rows) {
        if (rows < 1 || rows > (1 << 30)) {
            throw new IllegalArgumentException("rows must be in 1.." + (1 << 30) + ": rows=" + rows);
        }
    }

    /**
     * Creates a table of exactly {@code rows} rows in a new range of {@code segment} recorded
     * under {@code name}. The range is fresh (zero), so creation writes only the header and
     * the stripes.
     */
    public static SharedTable create(Segment segment, String name, TableSchema schema, int rows) {
        long need = bytesNeeded(schema, rows);
        DirectoryEntry e = segment.reserve(name, KIND, need, 64);
        TableFormat.init(name, segment.memory(), e.offset(), e.length(), schema, rows, true);
        return new SharedTable(new TableStore(name, segment.memory(), e.offset(), e.length(), schema));
    }

    /** Creates a table in a raw range {@code [offset, offset + length)} of {@code memory} (64-byte aligned); zeroes the range. */
    public static SharedTable create(MemorySegment memory, long offset, long length, String name, TableSchema schema,
                                     int rows) {
        TableFormat.init(name, memory, offset, length, schema, rows, false);
        return new SharedTable(new TableStore(name, memory, offset, length, schema));
    }

    /**
     * Opens the table recorded under {@code name} in {@code segment} (created by any process);
     * the schema comes from the segment.
     *
     * @throws StructureNotFoundException if there is no structure of that name
     * @throws LayoutMismatchException  if the structure is not a shared table
     */
    public static SharedTable open(Segment segment, String name) {
        DirectoryEntry e = segment.lookup(name).orElseThrow(() -> new StructureNotFoundException(
                "no structure named '" + name + "' in segment " + segment.name() + describe(segment)));
        if (e.kind() != KIND) {
            throw new LayoutMismatchException("structure '" + name + "' in segment " + segment.name()
                    + " is not a shared table (kind=0x" + Integer.toHexString(e.kind()) + ", a table has kind=0x"
                    + Integer.toHexString(KIND) + ")");
        }
        return open(segment.memory(), e.offset(), e.length(), name);
    }

    /**
     * Opens the one table of {@code segment} (as the command line does).
     *
     * @throws LayoutMismatchException if the segment holds no shared table
     */
    public static SharedTable openOnly(Segment segment) {
        List<DirectoryEntry> tables = segment.directory().stream().filter(d -> d.kind() == KIND).toList();
        if (tables.isEmpty()) {
            throw new LayoutMismatchException("segment " + segment.name() + " holds no shared table" + describe(segment));
        }
        if (tables.size() > 1) {
            throw new IllegalArgumentException("segment " + segment.name() + " holds " + tables.size() + " tables: "
                    + tables.stream().map(DirectoryEntry::name).toList());
        }
        return open(segment.memory(), tables.getFirst().offset(), tables.getFirst().length(), tables.getFirst().name());
    }

    /**
     * Opens a table created in a raw range.
     *
     * @throws SegmentCorruptedException  if the range holds no table or an inconsistent one
     * @throws UnsupportedFormatException if the table has another format version
     */
    public static SharedTable open(MemorySegment memory, long offset, long length, String name) {
        TableSchema schema = TableFormat.validate(memory, offset, length, name);
        return new SharedTable(new TableStore(name, memory, offset, length, schema));
    }

    private static String describe(Segment segment) {
        List<DirectoryEntry> d = segment.directory();
        return d.isEmpty() ? " (it holds no structures)" : " (it holds: " + d.stream()
                .map(x -> "'" + x.name() + "' kind=0x" + Integer.toHexString(x.kind())).toList() + ")";
    }

    // ------------------------------------------------------------------ accessors

    public String name() {
        return name;
    }

    /** The schema, as stored in the segment. */
    public TableSchema schema() {
        return schema;
    }

    /** Rows (distinct keys) the table accepts. */
    public int capacity() {
        return capacity;
    }

    /** Keys present now. */
    public int count() {
        return store.index.size();
    }

    /** A new reusable row buffer for this table's schema (one per thread). */
    public RowView newRow() {
        return new RowView(schema);
    }

    private Probe probe(byte[] key, int length) {
        Probe p = probes.get();
        return prepare(p, key, length);
    }

    private Probe prepare(Probe p, byte[] key, int length) {
        if (length < 1) {
            throw new IllegalArgumentException("table '" + name + "': empty key (keys are 1.." + maxKey + " bytes)");
        }
        if (length > maxKey) {
            throw new IllegalArgumentException("table '" + name + "': key too long: bytes=" + length + " max=" + maxKey
                    + " (keys are never truncated)");
        }
        p.table = store;
        p.key = key;
        p.length = length;
        p.hash = KeyHash.hash(seed, key, length);
        p.view = null;
        return p;
    }

    private Probe probe(String key) {
        return prepare(probes.get(), key);
    }

    /** Encodes a string key into the probe's buffer (ASCII without allocation). */
    private Probe prepare(Probe p, String key) {
        int n = key.length();
        byte[] buf = p.stringKey;
        if (n <= buf.length) {
            int i = 0;
            for (; i < n; i++) {
                char c = key.charAt(i);
                if (c >= 0x80) {
                    break;
                }
                buf[i] = (byte) c;
            }
            if (i == n) {
                return prepare(p, buf, n);
            }
        }
        byte[] b = key.getBytes(StandardCharsets.UTF_8);
        return prepare(p, b, b.length);
    }

    private Column columnNamed(String column) {
        try {
            return schema.column(column);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("table '" + name + "': " + e.getMessage());
        }
    }

    static IllegalArgumentException wrongType(Column c, String wanted) {
        return new IllegalArgumentException("column '" + c.name() + "' is " + c.type().label() + ", not " + wanted);
    }

    private Column own(Column c) {
        if (!schema.owns(c)) {
            throw new IllegalArgumentException("table '" + name + "': column " + c + " is not one of its columns (" + schema + ")");
        }
        return c;
    }

    private RowView ownView(RowView v) {
        if (v.schema() != schema && !v.schema().equals(schema)) {
            throw new IllegalArgumentException("table '" + name + "': the row view has another schema (" + v.schema() + ")");
        }
        return v;
    }

    // ------------------------------------------------------------------ reads (no lock)

    /**
     * Copies the row of {@code key} into {@code into} (key and every column) and returns true,
     * or returns false if the key is absent. Lock-free; allocates nothing.
     */
    public boolean get(byte[] key, RowView into) {
        return store.get(prepare(ownView(into).probe, key, key.length), into);
    }

    /** {@link #get(byte[], RowView)} with a UTF-8 key. */
    public boolean get(String key, RowView into) {
        return store.get(prepare(ownView(into).probe, key), into);
    }

    /** Whether the key is present. Lock-free. */
    public boolean exists(byte[] key) {
        return store.find(probe(key, key.length)) >= 0;
    }

    public boolean exists(String key) {
        return store.find(probe(key)) >= 0;
    }

    /** An int32 or int64 column of the key's row, or {@code ifAbsent}. Lock-free, no allocation. */
    public long getLong(byte[] key, Column column, long ifAbsent) {
        return store.readWord(probe(key, key.length), integral(own(column)), ifAbsent);
    }

    public long getLong(String key, String column, long ifAbsent) {
        return store.readWord(probe(key), integral(columnNamed(column)), ifAbsent);
    }

    /** A float64 column of the key's row, or {@code ifAbsent}. */
    public double getDouble(byte[] key, Column column, double ifAbsent) {
        Probe p = probe(key, key.length);
        return readFloat(p, own(column), ifAbsent);
    }

    public double getDouble(String key, String column, double ifAbsent) {
        return readFloat(probe(key), columnNamed(column), ifAbsent);
    }

    private double readFloat(Probe p, Column c, double ifAbsent) {
        if (c.type() != ColumnType.FLOAT64) {
            throw wrongType(c, "float64");
        }
        long none = Double.doubleToRawLongBits(ifAbsent);
        return Double.longBitsToDouble(store.readWord(p, c, none));
    }

    /** A string column as text (or a bytes column's bytes as UTF-8), or null if the key is absent. */
    public String getString(String key, String column) {
        RowView v = views.get();
        Column c = columnNamed(column);
        return get(key, v) ? v.getString(c) : null;
    }

    /** A string or bytes column's bytes, or null if the key is absent. */
    public byte[] getBytes(byte[] key, Column column) {
        RowView v = views.get();
        own(column);
        return get(key, v) ? v.getBytes(column) : null;
    }

    private static Column integral(Column c) {
        if (c.type() != ColumnType.INT32 && c.type() != ColumnType.INT64) {
            throw wrongType(c, "int32 or int64");
        }
        return c;
    }

    /**
     * Calls {@code visitor} with each row present, in storage order, one consistent row at a
     * time, in a view reused between calls (copy what you keep). Lock-free and weakly
     * consistent: safe while other processes write; a row inserted or deleted meanwhile may or
     * may not be seen, a row seen is never torn, and no row is seen twice.
     *
     * @throws SegmentCorruptedException if the table's count of rows ever used is damaged
     */
    public void forEach(Consumer<RowView> visitor) {
        store.forEach(visitor);
    }

    // ------------------------------------------------------------------ writes

    /** Upsert: a new row starts zeroed; an existing row changes only the columns set on {@code values}. */
    public WriteResult set(byte[] key, RowView values) {
        return store.write(viewOp(probe(key, key.length), values), true, true);
    }

    public WriteResult set(String key, RowView values) {
        return store.write(viewOp(probe(key), values), true, true);
    }

    /** Inserts only if the key is absent ({@link WriteResult#EXISTS} otherwise). */
    public WriteResult add(byte[] key, RowView values) {
        return store.write(viewOp(probe(key, key.length), values), true, false);
    }

    public WriteResult add(String key, RowView values) {
        return store.write(viewOp(probe(key), values), true, false);
    }

    /** Writes only if the key is present ({@link WriteResult#ABSENT} otherwise). */
    public WriteResult update(byte[] key, RowView values) {
        return store.write(viewOp(probe(key, key.length), values), false, true);
    }

    public WriteResult update(String key, RowView values) {
        return store.write(viewOp(probe(key), values), false, true);
    }

    private Probe viewOp(Probe p, RowView v) {
        p.op = Probe.OP_VIEW;
        p.view = ownView(v);
        return p;
    }

    /** Sets one int32 or int64 column (upsert). */
    public WriteResult setLong(byte[] key, Column column, long value) {
        return store.write(wordOp(probe(key, key.length), own(column), value), true, true);
    }

    public WriteResult setLong(String key, String column, long value) {
        return store.write(wordOp(probe(key), columnNamed(column), value), true, true);
    }

    /** Sets one float64 column (upsert). */
    public WriteResult setDouble(String key, String column, double value) {
        Column c = columnNamed(column);
        if (c.type() != ColumnType.FLOAT64) {
            throw wrongType(c, "float64");
        }
        Probe p = probe(key);
        p.op = Probe.OP_WORD;
        p.column = c;
        p.bits = Double.doubleToRawLongBits(value);
        return store.write(p, true, true);
    }

    /** Sets one string column (upsert); a value longer than the column is refused, never truncated. */
    public WriteResult setString(String key, String column, String value) {
        Column c = columnNamed(column);
        if (c.type() != ColumnType.STRING) {
            throw wrongType(c, "string");
        }
        return setBytesOp(probe(key), c, value.getBytes(StandardCharsets.UTF_8));
    }

    /** Sets one string or bytes column (upsert). */
    public WriteResult setBytes(byte[] key, Column column, byte[] value) {
        return setBytesOp(probe(key, key.length), own(column), value);
    }

    private WriteResult setBytesOp(Probe p, Column c, byte[] value) {
        if (c.type() != ColumnType.STRING && c.type() != ColumnType.BYTES) {
            throw wrongType(c, "string or bytes");
        }
        checkLength(c, value.length);
        p.op = Probe.OP_BYTES;
        p.column = c;
        p.bytes = value;
        return store.write(p, true, true);
    }

    private void checkLength(Column c, int len) {
        try {
            RowView.checkLength(c, len);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("table '" + name + "': " + e.getMessage());
        }
    }

    private Probe wordOp(Probe p, Column c, long value) {
        integral(c);
        if (c.type() == ColumnType.INT32 && (int) value != value) {
            throw new IllegalArgumentException("table '" + name + "': value " + value + " out of range for int32 column '"
                    + c.name() + "'");
        }
        p.op = Probe.OP_WORD;
        p.column = c;
        p.bits = value;
        return p;
    }

    /**
     * Adds {@code by} to an int32 or int64 column and returns the new value; a missing key gets a
     * new zeroed row first (so counters need no set-up). int32 wraps like Java {@code int}.
     *
     * @throws TableFullException if the key is absent and the table is full
     */
    public long incr(byte[] key, Column column, long by) {
        return incrOp(probe(key, key.length), own(column), by);
    }

    public long incr(String key, String column, long by) {
        return incrOp(probe(key), columnNamed(column), by);
    }

    /** {@link #incr} with {@code -by}. */
    public long decr(byte[] key, Column column, long by) {
        return incrOp(probe(key, key.length), own(column), -by);
    }

    public long decr(String key, String column, long by) {
        return incrOp(probe(key), columnNamed(column), -by);
    }

    private long incrOp(Probe p, Column c, long by) {
        integral(c);
        p.op = Probe.OP_INCR;
        p.column = c;
        p.bits = by;
        if (store.write(p, true, true) == WriteResult.FULL) {
            throw new TableFullException(name, capacity);
        }
        return p.result;
    }

    /** Adds {@code by} to a float64 column and returns the new value (missing key: created from 0). */
    public double incrDouble(String key, String column, double by) {
        Column c = columnNamed(column);
        if (c.type() != ColumnType.FLOAT64) {
            throw wrongType(c, "float64");
        }
        Probe p = probe(key);
        p.op = Probe.OP_INCR_FLOAT;
        p.column = c;
        p.delta = by;
        if (store.write(p, true, true) == WriteResult.FULL) {
            throw new TableFullException(name, capacity);
        }
        return Double.longBitsToDouble(p.result);
    }

    /**
     * Sets an int32 or int64 column to {@code update} if it holds {@code expect}; false if it
     * holds something else or the key is absent.
     */
    public boolean compareAndSet(byte[] key, Column column, long expect, long update) {
        Probe p = wordOp(probe(key, key.length), own(column), update);
        return casOp(p, expect);
    }

    public boolean compareAndSet(String key, String column, long expect, long update) {
        return casOp(wordOp(probe(key), columnNamed(column), update), expect);
    }

    private boolean casOp(Probe p, long expect) {
        p.op = Probe.OP_CAS_WORD;
        p.expect = expect;
        p.ok = false;
        store.write(p, false, true);
        return p.ok;
    }

    /** Sets a string column to {@code update} if it holds exactly {@code expect}. */
    public boolean compareAndSet(String key, String column, String expect, String update) {
        Column c = columnNamed(column);
        if (c.type() != ColumnType.STRING) {
            throw wrongType(c, "string");
        }
        byte[] u = update.getBytes(StandardCharsets.UTF_8);
        checkLength(c, u.length);
        Probe p = probe(key);
        p.op = Probe.OP_CAS_BYTES;
        p.column = c;
        p.bytes = u;
        p.expected = expect.getBytes(StandardCharsets.UTF_8);
        p.ok = false;
        store.write(p, false, true);
        return p.ok;
    }

    /** Deletes the key's row; false if absent. */
    public boolean delete(byte[] key) {
        return store.delete(probe(key, key.length), null);
    }

    public boolean delete(String key) {
        return store.delete(probe(key), null);
    }

    /** Copies the key's row into {@code into}, then deletes it; false if absent (view untouched). */
    public boolean getAndDelete(byte[] key, RowView into) {
        return store.delete(prepare(ownView(into).probe, key, key.length), into);
    }

    public boolean getAndDelete(String key, RowView into) {
        return store.delete(prepare(ownView(into).probe, key), into);
    }

    /**
     * Checks every invariant and throws {@link SegmentCorruptedException} naming the first broken
     * one: the key index's (each bucket's tag is its row's key hash, each entry reachable, size),
     * every live row's key length in range, every row below the high water mark either live or
     * on the free list exactly once, every stripe's redo log empty and rows even (stripes a live
     * writer holds are skipped). Takes the writer lock (and repairs after a dead writer) and each
     * stripe lock that is free or dead-owned; waits for no live stripe writer.
     */
    public void verify() {
        TableRepair.verify(store);
    }

    /** Rows, capacity, memory and counters; cheap (no lock; one {@code mincore} call over the range). */
    public TableStats stats() {
        return store.stats();
    }

    /** Whether the writer lock or any stripe lock is held right now (by anybody, alive or dead): for tests and tools. */
    public boolean anyLockHeld() {
        return store.anyLockHeld();
    }

    @Override
    public String toString() {
        return "SharedTable[" + name + ", rows=" + count() + "/" + capacity + ", " + schema + "]";
    }
}
