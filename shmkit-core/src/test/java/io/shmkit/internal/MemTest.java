package io.shmkit.internal;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The alignment and bounds contract written in {@link Mem}'s class comment. */
class MemTest {

    @Test
    void plainAccessesNeedNoAlignmentAndKeepBoundsChecks() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(64, 64);
            Mem.setLong(m, 3, 0x1122_3344_5566_7788L);
            assertEquals(0x1122_3344_5566_7788L, Mem.getLong(m, 3));
            assertEquals(0x88, Mem.getByte(m, 3) & 0xFF, "little-endian: the low byte first");
            Mem.setInt(m, 13, 0xCAFE_BABE);
            assertEquals(0xCAFE_BABE, Mem.getInt(m, 13));
            assertThrows(IndexOutOfBoundsException.class, () -> Mem.getLong(m, 57));
            assertThrows(IndexOutOfBoundsException.class, () -> Mem.setInt(m, 61, 1));
            assertThrows(IndexOutOfBoundsException.class, () -> Mem.getLong(m, -1));
        }
    }

    @Test
    void orderedAndAtomicAccessesRefuseAMisalignedOffset() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(64, 64);
            assertThrows(IllegalArgumentException.class, () -> Mem.getLongAcquire(m, 4));
            assertThrows(IllegalArgumentException.class, () -> Mem.setLongRelease(m, 12, 1));
            assertThrows(IllegalArgumentException.class, () -> Mem.casLong(m, 1, 0, 1));
            assertThrows(IllegalArgumentException.class, () -> Mem.getAndAddInt(m, 2, 1));
            assertEquals(0L, Mem.getAndAddLong(m, 8, 5));
            assertEquals(5L, Mem.getLongAcquire(m, 8));
            assertTrue(Mem.casInt(m, 16, 0, 7));
            assertEquals(7, Mem.getInt(m, 16));
        }
    }

    @Test
    void aKindAndInfoPairReadsAsOneWord() {
        // SlabCaches reads a page descriptor's kind (low half) and info as one long
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(64, 64);
            long dp = 32;
            Mem.setInt(m, dp + SlabLayout.Descriptor.OFF_KIND, SlabLayout.KIND_SMALL);
            Mem.setInt(m, dp + SlabLayout.Descriptor.OFF_INFO, 9);
            long word = Mem.getLong(m, dp + SlabLayout.Descriptor.OFF_KIND);
            assertEquals(SlabLayout.KIND_SMALL, (int) word);
            assertEquals(9, (int) (word >>> 32));
        }
    }
}
