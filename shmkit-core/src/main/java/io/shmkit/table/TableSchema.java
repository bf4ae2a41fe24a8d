package io.shmkit.table;

import io.shmkit.internal.SharedTableLayout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The shape of a {@link SharedTable}: the longest key, and named, typed columns. Immutable.
 * The schema is stored in the table's segment, so a process that opens the table gets it from
 * there ({@link SharedTable#schema()}).
 *
 * {@snippet :
 * TableSchema schema = TableSchema.builder(64)       // keys of 1..64 bytes
 *         .string("name", 32)
 *         .int64("score")
 *         .build();
 * }
 */
public final class TableSchema {

    private final int maxKeyLength;
    private final List<Column> columns;
    /** The columns by index, for the hot-path ownership check (no list indirection). */
    final Column[] byIndex;
    private final Map<String, Column> byName;
    private final int valueBytes;

    private TableSchema(int maxKeyLength, List<Column> columns) {
        this.maxKeyLength = maxKeyLength;
        this.columns = Collections.unmodifiableList(columns);
        this.byIndex = columns.toArray(new Column[0]);
        Map<String, Column> m = new LinkedHashMap<>();
        int end = 0;
        for (Column c : columns) {
            m.put(c.name(), c);
            end = Math.max(end, c.offset() + c.width());
        }
        this.byName = m;
        this.valueBytes = (int) SharedTableLayout.align8(end);
    }

    /** A builder for keys of 1 to {@code maxKeyLength} bytes. */
    public static Builder builder(int maxKeyLength) {
        return new Builder(maxKeyLength);
    }

    /** Longest key in bytes (UTF-8 bytes for string keys). */
    public int maxKeyLength() {
        return maxKeyLength;
    }

    public List<Column> columns() {
        return columns;
    }

    /**
     * The column called {@code name}.
     *
     * @throws IllegalArgumentException naming the column and the ones that exist
     */
    public Column column(String name) {
        Column c = byName.get(name);
        if (c == null) {
            throw new IllegalArgumentException("unknown column '" + name + "'; columns: "
                    + columns.stream().map(Column::toString).collect(Collectors.joining(", ")));
        }
        return c;
    }

    /** Bytes of a row's column area. */
    public int valueBytes() {
        return valueBytes;
    }

    /** Whether {@code c} is this schema's column at its index (the same instance, or an equal one). */
    boolean owns(Column c) {
        int i = c.index();
        return i >= 0 && i < byIndex.length && (byIndex[i] == c || byIndex[i].equals(c));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TableSchema s && s.maxKeyLength == maxKeyLength && s.columns.equals(columns);
    }

    @Override
    public int hashCode() {
        return maxKeyLength * 31 + columns.hashCode();
    }

    @Override
    public String toString() {
        return "key:" + maxKeyLength + " " + columns.stream().map(Column::toString).collect(Collectors.joining(" "));
    }

    /** Builds a schema; columns are laid out in the order added, each aligned to its size. */
    public static final class Builder {
        private final int maxKeyLength;
        private final List<Column> columns = new ArrayList<>();
        private int end;

        private Builder(int maxKeyLength) {
            if (maxKeyLength < 1 || maxKeyLength > SharedTableLayout.MAX_KEY_LENGTH) {
                throw new IllegalArgumentException("maxKeyLength must be in 1.." + SharedTableLayout.MAX_KEY_LENGTH
                        + ": maxKeyLength=" + maxKeyLength);
            }
            this.maxKeyLength = maxKeyLength;
        }

        public Builder int32(String name) {
            return add(name, ColumnType.INT32, 4);
        }

        public Builder int64(String name) {
            return add(name, ColumnType.INT64, 8);
        }

        public Builder float64(String name) {
            return add(name, ColumnType.FLOAT64, 8);
        }

        /** A UTF-8 string column of at most {@code maxBytes} bytes. */
        public Builder string(String name, int maxBytes) {
            return add(name, ColumnType.STRING, maxBytes);
        }

        /** A bytes column of at most {@code maxBytes} bytes. */
        public Builder bytes(String name, int maxBytes) {
            return add(name, ColumnType.BYTES, maxBytes);
        }

        /** Adds a column of any type; {@code size} matters for string and bytes only. */
        public Builder add(String name, ColumnType type, int size) {
            if (name == null || name.isEmpty() || name.getBytes(StandardCharsets.UTF_8).length > SharedTableLayout.ColumnEntry.NAME_BYTES
                    || name.indexOf('=') >= 0 || name.indexOf(':') >= 0) {
                throw new IllegalArgumentException("column name must be 1.." + SharedTableLayout.ColumnEntry.NAME_BYTES
                        + " bytes without '=' or ':': name=" + name);
            }
            if (columns.stream().anyMatch(c -> c.name().equals(name))) {
                throw new IllegalArgumentException("duplicate column: name=" + name);
            }
            if (columns.size() == SharedTableLayout.MAX_COLUMNS) {
                throw new IllegalArgumentException("at most " + SharedTableLayout.MAX_COLUMNS + " columns");
            }
            int width;
            int align;
            switch (type) {
                case INT32 -> { size = 4; width = 4; align = 4; }
                case INT64, FLOAT64 -> { size = 8; width = 8; align = 8; }
                default -> {
                    if (size < 1 || size > 1 << 20) {
                        throw new IllegalArgumentException("size of " + type.label() + " column '" + name
                                + "' must be in 1..1048576: size=" + size);
                    }
                    width = 4 + size;
                    align = 4;
                }
            }
            int offset = (end + align - 1) & -align;
            columns.add(new Column(name, type, size, columns.size(), offset));
            end = offset + width;
            return this;
        }

        /**
         * @throws IllegalArgumentException if no column was added
         */
        public TableSchema build() {
            if (columns.isEmpty()) {
                throw new IllegalArgumentException("a table needs at least one column");
            }
            return new TableSchema(maxKeyLength, new ArrayList<>(columns));
        }
    }
}
