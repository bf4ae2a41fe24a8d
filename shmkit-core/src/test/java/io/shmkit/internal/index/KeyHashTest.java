package io.shmkit.internal.index;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.*;

/** The same bytes hash the same from a Java array, from shared memory at any alignment, and long keys hash apart. */
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

    /**
     * hashLong is its own (cheaper) function since pool format 2, no longer the byte hash of the
     * long: distinct keys never share a 64-bit hash (each step is a bijection), and the seed
     * changes it.
     */
    @Property(tries = 300)
    void distinctLongsHashApartAndTheSeedMatters(@ForAll long a, @ForAll long b, @ForAll long seed) {
        if (a != b) {
            assertNotEquals(KeyHash.hashLong(seed, a), KeyHash.hashLong(seed, b));
        }
        assertNotEquals(KeyHash.hashLong(seed, a), KeyHash.hashLong(seed ^ 1, a));
        assertEquals(KeyHash.hashLong(seed, a), KeyHash.hashLong(seed, a));
    }

    /** Ids with a common stride spread over the tag's low bits about as well as a random function would (4096 over 65,536 homes). */
    @Property(tries = 20)
    void sequentialIdsSpreadOverHomes(@ForAll long seed) {
        java.util.BitSet homes = new java.util.BitSet(1 << 16);
        int clashes = 0;
        for (long i = 0; i < 4096; i++) {
            int home = (int) (KeyHash.hashLong(seed, 1_000_000_000L + i * 7919L) >>> 32) & ((1 << 16) - 1);
            clashes += homes.get(home) ? 1 : 0;
            homes.set(home);
        }
        assertTrue(clashes < 400, "clashes=" + clashes); // a random function averages about 125 of 65,536 homes
    }

    @Property(tries = 100)
    void theSeedChangesTheHash(@ForAll @Size(min = 1, max = 40) byte[] key) {
        assertNotEquals(KeyHash.hash(1, key, key.length), KeyHash.hash(2, key, key.length));
    }
}
