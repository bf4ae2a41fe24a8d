package io.shmkit.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Binary layout of a {@code ShmCondition}: 64 bytes, one line, little-endian. The only place
 * these offsets are written down.
 *
 * <pre>
 *  0      4         8        16       20                 64
 *  +------+---------+--------+--------+------------------+
 *  | seq  | waiters | magic  | format | reserved (0)     |
 *  +------+---------+--------+--------+------------------+
 *  seq:     futex word, incremented by every signal
 *  waiters: how many threads may sleep on seq (a hint: lets signal skip the system call)
 *  magic:   {@link #MAGIC} "SHMCONDV", stored last with release semantics (Formats.publish)
 *  format:  u32, {@link #FORMAT}
 * </pre>
 *
 * <p>Format 1 (magic "SHMCOND1", the same bytes without the format field) is refused
 * ({@link #MAGIC_FORMAT_1}).
 */
public final class ConditionLayout {

    private ConditionLayout() {
    }

    public static final long MAGIC = Formats.magic("SHMCONDV");
    public static final int FORMAT = 2;
    /** "SHMCOND1": format 1, from before the format field; refused by open(). */
    public static final long MAGIC_FORMAT_1 = Formats.magic("SHMCOND1");

    public static final long BYTES = 64;
    public static final long OFF_SEQ = 0;
    public static final long OFF_WAITERS = 4;
    public static final long OFF_MAGIC = 8;
    public static final long OFF_FORMAT = 16;

    /** The same layout as a {@link StructLayout}, from which the constants above are checked. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("seq"),
            JAVA_INT.withName("waiters"),
            JAVA_LONG.withName("magic"),
            JAVA_INT.withName("format"),
            MemoryLayout.paddingLayout(44)).withName("ShmCondition");

    static {
        Layouts.check(LAYOUT, BYTES, "seq", OFF_SEQ, "waiters", OFF_WAITERS, "magic", OFF_MAGIC,
                "format", OFF_FORMAT);
    }
}
