package io.shmkit.table;

/** Outcome of a {@link SharedTable} write: expected outcomes are return values, not exceptions. */
public enum WriteResult {
    /** The key was absent; a new row was created (zeroed, then the given columns written). */
    INSERTED,
    /** The key was present; the given columns were written. */
    UPDATED,
    /** {@code add} only: the key was present; nothing written. */
    EXISTS,
    /** {@code update} (and compare-and-set) only: the key was absent; nothing written. */
    ABSENT,
    /** The key was absent and the table holds its capacity of rows; nothing written. */
    FULL;

    /** Whether the row now holds the written values. */
    public boolean written() {
        return this == INSERTED || this == UPDATED;
    }
}
