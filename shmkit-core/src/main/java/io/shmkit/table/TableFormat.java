package io.shmkit.table;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.UnsupportedFormatException;
import io.shmkit.internal.Formats;
import io.shmkit.internal.Mem;
import io.shmkit.internal.SegmentHeader;
import io.shmkit.internal.index.KeyIndex;
import io.shmkit.sync.ShmMutex;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static io.shmkit.internal.SharedTableLayout.*;

/**
 * Creation and validation of a {@link SharedTable}'s range (layout:
 * {@link io.shmkit.internal.SharedTableLayout}): writing a new header, schema, locks and index,
 * and checking an existing one, including the schema stored in it. Package-private.
 */
final class TableFormat {

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
        Mem.setInt(m, base + OFF_COLUMNS, schema.columns().size());
        Mem.setLong(m, base + OFF_ROWS, rows);
        Mem.setInt(m, base + OFF_MAX_KEY, schema.maxKeyLength());
        Mem.setInt(m, base + OFF_ROW_BYTES, (int) rowBytes(schema.maxKeyLength(), vb));
        Mem.setInt(m, base + OFF_VALUE_BYTES, (int) vb);
        Mem.setInt(m, base + OFF_STRIPES, stripeCount);
        Mem.setLong(m, base + OFF_SEED, new java.security.SecureRandom().nextLong());
        Mem.setLong(m, base + OFF_STRIPES_AT, stripesAt());
        Mem.setLong(m, base + OFF_INDEX_AT, indexAt);
        Mem.setLong(m, base + OFF_ROWS_AT, rowsAt);
        SegmentHeader.writeString(m, base + OFF_NAME, NAME_BYTES, truncateName(name));
        Mem.setLong(m, base + OFF_FREE_HEAD, -1L);
        for (Column c : schema.columns()) {
            long at = base + column(c.index());
            SegmentHeader.writeString(m, at + ColumnEntry.OFF_NAME, ColumnEntry.NAME_BYTES, c.name());
            Mem.setInt(m, at + ColumnEntry.OFF_TYPE, c.type().code);
            Mem.setInt(m, at + ColumnEntry.OFF_SIZE, c.size());
            Mem.setInt(m, at + ColumnEntry.OFF_OFFSET, c.offset());
        }
        ShmMutex.create(m, base + OFF_WRITER_LOCK);
        long sb = stripeBytes(vb);
        for (int s = 0; s < stripeCount; s++) {
            long at = base + stripesAt() + s * sb;
            ShmMutex.create(m, at + Stripe.OFF_LOCK);
            Mem.setLong(m, at + Stripe.OFF_LOG_ROW, LOG_ROW_EMPTY);
        }
        KeyIndex.create(m, base + indexAt, rowsAt - indexAt, rows, zeroed);
        // the magic last (release): an opener that sees it sees the complete table
        Formats.publish(m, base + OFF_MAGIC, MAGIC, base + OFF_FORMAT, FORMAT);
    }

    private static String truncateName(String name) {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        return b.length <= NAME_BYTES ? name : new String(b, 0, NAME_BYTES, StandardCharsets.UTF_8).replace("\uFFFD", "");
    }

    /**
     * Checks that a raw range holds a complete table of this format and returns its schema.
     *
     * @throws SegmentCorruptedException  if the range holds no table or an inconsistent one
     * @throws UnsupportedFormatException if the table has another format (or the legacy magic of format 1)
     */
    static TableSchema validate(MemorySegment memory, long offset, long length, String name) {
        if (offset < 0 || length < HEADER_BYTES || offset > memory.byteSize() - length || (offset & 63) != 0) {
            throw new IllegalArgumentException("table '" + name + "': range offset=" + offset + " length=" + length
                    + " is not a 64-byte aligned range of at least " + HEADER_BYTES + " bytes in memory of size="
                    + memory.byteSize());
        }
        awaitMagic(memory, offset, name);
        Formats.check(memory, offset + OFF_MAGIC, MAGIC, offset + OFF_FORMAT, FORMAT,
                "shared table '" + name + "' at offset=" + offset, LEGACY_MAGIC_1);
        TableSchema schema = readSchema(memory, offset, name);
        long rowsN = Mem.getLong(memory, offset + OFF_ROWS);
        if (rowsN < 1 || rowsN > (1 << 30) || SharedTable.bytesNeeded(schema, (int) rowsN) > length) {
            throw new SegmentCorruptedException("table '" + name + "' at offset=" + offset + ": rows=" + rowsN
                    + " is outside 1.." + (1 << 30) + " or does not fit its range length=" + length);
        }
        // every derived field the store computes addresses from is checked against the schema and
        // the row count, so that no damaged word can move a row, stripe or index outside the range
        int rows = (int) rowsN;
        long vb = schema.valueBytes();
        int stripes = stripesFor(rows);
        expect(offset, name, "valueBytes", Mem.getInt(memory, offset + OFF_VALUE_BYTES), vb);
        expect(offset, name, "rowBytes", Mem.getInt(memory, offset + OFF_ROW_BYTES),
                rowBytes(schema.maxKeyLength(), vb));
        expect(offset, name, "stripes", Mem.getInt(memory, offset + OFF_STRIPES), stripes);
        expect(offset, name, "stripesAt", Mem.getLong(memory, offset + OFF_STRIPES_AT), stripesAt());
        expect(offset, name, "indexAt", Mem.getLong(memory, offset + OFF_INDEX_AT), indexAt(stripes, vb));
        expect(offset, name, "rowsAt", Mem.getLong(memory, offset + OFF_ROWS_AT),
                rowsAt(stripes, vb, KeyIndex.bytesNeeded(rows)));
        return schema;
    }

    private static void expect(long offset, String name, String field, long found, long expected) {
        if (found != expected) {
            throw new SegmentCorruptedException("table '" + name + "' at offset=" + offset + ": header field " + field
                    + "=" + found + " does not match its schema and rows (expected " + expected + ")");
        }
    }

    /** Waits (bounded) until a creator has published the magic; Formats.check then reads it. */
    private static void awaitMagic(MemorySegment m, long at, String name) {
        long deadline = System.nanoTime() + MAGIC_WAIT_NANOS;
        while (!Formats.published(m, at + OFF_MAGIC)) { // acquire: pairs with init's release
            if (System.nanoTime() - deadline > 0) {
                throw new SegmentCorruptedException("table '" + name + "' at offset=" + at + ": magic still 0 after 2 s;"
                        + " its creator died before finishing or the range is not a table");
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    private static TableSchema readSchema(MemorySegment m, long base, String name) {
        int n = Mem.getInt(m, base + OFF_COLUMNS);
        int maxKey = Mem.getInt(m, base + OFF_MAX_KEY);
        if (n < 1 || n > MAX_COLUMNS || maxKey < 1 || maxKey > MAX_KEY_LENGTH) {
            throw new SegmentCorruptedException("table '" + name + "' at offset=" + base + ": columns=" + n
                    + " maxKeyLength=" + maxKey + " out of range");
        }
        TableSchema.Builder b = TableSchema.builder(maxKey);
        for (int i = 0; i < n; i++) {
            long at = base + column(i);
            ColumnType type = ColumnType.ofCode(Mem.getInt(m, at + ColumnEntry.OFF_TYPE));
            if (type == null) {
                throw new SegmentCorruptedException("table '" + name + "': column " + i + " has an unknown type code "
                        + Mem.getInt(m, at + ColumnEntry.OFF_TYPE));
            }
            try {
                b.add(SegmentHeader.readString(m, at + ColumnEntry.OFF_NAME, ColumnEntry.NAME_BYTES), type, Mem.getInt(m, at + ColumnEntry.OFF_SIZE));
            } catch (IllegalArgumentException ex) {
                throw new SegmentCorruptedException("table '" + name + "': column " + i + ": " + ex.getMessage());
            }
        }
        TableSchema schema = b.build();
        for (Column c : schema.columns()) {
            if (Mem.getInt(m, base + column(c.index()) + ColumnEntry.OFF_OFFSET) != c.offset()) {
                throw new SegmentCorruptedException("table '" + name + "': column '" + c.name() + "' recorded at offset "
                        + Mem.getInt(m, base + column(c.index()) + ColumnEntry.OFF_OFFSET) + ", its layout says " + c.offset());
            }
        }
        return schema;
    }
}
