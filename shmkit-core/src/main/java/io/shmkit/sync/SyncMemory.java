package io.shmkit.sync;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.UnsupportedFormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * Placement checks and magic-word publication shared by the lock types of this package.
 * Each lock starts with a magic word stored last (release) by {@code create} and checked
 * (acquire) by {@code open}. Package-private.
 */
final class SyncMemory {

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private SyncMemory() {
    }

    /** Checks that {@code size} bytes at {@code offset} lie in native memory, 8-byte aligned. */
    static void check(MemorySegment memory, long offset, long size) {
        Objects.requireNonNull(memory, "memory");
        if (!memory.isNative()) {
            throw new IllegalArgumentException("memory must be a native or mapped segment: " + memory);
        }
        if (offset < 0 || offset > memory.byteSize() - size) {
            throw new IllegalArgumentException("offset=" + offset + " out of bounds, byteSize=" + memory.byteSize()
                    + ", size=" + size);
        }
        if (((memory.address() + offset) & 7) != 0) {
            throw new IllegalArgumentException("offset=" + offset + " is not 8-byte aligned (64 recommended)");
        }
    }

    /** Checks the placement and zeroes the lock's bytes; the caller then fills in and {@link #publish}es. */
    static void clear(MemorySegment memory, long offset, long size) {
        check(memory, offset, size);
        memory.asSlice(offset, size).fill((byte) 0);
    }

    /** Stores the magic last: everything written before is visible to whoever reads it with acquire. */
    static void publish(MemorySegment memory, long magicAt, long magic) {
        LONG.setRelease(memory, magicAt, magic);
    }

    /**
     * Checks the placement and the magic word a {@code create} published.
     *
     * @throws SegmentCorruptedException naming {@code type} if the magic is not there
     */
    static void checkMagic(MemorySegment memory, long offset, long size, long magicAt, long magic, String type) {
        checkMagic(memory, offset, size, magicAt, magic, 0, type);
    }

    /**
     * Like {@link #checkMagic(MemorySegment, long, long, long, long, String)}, and names an
     * older format whose magic was {@code oldMagic}.
     *
     * @throws UnsupportedFormatException if {@code oldMagic} (non-zero) is found
     */
    static void checkMagic(MemorySegment memory, long offset, long size, long magicAt, long magic, long oldMagic,
                           String type) {
        check(memory, offset, size);
        // acquire: pairs with the release store in publish()
        long found = (long) LONG.getAcquire(memory, magicAt);
        if (oldMagic != 0 && found == oldMagic) {
            throw new UnsupportedFormatException(String.format("%s at offset=%d has format 1 (magic=0x%016x: owner"
                    + " words naming pids), this shmkit reads format 2 (attach-table owner ids); recreate it",
                    type, offset, found));
        }
        if (found != magic) {
            throw new SegmentCorruptedException(String.format(
                    "no %s at offset=%d: magic=0x%016x, expected 0x%016x", type, offset, found, magic));
        }
    }
}
