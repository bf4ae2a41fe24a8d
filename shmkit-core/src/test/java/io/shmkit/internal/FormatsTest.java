package io.shmkit.internal;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.UnsupportedFormatException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FormatsTest {

    private static final long MAGIC = Formats.magic("SHMKTEST");
    private static final long LEGACY = Formats.magic("SHMKTST1");

    @Test
    void magicIsLittleEndianAscii() {
        assertEquals(0x5453_4554_4B4D_4853L, MAGIC);
        assertEquals("SHMKTEST", Formats.text(MAGIC));
        assertEquals("ab\\x00\\x00\\x00\\x00\\x00\\x00", Formats.text(0x6261));
        assertThrows(IllegalArgumentException.class, () -> Formats.magic("SHORT"));
        assertThrows(IllegalArgumentException.class, () -> Formats.magic("SHMK\u00e9ABC"));
    }

    @Test
    void publishedStructurePassesAndEveryOtherWordIsNamed() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(64, 64);
            assertFalse(Formats.published(m, 0));
            SegmentCorruptedException none = assertThrows(SegmentCorruptedException.class,
                    () -> Formats.check(m, 0, MAGIC, 8, 3, "test structure", LEGACY));
            assertTrue(none.getMessage().contains("expected 'SHMKTEST'"), none.getMessage());

            Formats.publish(m, 0, MAGIC, 8, 3);
            assertTrue(Formats.published(m, 0));
            Formats.check(m, 0, MAGIC, 8, 3, "test structure", LEGACY);

            UnsupportedFormatException newer = assertThrows(UnsupportedFormatException.class,
                    () -> Formats.check(m, 0, MAGIC, 8, 2, "test structure"));
            assertTrue(newer.getMessage().contains("format 3") && newer.getMessage().contains("newer"), newer.getMessage());

            Mem.setLong(m, 0, LEGACY);
            UnsupportedFormatException old = assertThrows(UnsupportedFormatException.class,
                    () -> Formats.check(m, 0, MAGIC, 8, 3, "test structure", LEGACY));
            assertTrue(old.getMessage().contains("older format") && old.getMessage().contains("SHMKTST1"), old.getMessage());
        }
    }
}
