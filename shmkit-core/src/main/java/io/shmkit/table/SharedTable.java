package io.shmkit.table;

import io.shmkit.LayoutMismatchException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.UnsupportedFormatException;
import io.shmkit.internal.Residency;
import io.shmkit.internal.SegmentHeader;
import io.shmkit.internal.index.KeyHash;
import io.shmkit.internal.index.KeyIndex;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;
import io.shmkit.sync.LockResult;
import io.shmkit.sync.ShmMutex;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
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
 * {@value io.shmkit.internal.SharedTableLayout#MAX_STRIPES}, row {@code r} uses stripe
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
    public static final int KIND = 0x0201;
    /** Structure name the command line uses for a segment's table. */
    public static final String DEFAULT_NAME = "table";

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle ARRAY_LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong SEG_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Spins on an odd row sequence before a reader checks the stripe's lock owner. */
    private static final int ODD_SPINS = 1 << 12;
    private static final long MAGIC_WAIT_NANOS = 2_000_000_000L;
    /** How long a read-only opener waits for a row or a delete a dead writer left unfinished. */
    private static final long READ_ONLY_WAIT_NANOS = 2_000_000_000L;

    private final String name;
    private final MemorySegment m;
    private final long base;
    private final long length;
    private final TableSchema schema;
    private final int capacity;
    private final int maxKey;
    private final long rowBytes;
    private final int valueBytes;
    private final long keyArea;     // offset of the column area within a row
    private final int stripeMask;
    private final long stripeBytes;
    private final long stripes;     // memory offset of stripe 0
    private final long rows;        // memory offset of row 0
    private final long seed;
    private final KeyIndex index;
    private final ShmMutex writer;
    private final ShmMutex[] stripeLocks;
    private final ThreadLocal<Probe> probes;
    private final ThreadLocal<RowView> views;

    private SharedTable(String name, MemorySegment m, long base, long length, TableSchema schema) {
        this.name = name;
        this.m = m;
        this.base = base;
        this.length = length;
        this.schema = schema;
        this.capacity = (int) m.get(ValueLayout.JAVA_LONG, base + ROWS);
        this.maxKey = m.get(ValueLayout.JAVA_INT, base + MAX_KEY);
        this.rowBytes = m.get(ValueLayout.JAVA_INT, base + ROW_BYTES);
        this.valueBytes = m.get(ValueLayout.JAVA_INT, base + VALUE_BYTES);
        this.keyArea = R_KEY + align8(maxKey);
        int nStripes = m.get(ValueLayout.JAVA_INT, base + STRIPES);
        this.stripeMask = nStripes - 1;
        this.stripeBytes = stripeBytes(valueBytes);
        this.stripes = base + m.get(ValueLayout.JAVA_LONG, base + STRIPES_AT);
        this.rows = base + m.get(ValueLayout.JAVA_LONG, base + ROWS_AT);
        this.seed = m.get(ValueLayout.JAVA_LONG, base + SEED);
        long indexAt = base + m.get(ValueLayout.JAVA_LONG, base + INDEX_AT);
        this.index = KeyIndex.open(m, indexAt, rows - indexAt);
        this.writer = ShmMutex.open(m, base + WRITER_LOCK);
        this.stripeLocks = new ShmMutex[nStripes];
        for (int s = 0; s < nStripes; s++) {
            stripeLocks[s] = ShmMutex.open(m, stripes + s * stripeBytes + S_LOCK);
        }
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
        return init(name, segment.memory(), e.offset(), e.length(), schema, rows, true);
    }

    /** Creates a table in a raw range {@code [offset, offset + length)} of {@code memory} (64-byte aligned); zeroes the range. */
    public static SharedTable create(MemorySegment memory, long offset, long length, String name, TableSchema schema,
                                     int rows) {
        return init(name, memory, offset, length, schema, rows, false);
    }

    private static SharedTable init(String name, MemorySegment m, long base, long length, TableSchema schema, int rows,
                                    boolean zeroed) {
        long need = bytesNeeded(schema, rows);
        if (base < 0 || (base & 63) != 0 || length < need || base > m.byteSize() - length) {
            throw new IllegalArgumentException("table '" + name + "': range offset=" + base + " length=" + length
                    + " must be 64-byte aligned, inside memory of size=" + m.byteSize() + " and hold " + need + " bytes");
        }
        int stripeCount = stripesFor(rows);
        long vb = schema.valueBytes();
        long indexBytes = KeyIndex.bytesNeeded(rows);
        long indexAt = indexAt(stripeCount, vb);
        long rowsAt = rowsAt(stripeCount, vb, indexBytes);
        m.asSlice(base, zeroed ? indexAt : need).fill((byte) 0);
        m.set(ValueLayout.JAVA_INT, base + VERSION, FORMAT_VERSION);
        m.set(ValueLayout.JAVA_INT, base + COLUMNS, schema.columns().size());
        m.set(ValueLayout.JAVA_LONG, base + ROWS, rows);
        m.set(ValueLayout.JAVA_INT, base + MAX_KEY, schema.maxKeyLength());
        m.set(ValueLayout.JAVA_INT, base + ROW_BYTES, (int) rowBytes(schema.maxKeyLength(), vb));
        m.set(ValueLayout.JAVA_INT, base + VALUE_BYTES, (int) vb);
        m.set(ValueLayout.JAVA_INT, base + STRIPES, stripeCount);
        m.set(ValueLayout.JAVA_LONG, base + SEED, new java.security.SecureRandom().nextLong());
        m.set(ValueLayout.JAVA_LONG, base + STRIPES_AT, stripesAt());
        m.set(ValueLayout.JAVA_LONG, base + INDEX_AT, indexAt);
        m.set(ValueLayout.JAVA_LONG, base + ROWS_AT, rowsAt);
        SegmentHeader.writeString(m, base + NAME, NAME_BYTES, truncateName(name));
        m.set(ValueLayout.JAVA_LONG, base + FREE_HEAD, -1L);
        for (Column c : schema.columns()) {
            long at = base + column(c.index());
            SegmentHeader.writeString(m, at + C_NAME, C_NAME_BYTES, c.name());
            m.set(ValueLayout.JAVA_INT, at + C_TYPE, c.type().code);
            m.set(ValueLayout.JAVA_INT, at + C_SIZE, c.size());
            m.set(ValueLayout.JAVA_INT, at + C_OFFSET, c.offset());
        }
        ShmMutex.create(m, base + WRITER_LOCK);
        long sb = stripeBytes(vb);
        for (int s = 0; s < stripeCount; s++) {
            long at = base + stripesAt() + s * sb;
            ShmMutex.create(m, at + S_LOCK);
            m.set(ValueLayout.JAVA_LONG, at + S_LOG_ROW, LOG_EMPTY);
        }
        KeyIndex.create(m, base + indexAt, rowsAt - indexAt, rows, zeroed);
        // release: an opener that sees the magic sees the complete table
        LONG.setRelease(m, base + MAGIC, MAGIC_VALUE);
        return new SharedTable(name, m, base, length, schema);
    }

    private static String truncateName(String name) {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        return b.length <= NAME_BYTES ? name : new String(b, 0, NAME_BYTES, StandardCharsets.UTF_8).replace("\uFFFD", "");
    }

    /**
     * Opens the table recorded under {@code name} in {@code segment} (created by any process);
     * the schema comes from the segment.
     *
     * @throws IllegalArgumentException if there is no structure of that name
     * @throws LayoutMismatchException  if the structure is not a shared table
     */
    public static SharedTable open(Segment segment, String name) {
        DirectoryEntry e = segment.lookup(name).orElseThrow(() -> new IllegalArgumentException(
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

    private static String describe(Segment segment) {
        List<DirectoryEntry> d = segment.directory();
        return d.isEmpty() ? " (it holds no structures)" : " (it holds: " + d.stream()
                .map(x -> "'" + x.name() + "' kind=0x" + Integer.toHexString(x.kind())).toList() + ")";
    }

    /**
     * Opens a table created in a raw range.
     *
     * @throws SegmentCorruptedException  if the range holds no table or an inconsistent one
     * @throws UnsupportedFormatException if the table has another format version
     */
    public static SharedTable open(MemorySegment memory, long offset, long length, String name) {
        if (offset < 0 || length < HEADER_BYTES || offset > memory.byteSize() - length || (offset & 63) != 0) {
            throw new IllegalArgumentException("table '" + name + "': range offset=" + offset + " length=" + length
                    + " is not a 64-byte aligned range of at least " + HEADER_BYTES + " bytes in memory of size="
                    + memory.byteSize());
        }
        awaitMagic(memory, offset, name);
        int version = memory.get(ValueLayout.JAVA_INT, offset + VERSION);
        if (version != FORMAT_VERSION) {
            throw new UnsupportedFormatException("table '" + name + "' has format version=" + version
                    + ", this library reads " + FORMAT_VERSION);
        }
        TableSchema schema = readSchema(memory, offset, name);
        long rowsN = memory.get(ValueLayout.JAVA_LONG, offset + ROWS);
        if (rowsN < 1 || rowsN > (1 << 30) || bytesNeeded(schema, (int) rowsN) > length
                || memory.get(ValueLayout.JAVA_INT, offset + VALUE_BYTES) != schema.valueBytes()
                || memory.get(ValueLayout.JAVA_INT, offset + STRIPES) != stripesFor((int) rowsN)
                || memory.get(ValueLayout.JAVA_LONG, offset + ROWS_AT) != rowsAt(stripesFor((int) rowsN),
                schema.valueBytes(), KeyIndex.bytesNeeded((int) rowsN))) {
            throw new SegmentCorruptedException("table '" + name + "' at offset=" + offset + ": header fields (rows="
                    + rowsN + ") do not match its schema or its range length=" + length);
        }
        return new SharedTable(name, memory, offset, length, schema);
    }

    private static void awaitMagic(MemorySegment m, long at, String name) {
        long deadline = System.nanoTime() + MAGIC_WAIT_NANOS;
        while (true) {
            long magic = (long) LONG.getAcquire(m, at + MAGIC); // acquire: pairs with init's release
            if (magic == MAGIC_VALUE) {
                return;
            }
            if (magic != 0) {
                throw new SegmentCorruptedException(String.format("no shared table '%s' at offset=%d: magic=0x%016x, "
                        + "expected 0x%016x", name, at, magic, MAGIC_VALUE));
            }
            if (System.nanoTime() - deadline > 0) {
                throw new SegmentCorruptedException("table '" + name + "' at offset=" + at + ": magic still 0 after 2 s;"
                        + " its creator died before finishing or the range is not a table");
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    private static TableSchema readSchema(MemorySegment m, long base, String name) {
        int n = m.get(ValueLayout.JAVA_INT, base + COLUMNS);
        int maxKey = m.get(ValueLayout.JAVA_INT, base + MAX_KEY);
        if (n < 1 || n > MAX_COLUMNS || maxKey < 1 || maxKey > MAX_KEY_LENGTH) {
            throw new SegmentCorruptedException("table '" + name + "' at offset=" + base + ": columns=" + n
                    + " maxKeyLength=" + maxKey + " out of range");
        }
        TableSchema.Builder b = TableSchema.builder(maxKey);
        for (int i = 0; i < n; i++) {
            long at = base + column(i);
            ColumnType type = ColumnType.ofCode(m.get(ValueLayout.JAVA_INT, at + C_TYPE));
            if (type == null) {
                throw new SegmentCorruptedException("table '" + name + "': column " + i + " has an unknown type code "
                        + m.get(ValueLayout.JAVA_INT, at + C_TYPE));
            }
            try {
                b.add(SegmentHeader.readString(m, at + C_NAME, C_NAME_BYTES), type, m.get(ValueLayout.JAVA_INT, at + C_SIZE));
            } catch (IllegalArgumentException ex) {
                throw new SegmentCorruptedException("table '" + name + "': column " + i + ": " + ex.getMessage());
            }
        }
        TableSchema schema = b.build();
        for (Column c : schema.columns()) {
            if (m.get(ValueLayout.JAVA_INT, base + column(c.index()) + C_OFFSET) != c.offset()) {
                throw new SegmentCorruptedException("table '" + name + "': column '" + c.name() + "' recorded at offset "
                        + m.get(ValueLayout.JAVA_INT, base + column(c.index()) + C_OFFSET) + ", its layout says " + c.offset());
            }
        }
        return schema;
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
        return index.size();
    }

    /** A new reusable row buffer for this table's schema (one per thread). */
    public RowView newRow() {
        return new RowView(schema);
    }

    // ------------------------------------------------------------------ keys and rows

    private long rowAt(int r) {
        return rows + r * rowBytes;
    }

    private long valuesAt(int r) {
        return rows + r * rowBytes + keyArea;
    }

    private long stripeAt(int r) {
        return stripes + (r & stripeMask) * stripeBytes;
    }

    /** Whether row {@code r} holds key {@code key[0..len)} now (tolerates torn reads: callers validate). */
    boolean keyEquals(int r, byte[] key, int len) {
        long at = rowAt(r);
        if (m.get(ValueLayout.JAVA_INT, at + R_KEY_LEN) != len) {
            return false;
        }
        at += R_KEY;
        int i = 0;
        for (; i + 8 <= len; i += 8) {
            if (m.get(SEG_LONG, at + i) != (long) ARRAY_LONG.get(key, i)) {
                return false;
            }
        }
        for (; i < len; i++) {
            if (m.get(ValueLayout.JAVA_BYTE, at + i) != key[i]) {
                return false;
            }
        }
        return true;
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
        p.table = this;
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
        if (c.index() >= schema.columns().size() || (schema.columns().get(c.index()) != c
                && !schema.columns().get(c.index()).equals(c))) {
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
        return get(prepare(ownView(into).probe, key, key.length), into);
    }

    /** {@link #get(byte[], RowView)} with a UTF-8 key. */
    public boolean get(String key, RowView into) {
        return get(prepare(ownView(into).probe, key), into);
    }

    private boolean get(Probe p, RowView into) {
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
    private int find(Probe p) {
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
            writer.unlock();
        }
    }

    /** A read-only opener cannot take the writer lock: it retries for a while, then says why it cannot go on. */
    private int findReadOnly(Probe p) {
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
    private boolean snapshot(int r, Probe p, RowView into) {
        long seqAt = rowAt(r) + R_SEQ;
        while (true) {
            long s = awaitEven(r);
            if (!keyEquals(r, p.key, p.length)) {
                return false;
            }
            copyOut(valuesAt(r), into.values);
            VarHandle.loadLoadFence(); // the copy's reads happen before the sequence re-read
            if ((long) LONG.getAcquire(m, seqAt) == s) {
                System.arraycopy(p.key, 0, into.key, 0, p.length);
                into.keyLength = p.length;
                into.dirty = 0;
                return true;
            }
        }
    }

    /** Copies a row's column area into a view's array, 8 bytes at a time (value bytes are a multiple of 8). */
    private void copyOut(long at, byte[] dst) {
        for (int i = 0; i < valueBytes; i += 8) {
            ARRAY_LONG.set(dst, i, m.get(ValueLayout.JAVA_LONG, at + i));
        }
    }

    /** Reads row r's sequence once it is even; rescues the row if its writer died. */
    private long awaitEven(int r) {
        long seqAt = rowAt(r) + R_SEQ;
        int spins = 0;
        long since = 0;
        long s;
        while (((s = (long) LONG.getAcquire(m, seqAt)) & 1) != 0) { // acquire: the row's reads stay after it
            if (++spins < ODD_SPINS) {
                Thread.onSpinWait();
                continue;
            }
            spins = 0;
            if (!m.isReadOnly()) {
                rescue(r & stripeMask);
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
    private void rescue(int stripe) {
        if (!releaseIfDead(stripe)) {
            Thread.yield(); // a live writer holds it: let it finish
        }
    }

    /** Whether the key is present. Lock-free. */
    public boolean exists(byte[] key) {
        return find(probe(key, key.length)) >= 0;
    }

    public boolean exists(String key) {
        return find(probe(key)) >= 0;
    }

    /** A numeric column's value as raw bits (int32 sign-extended), or {@code ifAbsent} if the key is absent. */
    private long readWord(Probe p, Column c, long ifAbsent) {
        while (true) {
            int r = find(p);
            if (r < 0) {
                return ifAbsent;
            }
            long seqAt = rowAt(r) + R_SEQ;
            long s = awaitEven(r);
            if (!keyEquals(r, p.key, p.length)) {
                continue;
            }
            long v = c.type() == ColumnType.INT32 ? m.get(ValueLayout.JAVA_INT, valuesAt(r) + c.offset())
                    : m.get(ValueLayout.JAVA_LONG, valuesAt(r) + c.offset());
            VarHandle.loadLoadFence(); // the value read happens before the sequence re-read
            if ((long) LONG.getAcquire(m, seqAt) == s) {
                return v;
            }
        }
    }

    /** An int32 or int64 column of the key's row, or {@code ifAbsent}. Lock-free, no allocation. */
    public long getLong(byte[] key, Column column, long ifAbsent) {
        return readWord(probe(key, key.length), integral(own(column)), ifAbsent);
    }

    public long getLong(String key, String column, long ifAbsent) {
        return readWord(probe(key), integral(columnNamed(column)), ifAbsent);
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
        return Double.longBitsToDouble(readWord(p, c, none));
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
     */
    public void forEach(Consumer<RowView> visitor) {
        RowView v = newRow();
        RowIs live = new RowIs();
        long hw = (long) LONG.getAcquire(m, base + HIGH_WATER);
        for (int r = 0; r < hw; r++) {
            live.row = r;
            // a row with a key is visited only if the index has it: not one an inserter is still
            // writing (or died writing) before publishing it
            if (snapshotAny(r, v) && find(KeyHash.hash(seed, v.key, v.keyLength), live) == r) {
                visitor.accept(v);
            }
        }
    }

    /** Matches exactly one row (iteration's liveness check). */
    private static final class RowIs implements KeyIndex.Matcher {
        int row;

        @Override
        public boolean matches(int entry) {
            return entry == row;
        }
    }

    private int find(long hash, KeyIndex.Matcher matcher) {
        int r = index.find(hash, matcher);
        if (r != KeyIndex.UNSETTLED || m.isReadOnly()) {
            return r;
        }
        lockWriter();
        try {
            long slot = index.findSlot(hash, matcher);
            return slot < 0 ? -1 : index.entryAt(slot);
        } finally {
            writer.unlock();
        }
    }

    private boolean snapshotAny(int r, RowView into) {
        long at = rowAt(r);
        while (true) {
            long s = awaitEven(r);
            int len = m.get(ValueLayout.JAVA_INT, at + R_KEY_LEN);
            if (len < 1 || len > maxKey) {
                return false;
            }
            MemorySegment.copy(m, ValueLayout.JAVA_BYTE, at + R_KEY, into.key, 0, len);
            MemorySegment.copy(m, at + keyArea, into.segment, 0, valueBytes);
            VarHandle.loadLoadFence(); // the copies happen before the sequence re-read
            if ((long) LONG.getAcquire(m, at + R_SEQ) == s) {
                into.keyLength = len;
                into.dirty = 0;
                // a free row's key length is 0; a row still in the index is live
                return true;
            }
        }
    }

    // ------------------------------------------------------------------ writes

    /** Upsert: a new row starts zeroed; an existing row changes only the columns set on {@code values}. */
    public WriteResult set(byte[] key, RowView values) {
        return write(viewOp(probe(key, key.length), values), true, true);
    }

    public WriteResult set(String key, RowView values) {
        return write(viewOp(probe(key), values), true, true);
    }

    /** Inserts only if the key is absent ({@link WriteResult#EXISTS} otherwise). */
    public WriteResult add(byte[] key, RowView values) {
        return write(viewOp(probe(key, key.length), values), true, false);
    }

    public WriteResult add(String key, RowView values) {
        return write(viewOp(probe(key), values), true, false);
    }

    /** Writes only if the key is present ({@link WriteResult#ABSENT} otherwise). */
    public WriteResult update(byte[] key, RowView values) {
        return write(viewOp(probe(key, key.length), values), false, true);
    }

    public WriteResult update(String key, RowView values) {
        return write(viewOp(probe(key), values), false, true);
    }

    private Probe viewOp(Probe p, RowView v) {
        p.op = Probe.OP_VIEW;
        p.view = ownView(v);
        return p;
    }

    /** Sets one int32 or int64 column (upsert). */
    public WriteResult setLong(byte[] key, Column column, long value) {
        return write(wordOp(probe(key, key.length), own(column), value), true, true);
    }

    public WriteResult setLong(String key, String column, long value) {
        return write(wordOp(probe(key), columnNamed(column), value), true, true);
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
        return write(p, true, true);
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
        return write(p, true, true);
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
        if (write(p, true, true) == WriteResult.FULL) {
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
        if (write(p, true, true) == WriteResult.FULL) {
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
        write(p, false, true);
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
        write(p, false, true);
        return p.ok;
    }

    /** Deletes the key's row; false if absent. */
    public boolean delete(byte[] key) {
        return delete(probe(key, key.length), null);
    }

    public boolean delete(String key) {
        return delete(probe(key), null);
    }

    /** Copies the key's row into {@code into}, then deletes it; false if absent (view untouched). */
    public boolean getAndDelete(byte[] key, RowView into) {
        return delete(prepare(ownView(into).probe, key, key.length), into);
    }

    public boolean getAndDelete(String key, RowView into) {
        return delete(prepare(ownView(into).probe, key), into);
    }

    // ------------------------------------------------------------------ write paths

    private WriteResult write(Probe p, boolean mayInsert, boolean mayUpdate) {
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
                    stripeLocks[s].unlock();
                }
                // the row was deleted (and maybe reused) meanwhile: look again
            }
        }
        return writeSlowPath(p, mayInsert, mayUpdate);
    }

    private WriteResult writeSlowPath(Probe p, boolean mayInsert, boolean mayUpdate) {
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
                    stripeLocks[s].unlock();
                }
                return WriteResult.UPDATED;
            }
            if (!mayInsert) {
                return WriteResult.ABSENT;
            }
            return insert(p) ? WriteResult.INSERTED : WriteResult.FULL;
        } finally {
            writer.unlock();
        }
    }

    /** Under the row's stripe lock, the row holding the key: performs the operation. */
    private void applyExisting(int r, Probe p) {
        Column c = p.column;
        long vals = valuesAt(r);
        switch (p.op) {
            case Probe.OP_VIEW -> writeImage(r, p.view);
            case Probe.OP_BYTES -> writeBytesImage(r, c, p.bytes);
            case Probe.OP_WORD -> writeWord(r, c, p.bits);
            case Probe.OP_INCR -> {
                long v = (c.type() == ColumnType.INT32 ? (long) (int) (m.get(ValueLayout.JAVA_INT, vals + c.offset()) + (int) p.bits)
                        : m.get(ValueLayout.JAVA_LONG, vals + c.offset()) + p.bits);
                writeWord(r, c, v);
                p.result = v;
            }
            case Probe.OP_INCR_FLOAT -> {
                double v = m.get(ValueLayout.JAVA_DOUBLE, vals + c.offset()) + p.delta;
                writeWord(r, c, Double.doubleToRawLongBits(v));
                p.result = Double.doubleToRawLongBits(v);
            }
            case Probe.OP_CAS_WORD -> {
                long cur = c.type() == ColumnType.INT32 ? m.get(ValueLayout.JAVA_INT, vals + c.offset())
                        : m.get(ValueLayout.JAVA_LONG, vals + c.offset());
                p.ok = cur == p.expect;
                if (p.ok) {
                    writeWord(r, c, p.bits);
                }
            }
            case Probe.OP_CAS_BYTES -> {
                int len = m.get(ValueLayout.JAVA_INT, vals + c.offset());
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
            m.set(ValueLayout.JAVA_LONG, st + S_UPDATES, m.get(ValueLayout.JAVA_LONG, st + S_UPDATES) + 1);
        }
    }

    /** One column of at most 8 bytes: a single store inside the row's odd sequence (old or new value on death). */
    private void writeWord(int r, Column c, long bits) {
        long seqAt = rowAt(r) + R_SEQ;
        long seq = m.get(ValueLayout.JAVA_LONG, seqAt);
        m.set(ValueLayout.JAVA_LONG, seqAt, seq + 1);
        VarHandle.storeStoreFence(); // readers see the odd sequence before the new value
        putWord(valuesAt(r) + c.offset(), c, bits);
        LONG.setRelease(m, seqAt, seq + 2); // release: the new value is visible with the even sequence
    }

    private void putWord(long at, Column c, long bits) {
        if (c.type() == ColumnType.INT32) {
            m.set(ValueLayout.JAVA_INT, at, (int) bits);
        } else {
            m.set(ValueLayout.JAVA_LONG, at, bits);
        }
    }

    /** Several columns: the new column area is built in the stripe's redo log, committed, then copied in. */
    private void writeImage(int r, RowView v) {
        long img = stripeAt(r) + S_IMAGE;
        MemorySegment.copy(m, valuesAt(r), m, img, valueBytes);
        long dirty = v.dirty;
        List<Column> cols = schema.columns();
        while (dirty != 0) {
            Column c = cols.get(Long.numberOfTrailingZeros(dirty));
            dirty &= dirty - 1;
            MemorySegment.copy(v.segment, c.offset(), m, img + c.offset(), c.width());
        }
        commitImage(r);
    }

    private void writeBytesImage(int r, Column c, byte[] value) {
        long img = stripeAt(r) + S_IMAGE;
        MemorySegment.copy(m, valuesAt(r), m, img, valueBytes);
        putBytes(img + c.offset(), c, value);
        commitImage(r);
    }

    private void putBytes(long at, Column c, byte[] value) {
        m.set(ValueLayout.JAVA_INT, at, value.length);
        MemorySegment.copy(value, 0, m, ValueLayout.JAVA_BYTE, at + LENGTH_PREFIX, value.length);
        m.asSlice(at + LENGTH_PREFIX + value.length, c.size() - value.length).fill((byte) 0);
    }

    private void commitImage(int r) {
        long st = stripeAt(r);
        // the commit point: from here a repair replays the image (plain: read only by a lock holder)
        m.set(ValueLayout.JAVA_LONG, st + S_LOG_ROW, r);
        applyLog(st, r);
        m.set(ValueLayout.JAVA_LONG, st + S_LOG_ROW, LOG_EMPTY);
    }

    /** Copies the stripe's image into row r inside an odd sequence. */
    private void applyLog(long st, int r) {
        long seqAt = rowAt(r) + R_SEQ;
        long seq = m.get(ValueLayout.JAVA_LONG, seqAt) | 1;   // odd (already odd if a writer died mid-copy)
        m.set(ValueLayout.JAVA_LONG, seqAt, seq);
        VarHandle.storeStoreFence(); // readers see the odd sequence before the copy
        MemorySegment.copy(m, st + S_IMAGE, m, valuesAt(r), valueBytes);
        LONG.setRelease(m, seqAt, seq + 1); // release: the copy is visible with the even sequence
    }

    /** Under the writer lock: takes a free row, writes key and values, publishes it. False if full. */
    private boolean insert(Probe p) {
        int r = allocRow();
        if (r < 0) {
            return false;
        }
        int s = r & stripeMask;
        lockStripe(s);
        try {
            long at = rowAt(r);
            long seq = m.get(ValueLayout.JAVA_LONG, at + R_SEQ) | 1;
            m.set(ValueLayout.JAVA_LONG, at + R_SEQ, seq);
            VarHandle.storeStoreFence(); // a stale reader of this row sees the odd sequence first
            m.set(ValueLayout.JAVA_INT, at + R_KEY_LEN, p.length);
            MemorySegment.copy(p.key, 0, m, ValueLayout.JAVA_BYTE, at + R_KEY, p.length);
            long vals = at + keyArea;
            m.asSlice(vals, valueBytes).fill((byte) 0);
            Column c = p.column;
            switch (p.op) {
                case Probe.OP_VIEW -> {
                    long dirty = p.view.dirty;
                    List<Column> cols = schema.columns();
                    while (dirty != 0) {
                        Column d = cols.get(Long.numberOfTrailingZeros(dirty));
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
            LONG.setRelease(m, at + R_SEQ, seq + 1);
            index.insert(p.hash, r); // the commit point: one release store publishes the row
            m.set(ValueLayout.JAVA_LONG, base + INSERTS, m.get(ValueLayout.JAVA_LONG, base + INSERTS) + 1);
        } finally {
            stripeLocks[s].unlock();
        }
        return true;
    }

    private int allocRow() {
        long head = m.get(ValueLayout.JAVA_LONG, base + FREE_HEAD);
        if (head >= 0) {
            if (head >= capacity) {
                throw new SegmentCorruptedException("table '" + name + "': free list head=" + head + " outside 0.."
                        + (capacity - 1));
            }
            m.set(ValueLayout.JAVA_LONG, base + FREE_HEAD, (long) m.get(ValueLayout.JAVA_INT, rowAt((int) head) + R_NEXT));
            return (int) head;
        }
        long hw = m.get(ValueLayout.JAVA_LONG, base + HIGH_WATER);
        if (hw < capacity && index.size() < capacity) {
            LONG.setRelease(m, base + HIGH_WATER, hw + 1); // release: iterators read it with acquire
            return (int) hw;
        }
        return -1;
    }

    private boolean delete(Probe p, RowView into) {
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
                long seq = m.get(ValueLayout.JAVA_LONG, at + R_SEQ) | 1;
                m.set(ValueLayout.JAVA_LONG, at + R_SEQ, seq);
                VarHandle.storeStoreFence(); // readers see the odd sequence before the key goes
                m.set(ValueLayout.JAVA_INT, at + R_KEY_LEN, 0); // the delete's linearisation point
                LONG.setRelease(m, at + R_SEQ, seq + 1);
                index.removeAt(slot);
                m.set(ValueLayout.JAVA_INT, at + R_NEXT, (int) m.get(ValueLayout.JAVA_LONG, base + FREE_HEAD));
                m.set(ValueLayout.JAVA_LONG, base + FREE_HEAD, r);
                m.set(ValueLayout.JAVA_LONG, base + DELETES, m.get(ValueLayout.JAVA_LONG, base + DELETES) + 1);
            } finally {
                stripeLocks[s].unlock();
            }
            return true;
        } finally {
            writer.unlock();
        }
    }

    // ------------------------------------------------------------------ locks and repair

    private void lockWriter() {
        if (writer.lock() == LockResult.OWNER_DIED) {
            repairTable();
            writer.markConsistent();
        }
    }

    private void lockStripe(int s) {
        ShmMutex lock = stripeLocks[s];
        if (lock.lock() == LockResult.OWNER_DIED) {
            repairStripe(s);
            lock.markConsistent();
        }
    }

    /** Stripe lock held after OWNER_DIED: replay a committed image, make every odd row of the stripe even. */
    private void repairStripe(int s) {
        long st = stripes + s * stripeBytes;
        long log = m.get(ValueLayout.JAVA_LONG, st + S_LOG_ROW);
        if (log != LOG_EMPTY) {
            if (log < 0 || log >= capacity || (log & stripeMask) != s) {
                throw new SegmentCorruptedException("table '" + name + "': stripe " + s + " logs row " + log
                        + ", not a row of this stripe");
            }
            applyLog(st, (int) log);
            m.set(ValueLayout.JAVA_LONG, st + S_LOG_ROW, LOG_EMPTY);
        }
        long hw = Math.min(capacity, (long) LONG.getAcquire(m, base + HIGH_WATER));
        for (long r = s; r < hw; r += stripeMask + 1) {
            long seqAt = rowAt((int) r) + R_SEQ;
            long seq = (long) LONG.getAcquire(m, seqAt);
            if ((seq & 1) != 0) {
                LONG.setRelease(m, seqAt, seq + 1); // the single store or key change it covered is old or new
            }
        }
        LONG.getAndAdd(m, base + REPAIRS, 1L);
    }

    /**
     * Writer lock held after OWNER_DIED: complete the key index's interrupted delete, remove
     * index entries of rows a dead deleter already freed, free rows a dead inserter did not
     * publish, and rebuild the free list from the index (the source of truth for live rows).
     */
    private void repairTable() {
        index.repair();
        long hw = m.get(ValueLayout.JAVA_LONG, base + HIGH_WATER);
        if (hw < 0 || hw > capacity) {
            throw new SegmentCorruptedException("table '" + name + "': high water=" + hw + " outside 0.." + capacity);
        }
        java.util.BitSet live = new java.util.BitSet((int) hw);
        for (long slot = 0; slot < index.slots(); ) {
            int e = index.entryAt(slot);
            if (e >= hw) {
                throw new SegmentCorruptedException("table '" + name + "': index bucket " + slot + " names row " + e
                        + " above the high water mark " + hw);
            }
            if (e >= 0 && m.get(ValueLayout.JAVA_INT, rowAt(e) + R_KEY_LEN) == 0) {
                index.removeAt(slot); // a delete that died after freeing the row: finish it (re-examine this bucket)
                continue;
            }
            if (e >= 0) {
                live.set(e);
            }
            slot++;
        }
        for (int s = 0; s <= stripeMask; s++) {
            boolean work = false;
            for (long r = s; r < hw && !work; r += stripeMask + 1) {
                work = !live.get((int) r) && m.get(ValueLayout.JAVA_INT, rowAt((int) r) + R_KEY_LEN) != 0;
            }
            if (!work) {
                releaseIfDead(s); // the dead writer may have held this stripe too (an insert cut short)
                continue;
            }
            lockStripe(s);
            try {
                for (long r = s; r < hw; r += stripeMask + 1) {
                    long at = rowAt((int) r);
                    if (!live.get((int) r) && m.get(ValueLayout.JAVA_INT, at + R_KEY_LEN) != 0) {
                        long seq = m.get(ValueLayout.JAVA_LONG, at + R_SEQ) | 1;
                        m.set(ValueLayout.JAVA_LONG, at + R_SEQ, seq);
                        VarHandle.storeStoreFence(); // a stale reader sees the odd sequence first
                        m.set(ValueLayout.JAVA_INT, at + R_KEY_LEN, 0); // an insert that died before publishing
                        LONG.setRelease(m, at + R_SEQ, seq + 1);
                    }
                }
            } finally {
                stripeLocks[s].unlock();
            }
        }
        long head = -1;
        for (long r = hw - 1; r >= 0; r--) {
            if (!live.get((int) r)) {
                m.set(ValueLayout.JAVA_INT, rowAt((int) r) + R_NEXT, (int) head);
                head = r;
            }
        }
        m.set(ValueLayout.JAVA_LONG, base + FREE_HEAD, head);
        LONG.getAndAdd(m, base + REPAIRS, 1L);
    }

    /**
     * Takes a stripe lock only if it is free or its owner is dead (repairing then), and lets it
     * go at once; false if a live owner holds it. Never waits.
     */
    private boolean releaseIfDead(int s) {
        ShmMutex lock = stripeLocks[s];
        if (!lock.isLocked() && lock.isConsistent()) {
            return true;
        }
        LockResult res = lock.tryLock();
        if (!res.acquired()) {
            return false;
        }
        try {
            if (res == LockResult.OWNER_DIED) {
                repairStripe(s);
                lock.markConsistent();
            }
        } finally {
            lock.unlock();
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
    public void verify() {
        lockWriter();
        try {
            long hw = m.get(ValueLayout.JAVA_LONG, base + HIGH_WATER);
            index.verify(e -> {
                int len = m.get(ValueLayout.JAVA_INT, rowAt(e) + R_KEY_LEN);
                if (len < 1 || len > maxKey || e >= hw) {
                    throw corrupt("row " + e + " is in the key index but has key length " + len
                            + (e >= hw ? " and is above the high water mark " + hw : ""));
                }
                return KeyHash.hash(seed, m, rowAt(e) + R_KEY, len);
            });
            java.util.BitSet live = new java.util.BitSet((int) hw);
            for (long slot = 0; slot < index.slots(); slot++) {
                int e = index.entryAt(slot);
                if (e >= 0) {
                    live.set(e);
                }
            }
            java.util.BitSet free = new java.util.BitSet((int) hw);
            long n = 0;
            for (long r = m.get(ValueLayout.JAVA_LONG, base + FREE_HEAD); r != -1;
                 r = m.get(ValueLayout.JAVA_INT, rowAt((int) r) + R_NEXT)) {
                if (r < 0 || r >= hw || free.get((int) r) || live.get((int) r) || ++n > hw) {
                    throw corrupt("free list reaches row " + r + " (live, listed twice, or outside 0.." + (hw - 1) + ")");
                }
                free.set((int) r);
                if (m.get(ValueLayout.JAVA_INT, rowAt((int) r) + R_KEY_LEN) != 0) {
                    throw corrupt("free row " + r + " has a key");
                }
            }
            if (live.cardinality() + free.cardinality() != hw) {
                throw corrupt((hw - live.cardinality() - free.cardinality()) + " rows below the high water mark " + hw
                        + " are neither live nor free");
            }
            for (int s = 0; s <= stripeMask; s++) {
                ShmMutex lock = stripeLocks[s];
                LockResult res = lock.tryLock();
                if (!res.acquired()) {
                    continue;
                }
                try {
                    if (res == LockResult.OWNER_DIED) {
                        repairStripe(s);
                        lock.markConsistent();
                    }
                    if (m.get(ValueLayout.JAVA_LONG, stripes + s * stripeBytes + S_LOG_ROW) != LOG_EMPTY) {
                        throw corrupt("stripe " + s + " has a redo log entry while nobody holds it");
                    }
                    for (long r = s; r < hw; r += stripeMask + 1) {
                        if ((m.get(ValueLayout.JAVA_LONG, rowAt((int) r) + R_SEQ) & 1) != 0) {
                            throw corrupt("row " + r + " has an odd sequence while nobody holds its stripe");
                        }
                    }
                } finally {
                    lock.unlock();
                }
            }
        } finally {
            writer.unlock();
        }
    }

    private SegmentCorruptedException corrupt(String what) {
        return new SegmentCorruptedException("table '" + name + "' at offset=" + base + ": " + what);
    }

    // ------------------------------------------------------------------ statistics

    /** Rows, capacity, memory and counters; cheap (no lock; one {@code mincore} call over the range). */
    public TableStats stats() {
        long updates = 0;
        for (int s = 0; s <= stripeMask; s++) {
            updates += m.get(ValueLayout.JAVA_LONG, stripes + s * stripeBytes + S_UPDATES);
        }
        return new TableStats(index.size(), capacity, length, Residency.residentBytes(m, base, length),
                m.get(ValueLayout.JAVA_LONG, base + INSERTS), updates, m.get(ValueLayout.JAVA_LONG, base + DELETES),
                index.longestProbe(), (long) LONG.getAcquire(m, base + REPAIRS));
    }

    /** Whether the writer lock or any stripe lock is held right now (by anybody, alive or dead): for tests and tools. */
    public boolean anyLockHeld() {
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

    @Override
    public String toString() {
        return "SharedTable[" + name + ", rows=" + count() + "/" + capacity + ", " + schema + "]";
    }
}
