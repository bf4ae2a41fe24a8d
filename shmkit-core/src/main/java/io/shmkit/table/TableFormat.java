package io.shmkit.table;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.UnsupportedFormatException;
import io.shmkit.internal.SegmentHeader;
import io.shmkit.internal.index.KeyIndex;
import io.shmkit.sync.ShmMutex;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

import static io.shmkit.internal.SharedTableLayout.*;

/**
 * Creation and validation of a {@link SharedTable}'s range (layout:
 * {@link io.shmkit.internal.SharedTableLayout}): writing a new header, schema, locks and index,
 * and checking an existing one, including the schema stored in it. Package-private.
 */
final class TableFormat {

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final long MAGIC_WAIT_NANOS = 2_000_000_000L;

    private TableFormat() {
    }

    /** Writes a new table's header, locks and index into a range; the magic last (release). */
    static void init(String name, MemorySegment m, long base, long length, TableSchema schema, int rows,
                     boolean zeroed) {
        long need = SharedTable.bytesNeeded(schema, rows);
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
    }

    private static String truncateName(String name) {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        return b.length <= NAME_BYTES ? name : new String(b, 0, NAME_BYTES, StandardCharsets.UTF_8).replace("\uFFFD", "");
    }

    /**
     * Checks that a raw range holds a complete table of this format and returns its schema.
     *
     * @throws SegmentCorruptedException  if the range holds no table or an inconsistent one
     * @throws UnsupportedFormatException if the table has another format version
     */
    static TableSchema validate(MemorySegment memory, long offset, long length, String name) {
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
        if (rowsN < 1 || rowsN > (1 << 30) || SharedTable.bytesNeeded(schema, (int) rowsN) > length
                || memory.get(ValueLayout.JAVA_INT, offset + VALUE_BYTES) != schema.valueBytes()
                || memory.get(ValueLayout.JAVA_INT, offset + STRIPES) != stripesFor((int) rowsN)
                || memory.get(ValueLayout.JAVA_LONG, offset + ROWS_AT) != rowsAt(stripesFor((int) rowsN),
                schema.valueBytes(), KeyIndex.bytesNeeded((int) rowsN))) {
            throw new SegmentCorruptedException("table '" + name + "' at offset=" + offset + ": header fields (rows="
                    + rowsN + ") do not match its schema or its range length=" + length);
        }
        return schema;
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
}
