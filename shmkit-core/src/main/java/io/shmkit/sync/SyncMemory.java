package io.shmkit.sync;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Placement checks shared by the lock types of this package. Each lock is published and
 * checked through {@code Formats} (its magic stored last with release by {@code create},
 * checked with acquire, then its format, by {@code open}). Package-private.
 */
final class SyncMemory {

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

    /** Checks the placement and zeroes the lock's bytes; the caller then fills in and publishes. */
    static void clear(MemorySegment memory, long offset, long size) {
        check(memory, offset, size);
        memory.asSlice(offset, size).fill((byte) 0);
    }
}
