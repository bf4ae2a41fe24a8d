package io.shmkit.table;

import io.shmkit.internal.index.KeyIndex;

/**
 * One thread's lookup and operation arguments: the key (the caller's array, not copied), its
 * hash, and what to write. Reused for every call so the hot paths allocate nothing. The key
 * index calls {@link #matches} for each candidate row.
 */
final class Probe implements KeyIndex.Matcher {

    static final int OP_VIEW = 1;
    static final int OP_WORD = 2;      // store bits into a numeric column
    static final int OP_BYTES = 3;     // store bytes into a string/bytes column
    static final int OP_INCR = 4;      // add to an int32/int64 column
    static final int OP_INCR_FLOAT = 5;
    static final int OP_CAS_WORD = 6;
    static final int OP_CAS_BYTES = 7;

    TableStore table;
    byte[] key;
    int length;
    long hash;
    final byte[] stringKey;

    int op;
    Column column;
    RowView view;
    long bits;       // OP_WORD value, OP_INCR delta, OP_CAS_WORD update
    long expect;     // OP_CAS_WORD
    double delta;    // OP_INCR_FLOAT
    byte[] bytes;    // OP_BYTES value, OP_CAS_BYTES update
    byte[] expected; // OP_CAS_BYTES
    long result;     // OP_INCR result (bits for floats)
    boolean ok;      // CAS outcome

    Probe(int maxKeyLength) {
        this.stringKey = new byte[maxKeyLength];
    }

    @Override
    public boolean matches(int entry) {
        return table.keyEquals(entry, key, length);
    }
}
