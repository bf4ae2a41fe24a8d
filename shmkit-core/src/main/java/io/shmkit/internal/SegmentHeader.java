package io.shmkit.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Binary layout of the 4096-byte header at offset 0 of every shmkit segment. All integers are
 * little-endian (native order on the supported platforms). The only place header offsets are
 * written down.
 *
 * <pre>
 *  0      8      16     24     32     40     48     56     64
 *  +------+------+------+------+------+------+------+------+
 *  |magic |fmt|hs|kind|bk|layoutHash |  size  | resizeGen  |   0..48
 *  +------+------+------+------+------+------+------+------+
 *  |creatorPid| creatorStart | createdAtMs | flags|mode     |   48..80
 *  | dataOffset | carveTop | growLockOwner | growLockPid    |   80..112
 *  | directoryLock (reserved)| ...                          |  112..128
 *  | name (64 bytes, UTF-8, NUL padded)                     |  128..192
 *  | attachCapacity | directoryCapacity | reserved          |  192..256
 *  | attach table: 64 x { gen u32 | pid u32, startTime u64 }|  256..1280
 *  | directory: 32 x { state u64, kind u32, creatorPid u32, | 1280..3328
 *  |                   offset u64, length u64, name[32] }   |
 *  | directory creators: 32 x u64 (creator's owner id)      | 3328..3584
 *  | attach pid namespaces: 64 x u64 (inode of ns/pid)      | 3584..4096
 * </pre>
 *
 * <p>Attach slot word: the slot's registration generation in the high 32 bits (bumped by each
 * process that claims the slot, never reset) and the registered pid in the low 32 bits, 0 once
 * the process detached. Start time and pid namespace are diagnostics written by the process
 * itself before it publishes the word. Who holds a slot is decided by the kernel (an OFD lock
 * on the segment file, see {@code OwnerTable}), not by these fields. The grow lock records the
 * holder's owner id ({@code OwnerTable.id()}, unsigned) and, as a diagnostic, its pid.
 *
 * <p>Directory entry state ({@link DirectoryRecord}): {@code STATE_FREE}, {@code STATE_COMMITTED} (reserved; its
 * structure is published once the first 8 bytes of its range, the structure's magic, are
 * non-zero) or {@code STATE_ABANDONED} (its creator gave up before publishing: invisible to
 * lookups, and the next reservation of the same name takes it over). Each entry records the
 * owner id of the process that reserved it (and its pid, as a diagnostic), so a reservation
 * whose creator died before publishing can be reclaimed; pid 0 means unknown (treated as alive).
 *
 * <p>Versions: {@link #MAGIC} at {@link #OFF_MAGIC} and {@link #FORMAT} (u32) at
 * {@link #OFF_FORMAT}, as in every layout of this package. Format 2 (liveness by attach-slot OFD
 * locks) replaced format 1 (pid and start time pairs); a format 1 segment is refused with a
 * clear message. The header is published with {@link Formats#publish} but checked by the
 * segment package's header codec rather than {@link Formats#check}: its magic predates the
 * eight-letter scheme (two of its bytes are NUL, and changing it would make every existing
 * segment unreadable), a wrong magic means "not a shmkit segment at all" (its own public
 * exception, which tools report as such, not a corrupted structure), and it reads a range of
 * formats ({@link #MIN_FORMAT} to {@link #FORMAT}) with a message per side.
 *
 * <p>Publication: the creator writes every field, then stores {@link #MAGIC} at offset 0 with
 * release semantics (Formats.publish). An opener that reads the magic with acquire semantics
 * sees a complete header. {@link #OFF_SIZE} and {@link #OFF_RESIZE_GENERATION} change on grow: size first, then the
 * generation (release), so a reader that sees a new generation also sees the new size.
 */
public final class SegmentHeader {

    private SegmentHeader() {
    }

    /** "SHMKIT" followed by two NUL bytes, read as a little-endian long. */
    public static final long MAGIC = 0x0000_5449_4B4D_4853L;
    public static final int FORMAT = 2;
    /** The oldest format this version reads: 1 recorded owners as (pid, start time). */
    public static final int MIN_FORMAT = 2;
    public static final int HEADER_SIZE = 4096;

    public static final long OFF_MAGIC = 0;
    public static final long OFF_FORMAT = 8;
    public static final long OFF_HEADER_SIZE = 12;
    public static final long OFF_KIND = 16;
    public static final long OFF_BACKEND = 20;
    public static final long OFF_LAYOUT_HASH = 24;
    public static final long OFF_SIZE = 32;
    public static final long OFF_RESIZE_GENERATION = 40;
    public static final long OFF_CREATOR_PID = 48;
    public static final long OFF_CREATOR_START = 56;
    public static final long OFF_CREATED_AT = 64;
    public static final long OFF_FLAGS = 72;
    public static final long OFF_MODE = 76;
    public static final long OFF_DATA_OFFSET = 80;
    public static final long OFF_CARVE_TOP = 88;
    public static final long OFF_GROW_LOCK_OWNER = 96;
    public static final long OFF_GROW_LOCK_PID = 104;
    public static final long OFF_NAME = 128;
    public static final int NAME_BYTES = 64;
    public static final long OFF_ATTACH_CAPACITY = 192;
    public static final long OFF_DIRECTORY_CAPACITY = 196;

    public static final long OFF_ATTACH_TABLE = 256;
    public static final int ATTACH_SLOTS = 64;

    /** One slot of the attach table. */
    public static final class AttachSlot {

        private AttachSlot() {
        }

        public static final int BYTES = 16;
        /** generation (u32, high half) and pid (u32, low half; 0 once detached). */
        public static final long OFF_WORD = 0;
        /** The registered process's start time (a diagnostic). */
        public static final long OFF_START_TIME = 8;
    }

    public static final long OFF_DIRECTORY = OFF_ATTACH_TABLE + (long) ATTACH_SLOTS * AttachSlot.BYTES;
    public static final int DIRECTORY_ENTRIES = 32;

    /** One entry of the directory of named structures. */
    public static final class DirectoryRecord {

        private DirectoryRecord() {
        }

        public static final int BYTES = 64;
        public static final long OFF_STATE = 0;
        public static final long OFF_KIND = 8;
        public static final long OFF_CREATOR_PID = 12;
        public static final long OFF_OFFSET = 16;
        public static final long OFF_LENGTH = 24;
        public static final long OFF_NAME = 32;
        public static final int NAME_BYTES = 32;
        /** state: free. */
        public static final long STATE_FREE = 0;
        /** state: reserved; published (high bit set so it can never equal a pid). */
        public static final long STATE_COMMITTED = Long.MIN_VALUE;
        /** state: reserved, then given up by its creator before its structure was published. */
        public static final long STATE_ABANDONED = Long.MIN_VALUE | 1;
    }

    /** Per directory entry, the owner id of the process that reserved it (after the directory). */
    public static final long OFF_DIRECTORY_CREATORS = 3328;
    public static final int DIRECTORY_CREATOR_BYTES = 8;

    /** Per attach slot, the inode of the registered process's pid namespace (a diagnostic). */
    public static final long OFF_ATTACH_NAMESPACES = HEADER_SIZE - (long) ATTACH_SLOTS * 8;
    public static final int ATTACH_NAMESPACE_BYTES = 8;

    /** The fixed fields (the first 256 bytes) as a {@link StructLayout}, from which the offsets above are checked. */
    public static final StructLayout FIELDS = MemoryLayout.structLayout(
            JAVA_LONG.withName("magic"), JAVA_INT.withName("format"), JAVA_INT.withName("headerSize"),
            JAVA_INT.withName("kind"), JAVA_INT.withName("backend"), JAVA_LONG.withName("layoutHash"),
            JAVA_LONG.withName("size"), JAVA_LONG.withName("resizeGeneration"),
            JAVA_LONG.withName("creatorPid"), JAVA_LONG.withName("creatorStart"), JAVA_LONG.withName("createdAt"),
            JAVA_INT.withName("flags"), JAVA_INT.withName("mode"),
            JAVA_LONG.withName("dataOffset"), JAVA_LONG.withName("carveTop"),
            JAVA_LONG.withName("growLockOwner"), JAVA_LONG.withName("growLockPid"), MemoryLayout.paddingLayout(16),
            MemoryLayout.sequenceLayout(NAME_BYTES, JAVA_BYTE).withName("name"),
            JAVA_INT.withName("attachCapacity"), JAVA_INT.withName("directoryCapacity"),
            MemoryLayout.paddingLayout(56)).withName("SegmentHeader");

    /** The whole header: fixed fields, attach table, directory, creators, namespaces. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            FIELDS.withName("fields"),
            MemoryLayout.sequenceLayout(ATTACH_SLOTS, MemoryLayout.structLayout(
                    JAVA_LONG.withName("word"), JAVA_LONG.withName("startTime"))).withName("attach"),
            MemoryLayout.sequenceLayout(DIRECTORY_ENTRIES, MemoryLayout.structLayout(
                    JAVA_LONG.withName("state"), JAVA_INT.withName("kind"), JAVA_INT.withName("creatorPid"),
                    JAVA_LONG.withName("offset"), JAVA_LONG.withName("length"),
                    MemoryLayout.sequenceLayout(DirectoryRecord.NAME_BYTES, JAVA_BYTE).withName("name")))
                    .withName("directory"),
            MemoryLayout.sequenceLayout(DIRECTORY_ENTRIES, JAVA_LONG).withName("creators"),
            MemoryLayout.sequenceLayout(ATTACH_SLOTS, JAVA_LONG).withName("namespaces")).withName("SegmentHeader");

    static {
        Layouts.check(FIELDS, OFF_ATTACH_TABLE, "magic", OFF_MAGIC, "format", OFF_FORMAT, "headerSize", OFF_HEADER_SIZE,
                "kind", OFF_KIND, "backend", OFF_BACKEND, "layoutHash", OFF_LAYOUT_HASH, "size", OFF_SIZE,
                "resizeGeneration", OFF_RESIZE_GENERATION, "creatorPid", OFF_CREATOR_PID,
                "creatorStart", OFF_CREATOR_START, "createdAt", OFF_CREATED_AT, "flags", OFF_FLAGS, "mode", OFF_MODE,
                "dataOffset", OFF_DATA_OFFSET, "carveTop", OFF_CARVE_TOP, "growLockOwner", OFF_GROW_LOCK_OWNER,
                "growLockPid", OFF_GROW_LOCK_PID, "name", OFF_NAME, "attachCapacity", OFF_ATTACH_CAPACITY,
                "directoryCapacity", OFF_DIRECTORY_CAPACITY);
        Layouts.check(LAYOUT, HEADER_SIZE, "attach", OFF_ATTACH_TABLE, "directory", OFF_DIRECTORY,
                "creators", OFF_DIRECTORY_CREATORS, "namespaces", OFF_ATTACH_NAMESPACES);
        if (LAYOUT.select(MemoryLayout.PathElement.groupElement("directory")).byteSize()
                != (long) DIRECTORY_ENTRIES * DirectoryRecord.BYTES
                || LAYOUT.select(MemoryLayout.PathElement.groupElement("attach")).byteSize()
                != (long) ATTACH_SLOTS * AttachSlot.BYTES) {
            throw new AssertionError("segment header: a table's record size differs from its descriptor");
        }
    }

    /** Offset of attach slot {@code i}. */
    public static long attachSlot(int i) {
        return OFF_ATTACH_TABLE + (long) i * AttachSlot.BYTES;
    }

    /** Offset of slot {@code i}'s pid-namespace inode (a diagnostic). */
    public static long attachNamespace(int i) {
        return OFF_ATTACH_NAMESPACES + (long) i * ATTACH_NAMESPACE_BYTES;
    }

    /** Offset of directory entry {@code i}. */
    public static long directoryEntry(int i) {
        return OFF_DIRECTORY + (long) i * DirectoryRecord.BYTES;
    }

    /** Offset of the creator owner id of directory entry {@code i}. */
    public static long directoryCreator(int i) {
        return OFF_DIRECTORY_CREATORS + (long) i * DIRECTORY_CREATOR_BYTES;
    }

    /** Reads a NUL-padded UTF-8 string of at most {@code max} bytes. */
    public static String readString(MemorySegment m, long offset, int max) {
        int len = 0;
        while (len < max && Mem.getByte(m, offset + len) != 0) {
            len++;
        }
        byte[] b = new byte[len];
        MemorySegment.copy(m, ValueLayout.JAVA_BYTE, offset, b, 0, len);
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Writes {@code s} NUL-padded into {@code max} bytes; the caller has checked its length. */
    public static void writeString(MemorySegment m, long offset, int max, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > max) {
            throw new IllegalArgumentException("string too long: bytes=" + b.length + " max=" + max);
        }
        m.asSlice(offset, max).fill((byte) 0);
        MemorySegment.copy(b, 0, m, ValueLayout.JAVA_BYTE, offset, b.length);
    }
}
