package io.shmkit.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

/**
 * Binary layout of the 4096-byte header at offset 0 of every shmkit segment. All integers are
 * little-endian (native order on the supported platforms). The only place header offsets are
 * written down.
 *
 * <pre>
 *  0      8      16     24     32     40     48     56     64
 *  +------+------+------+------+------+------+------+------+
 *  |magic |ver|hs|kind|bk|layoutHash |  size  | resizeGen  |   0..48
 *  +------+------+------+------+------+------+------+------+
 *  |creatorPid| creatorStart | createdAtMs | flags|mode     |   48..80
 *  | dataOffset | carveTop | growLockOwner | growLockPid    |   80..112
 *  | directoryLock (reserved)| ...                          |  112..128
 *  | name (64 bytes, UTF-8, NUL padded)                     |  128..192
 *  | attachCapacity | directoryCapacity | reserved          |  192..256
 *  | attach table: 64 x { gen u32 | pid u32, startTime u64 }|  256..1280
 *  | directory: 32 x { state u64, kind u32, r u32,          | 1280..3328
 *  |                   offset u64, length u64, name[32] }   |
 *  | reserved                                               | 3328..3584
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
 * <p>Format version 2 (liveness by attach-slot OFD locks) replaced version 1 (pid and start
 * time pairs); a version 1 segment is refused with a clear message.
 *
 * <p>Publication: the creator writes every field, then stores {@link #MAGIC} at offset 0 with
 * release semantics. An opener that reads the magic with acquire semantics sees a complete
 * header. {@link #SIZE} and {@link #RESIZE_GENERATION} change on grow: size first, then the
 * generation (release), so a reader that sees a new generation also sees the new size.
 */
public final class SegmentHeader {

    private SegmentHeader() {
    }

    /** "SHMKIT" followed by two NUL bytes, read as a little-endian long. */
    public static final long MAGIC = 0x0000_5449_4B4D_4853L;
    public static final int FORMAT_VERSION = 2;
    /** The oldest format this version reads: 1 recorded owners as (pid, start time). */
    public static final int MIN_FORMAT_VERSION = 2;
    public static final int HEADER_SIZE = 4096;

    public static final long OFF_MAGIC = 0;
    public static final long OFF_FORMAT_VERSION = 8;
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
    public static final int ATTACH_SLOT_BYTES = 16;
    public static final long ATTACH_SLOT_WORD = 0;
    public static final long ATTACH_SLOT_START = 8;

    public static final long OFF_DIRECTORY = OFF_ATTACH_TABLE + (long) ATTACH_SLOTS * ATTACH_SLOT_BYTES;
    public static final int DIRECTORY_ENTRIES = 32;
    public static final int DIRECTORY_ENTRY_BYTES = 64;
    public static final long DIR_STATE = 0;
    public static final long DIR_KIND = 8;
    public static final long DIR_OFFSET = 16;
    public static final long DIR_LENGTH = 24;
    public static final long DIR_NAME = 32;
    public static final int DIR_NAME_BYTES = 32;
    /** Directory entry state: free. Any other value below COMMITTED is the pid of a claimer. */
    public static final long DIR_FREE = 0;
    /** Directory entry state: published (high bit set so it can never equal a pid). */
    public static final long DIR_COMMITTED = Long.MIN_VALUE;

    public static final long OFF_ATTACH_NAMESPACES = HEADER_SIZE - (long) ATTACH_SLOTS * 8;

    static {
        if (OFF_DIRECTORY + (long) DIRECTORY_ENTRIES * DIRECTORY_ENTRY_BYTES > OFF_ATTACH_NAMESPACES) {
            throw new AssertionError("segment header overflow");
        }
    }

    public static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    public static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    public static long attachSlot(int i) {
        return OFF_ATTACH_TABLE + (long) i * ATTACH_SLOT_BYTES;
    }

    /** Offset of slot {@code i}'s pid-namespace inode (a diagnostic). */
    public static long attachNamespace(int i) {
        return OFF_ATTACH_NAMESPACES + (long) i * 8;
    }

    public static long directoryEntry(int i) {
        return OFF_DIRECTORY + (long) i * DIRECTORY_ENTRY_BYTES;
    }

    /** Reads a NUL-padded UTF-8 string of at most {@code max} bytes. */
    public static String readString(MemorySegment m, long offset, int max) {
        int len = 0;
        while (len < max && m.get(ValueLayout.JAVA_BYTE, offset + len) != 0) {
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
