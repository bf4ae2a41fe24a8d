package io.shmkit.internal.index;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.*;

/** The same bytes hash the same from a Java array, from shared memory at any alignment, and (8 bytes) as a long. */
class KeyHashTest {

    @Property(tries = 300)
    void arrayAndMemoryAgree(@ForAll @Size(min = 1, max = 80) byte[] key, @ForAll long seed) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(key.length + 16, 8);
            for (int shift = 0; shift < 8; shift += 3) {
                MemorySegment.copy(key, 0, m, ValueLayout.JAVA_BYTE, shift, key.length);
                assertEquals(KeyHash.hash(seed, key, key.length), KeyHash.hash(seed, m, shift, key.length));
            }
        }
    }

    @Property(tries = 200)
    void aLongHashesLikeItsLittleEndianBytes(@ForAll long id, @ForAll long seed) {
        byte[] b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(id).array();
        assertEquals(KeyHash.hash(seed, b, 8), KeyHash.hashLong(seed, id));
    }

    @Property(tries = 100)
    void theSeedChangesTheHash(@ForAll @Size(min = 1, max = 40) byte[] key) {
        assertNotEquals(KeyHash.hash(1, key, key.length), KeyHash.hash(2, key, key.length));
    }
}
