package io.shmkit.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Binary layout of a {@code ShmRwLock}: two lines of header, then one line per reader slot
 * ({@link #bytes(int)} in all), little-endian. The only place these offsets are written down.
 *
 * <pre>
 *  0        4          8          12         16       24                      64
 *  +--------+----------+----------+----------+--------+-----------------------+
 *  | wstate | exitSeq  | slots    | format   | magic  | reserved              |  line 0
 *  +--------+----------+----------+----------+--------+-----------------------+
 *  | writer mutex: a ShmMutex (MutexLayout, 64 bytes)                        |  line 1
 *  +-------------------------------------------------------------------------+
 *  | reader slot 0: owner u64 | count i64 | padding (48)                      |  line 2
 *  | reader slot 1 ...                                                       |  one line each
 *  +-------------------------------------------------------------------------+
 *  wstate:  bit 0 {@link #WSTATE_WRITER} (a writer holds or wants the lock: new readers wait),
 *           bit 1 {@link #WSTATE_READERS_WAITING} (readers sleep on wstate); the readers' futex word
 *  exitSeq: bumped by a reader leaving while WRITER is set; the writer's futex word
 *  slots:   number of reader slots, 1..{@link #MAX_READER_SLOTS}
 *  format:  u32, {@link #FORMAT}
 *  magic:   {@link #MAGIC} "SHMRWLCK", stored last with release semantics (Formats.publish)
 *  owner:   {@link ReaderSlot#OWNER_FREE}, {@link ReaderSlot#OWNER_RECLAIMING}, else the owner id
 *           (OwnerTable.id(), unsigned) of the process owning the slot
 *  count:   read locks that process holds
 * </pre>
 *
 * <p>Formats: 1 (magic "SHMRWLK1", reader slots naming pid and start time) and 2 (magic
 * "SHMRWLK2", the same bytes as format 3 without the format field) are refused
 * ({@code MAGIC_FORMAT_n}).
 */
public final class RwLockLayout {

    private RwLockLayout() {
    }

    public static final long MAGIC = Formats.magic("SHMRWLCK");
    public static final int FORMAT = 3;
    /** "SHMRWLK1": format 1, from before the format field; refused by open(). */
    public static final long MAGIC_FORMAT_1 = Formats.magic("SHMRWLK1");
    /** "SHMRWLK2": format 2, from before the format field; refused by open(). */
    public static final long MAGIC_FORMAT_2 = Formats.magic("SHMRWLK2");

    public static final long OFF_WSTATE = 0;
    public static final long OFF_EXIT_SEQ = 4;
    public static final long OFF_SLOTS = 8;
    public static final long OFF_FORMAT = 12;
    public static final long OFF_MAGIC = 16;
    public static final long OFF_MUTEX = 64;
    public static final long OFF_SLOT_TABLE = 128;
    /** Bytes before the slot table. */
    public static final long HEADER_BYTES = OFF_SLOT_TABLE;

    /** wstate bit: a writer holds or wants the lock. */
    public static final int WSTATE_WRITER = 1;
    /** wstate bit: readers sleep on the wstate futex. */
    public static final int WSTATE_READERS_WAITING = 2;
    public static final int MAX_READER_SLOTS = 4096;

    /** One reader slot, a line of its own. */
    public static final class ReaderSlot {

        private ReaderSlot() {
        }

        public static final long BYTES = 64;
        public static final long OFF_OWNER = 0;
        public static final long OFF_COUNT = 8;
        /** owner: nobody. */
        public static final long OWNER_FREE = 0;
        /** owner: a writer is taking the slot of a dead process back. */
        public static final long OWNER_RECLAIMING = -1L;

        public static final StructLayout LAYOUT = MemoryLayout.structLayout(
                JAVA_LONG.withName("owner"),
                JAVA_LONG.withName("count"),
                MemoryLayout.paddingLayout(48)).withName("ReaderSlot");

        static {
            Layouts.check(LAYOUT, BYTES, "owner", OFF_OWNER, "count", OFF_COUNT);
        }
    }

    /** The header lines as a {@link StructLayout}, from which the constants above are checked. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("wstate"),
            JAVA_INT.withName("exitSeq"),
            JAVA_INT.withName("slots"),
            JAVA_INT.withName("format"),
            JAVA_LONG.withName("magic"),
            MemoryLayout.paddingLayout(40),
            MutexLayout.LAYOUT.withName("mutex")).withName("ShmRwLock");

    static {
        Layouts.check(LAYOUT, HEADER_BYTES, "wstate", OFF_WSTATE, "exitSeq", OFF_EXIT_SEQ, "slots", OFF_SLOTS,
                "format", OFF_FORMAT, "magic", OFF_MAGIC, "mutex", OFF_MUTEX);
    }

    /** Offset of reader slot {@code i} from the lock's start. */
    public static long slot(int i) {
        return OFF_SLOT_TABLE + i * ReaderSlot.BYTES;
    }

    /** Bytes of a lock with {@code readerSlots} slots (the caller has checked the range). */
    public static long bytes(int readerSlots) {
        return OFF_SLOT_TABLE + readerSlots * ReaderSlot.BYTES;
    }
}
