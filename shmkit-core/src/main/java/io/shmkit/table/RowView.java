package io.shmkit.table;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * A reusable, single-thread buffer for one row of a {@link SharedTable}: {@link SharedTable#get}
 * copies a consistent row into it (no Java heap allocation), and {@link SharedTable#set} writes
 * the columns set on it since the last {@link #clear()} (other columns of an existing row are
 * left as they are; a new row starts zeroed). Obtain one per thread with
 * {@link SharedTable#newRow()}. Not thread-safe.
 *
 * <p>Type errors are {@link IllegalArgumentException}s naming the column: reading or writing a
 * column with another type's method, or a value longer than a string or bytes column.
 */
public final class RowView {

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED;

    private final TableSchema schema;
    final byte[] values;
    final MemorySegment segment;
    final byte[] key;
    int keyLength;
    long dirty;
    final Probe probe;

    RowView(TableSchema schema) {
        this.schema = schema;
        this.values = new byte[schema.valueBytes()];
        this.segment = MemorySegment.ofArray(values);
        this.key = new byte[schema.maxKeyLength()];
        this.probe = new Probe(schema.maxKeyLength());
    }

    public TableSchema schema() {
        return schema;
    }

    /** Zeroes every column and forgets which were set. */
    public RowView clear() {
        java.util.Arrays.fill(values, (byte) 0);
        dirty = 0;
        return this;
    }

    /** The key of the row last read into this view (a copy). */
    public byte[] key() {
        return java.util.Arrays.copyOf(key, keyLength);
    }

    /** The key of the row last read, decoded as UTF-8. */
    public String keyString() {
        return new String(key, 0, keyLength, StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------ read

    public int getInt(Column c) {
        return segment.get(INT, check(c, ColumnType.INT32).offset());
    }

    public long getLong(Column c) {
        return segment.get(LONG, check(c, ColumnType.INT64).offset());
    }

    public double getDouble(Column c) {
        return segment.get(DOUBLE, check(c, ColumnType.FLOAT64).offset());
    }

    /** A string column's text (a string or bytes column's bytes decoded as UTF-8). */
    public String getString(Column c) {
        checkVar(c);
        return new String(values, c.offset() + 4, length(c), StandardCharsets.UTF_8);
    }

    /** A string or bytes column's bytes (a copy). */
    public byte[] getBytes(Column c) {
        checkVar(c);
        return java.util.Arrays.copyOfRange(values, c.offset() + 4, c.offset() + 4 + length(c));
    }

    /** Copies a string or bytes column's bytes into {@code dst} (no allocation); returns their number. */
    public int getBytes(Column c, byte[] dst) {
        checkVar(c);
        int n = length(c);
        System.arraycopy(values, c.offset() + 4, dst, 0, n);
        return n;
    }

    /** Any column as text: numbers in decimal, strings as they are, bytes in hex (for tools). */
    public String format(Column c) {
        return switch (c.type()) {
            case INT32 -> Integer.toString(getInt(c));
            case INT64 -> Long.toString(getLong(c));
            case FLOAT64 -> Double.toString(getDouble(c));
            case STRING -> getString(c);
            case BYTES -> java.util.HexFormat.of().formatHex(getBytes(c));
        };
    }

    public int getInt(String column) {
        return getInt(schema.column(column));
    }

    public long getLong(String column) {
        return getLong(schema.column(column));
    }

    public double getDouble(String column) {
        return getDouble(schema.column(column));
    }

    public String getString(String column) {
        return getString(schema.column(column));
    }

    public byte[] getBytes(String column) {
        return getBytes(schema.column(column));
    }

    // ------------------------------------------------------------------ write

    public RowView setInt(Column c, int v) {
        segment.set(INT, check(c, ColumnType.INT32).offset(), v);
        return mark(c);
    }

    public RowView setLong(Column c, long v) {
        segment.set(LONG, check(c, ColumnType.INT64).offset(), v);
        return mark(c);
    }

    public RowView setDouble(Column c, double v) {
        segment.set(DOUBLE, check(c, ColumnType.FLOAT64).offset(), v);
        return mark(c);
    }

    /**
     * @throws IllegalArgumentException if the text's UTF-8 bytes exceed the column's size (never truncated)
     */
    public RowView setString(Column c, String v) {
        check(c, ColumnType.STRING);
        return putBytes(c, v.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Sets a bytes (or string) column.
     *
     * @throws IllegalArgumentException if {@code v} is longer than the column (never truncated)
     */
    public RowView setBytes(Column c, byte[] v) {
        checkVar(c);
        return putBytes(c, v);
    }

    public RowView setInt(String column, int v) {
        return setInt(schema.column(column), v);
    }

    public RowView setLong(String column, long v) {
        return setLong(schema.column(column), v);
    }

    public RowView setDouble(String column, double v) {
        return setDouble(schema.column(column), v);
    }

    public RowView setString(String column, String v) {
        return setString(schema.column(column), v);
    }

    public RowView setBytes(String column, byte[] v) {
        return setBytes(schema.column(column), v);
    }

    private RowView putBytes(Column c, byte[] v) {
        checkLength(c, v.length);
        segment.set(INT, c.offset(), v.length);
        System.arraycopy(v, 0, values, c.offset() + 4, v.length);
        java.util.Arrays.fill(values, c.offset() + 4 + v.length, c.offset() + 4 + c.size(), (byte) 0);
        return mark(c);
    }

    static void checkLength(Column c, int length) {
        if (length > c.size()) {
            throw new IllegalArgumentException("value too long for column '" + c.name() + "' (" + c.type().label() + ":"
                    + c.size() + "): bytes=" + length + " max=" + c.size());
        }
    }

    private RowView mark(Column c) {
        dirty |= 1L << c.index();
        return this;
    }

    private int length(Column c) {
        int n = segment.get(INT, c.offset());
        return Math.max(0, Math.min(n, c.size()));
    }

    private Column check(Column c, ColumnType type) {
        own(c);
        if (c.type() != type) {
            throw SharedTable.wrongType(c, type.label());
        }
        return c;
    }

    private void checkVar(Column c) {
        own(c);
        if (c.type() != ColumnType.STRING && c.type() != ColumnType.BYTES) {
            throw SharedTable.wrongType(c, "string or bytes");
        }
    }

    private void own(Column c) {
        if (!schema.owns(c)) {
            throw new IllegalArgumentException("column " + c + " is not a column of this table's schema (" + schema + ")");
        }
    }
}
