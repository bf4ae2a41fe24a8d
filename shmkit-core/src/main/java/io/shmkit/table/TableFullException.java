package io.shmkit.table;

/**
 * A new key could not be inserted because the table holds its capacity of rows, from the
 * methods whose return value is the row's data ({@code incr}, {@code decr}); the other writes
 * return {@link WriteResult#FULL} instead. Names the table and its capacity. Existing keys can
 * still be updated; deleting a row makes room.
 */
public final class TableFullException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    private final String table;
    private final int capacity;

    public TableFullException(String table, int capacity) {
        super("table '" + table + "' is full: it holds its capacity of " + capacity + " rows");
        this.table = table;
        this.capacity = capacity;
    }

    public String table() {
        return table;
    }

    public int capacity() {
        return capacity;
    }
}
