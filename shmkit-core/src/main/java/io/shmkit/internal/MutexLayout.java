package io.shmkit.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Binary layout of a {@code ShmMutex}: 64 bytes, one cache line, little-endian. The only place
 * these offsets are written down.
 *
 * <pre>
 *  0        8        16       20       24       32                64
 *  +--------+--------+--------+--------+--------+-----------------+
 *  | owner  | (res.) | format | take-  | magic  | reserved (0)    |
 *  | word   |        |        | overs  |        |                 |
 *  +--------+--------+--------+--------+--------+-----------------+
 *  owner word: ownerId &lt;&lt; 32 | token &lt;&lt; 2 | inconsistent &lt;&lt; 1 | waiters
 *              ownerId: the owner's attach-table registration (OwnerTable.id())
 *              free = 0 (consistent) or 2 (inconsistent: an owner died, repair pending)
 *              its low 32 bits (offset 0) are the futex word waiters sleep on
 *  offset 8:   where format 1 kept its "stamp" (pid, start time); never read since
 *  format:     u32, {@link #FORMAT}
 *  takeovers:  how many times a dead owner's lock was taken over (diagnostics)
 *  magic:      {@link #MAGIC} "SHMMUTEX", stored last with release semantics (Formats.publish)
 * </pre>
 *
 * <p>Formats: 1 (magic "SHMMUTX1", owner words naming pids) and 2 (magic "SHMMUTX2", the same
 * bytes as format 3 without the format field) are refused ({@code MAGIC_FORMAT_n}).
 */
public final class MutexLayout {

    private MutexLayout() {
    }

    public static final long MAGIC = Formats.magic("SHMMUTEX");
    public static final int FORMAT = 3;
    /** "SHMMUTX1": format 1, from before the format field; refused by open(). */
    public static final long MAGIC_FORMAT_1 = Formats.magic("SHMMUTX1");
    /** "SHMMUTX2": format 2, from before the format field; refused by open(). */
    public static final long MAGIC_FORMAT_2 = Formats.magic("SHMMUTX2");

    public static final long BYTES = 64;
    public static final long OFF_WORD = 0;
    public static final long OFF_FORMAT = 16;
    public static final long OFF_TAKEOVERS = 20;
    public static final long OFF_MAGIC = 24;

    /** The same layout as a {@link StructLayout}, from which the constants above are checked. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("word"),
            MemoryLayout.paddingLayout(8),
            JAVA_INT.withName("format"),
            JAVA_INT.withName("takeovers"),
            JAVA_LONG.withName("magic"),
            MemoryLayout.paddingLayout(32)).withName("ShmMutex");

    static {
        Layouts.check(LAYOUT, BYTES, "word", OFF_WORD, "format", OFF_FORMAT, "takeovers", OFF_TAKEOVERS,
                "magic", OFF_MAGIC);
    }
}
