package io.shmkit.pool;

/**
 * One leaf field of a registered record layout, as stored in the base segment's type table
 * and compared on resume: a dotted path name ({@code "pos.x"}), a kind ({@code int32},
 * {@code int64}, {@code float64}, {@code int8[16]}, ...), the byte offset in the record and
 * the size.
 */
public record PoolField(String name, String kind, long offset, long size) {

    /** {@code int32 at offset 16}. */
    public String describe() {
        return kind + " at offset " + offset;
    }
}
