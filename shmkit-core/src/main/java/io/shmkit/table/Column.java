package io.shmkit.table;

/**
 * A column of a {@link TableSchema}: its name, type, declared size (bytes for {@code STRING}
 * and {@code BYTES}; 4 or 8 for numbers), position and byte offset in a row's column area.
 * Obtain it from {@link TableSchema#column(String)} once and pass it to the hot-path methods
 * to skip the name lookup.
 */
public record Column(String name, ColumnType type, int size, int index, int offset) {

    /** Bytes the column occupies in a row (a string or bytes column adds its 4-byte length). */
    public int width() {
        return switch (type) {
            case INT32 -> 4;
            case INT64, FLOAT64 -> 8;
            case STRING, BYTES -> 4 + size;
        };
    }

    @Override
    public String toString() {
        return name + ":" + type.label() + (type == ColumnType.STRING || type == ColumnType.BYTES ? ":" + size : "");
    }
}
