package io.shmkit.table;

import io.shmkit.internal.SharedTableLayout;

/** The type of a {@link SharedTable} column. */
public enum ColumnType {
    /** 32-bit signed integer. */
    INT32(SharedTableLayout.TYPE_INT32),
    /** 64-bit signed integer. */
    INT64(SharedTableLayout.TYPE_INT64),
    /** IEEE 754 double. */
    FLOAT64(SharedTableLayout.TYPE_FLOAT64),
    /** UTF-8 text of at most the column's size in bytes (binary-safe: any bytes, stored with their length). */
    STRING(SharedTableLayout.TYPE_STRING),
    /** Bytes, at most the column's size, stored with their length. */
    BYTES(SharedTableLayout.TYPE_BYTES);

    final int code;

    ColumnType(int code) {
        this.code = code;
    }

    /** Whether {@code incr}/{@code decr} and numeric compare-and-set apply. */
    public boolean numeric() {
        return this == INT32 || this == INT64 || this == FLOAT64;
    }

    /** Lower-case name, as the command line writes it ({@code int64}, {@code string} ...). */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    static ColumnType ofCode(int code) {
        for (ColumnType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }
}
