package io.shmkit.internal.index;

import io.shmkit.internal.Mem;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The 64-bit key hash of the {@link KeyIndex} users: the same value for the same bytes
 * whether they sit in a Java array or in shared memory, seeded per structure (a random seed
 * stored in the structure's header) so that keys cannot be chosen offline to collide.
 * Allocation-free. Words are read little-endian, 8 bytes at a time; the tail is packed into one
 * word; every word is mixed with a multiply-xorshift and the result goes through the MurmurHash3
 * 64-bit finaliser.
 */
public final class KeyHash {

    private static final VarHandle ARRAY_LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong SEG_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long P1 = 0x9E37_79B9_7F4A_7C15L;
    private static final long P2 = 0xC2B2_AE3D_27D4_EB4FL;

    private KeyHash() {
    }

    /** Hash of {@code key[0 .. length)}. */
    public static long hash(long seed, byte[] key, int length) {
        long h = seed ^ (length * P1);
        int i = 0;
        for (; i + 8 <= length; i += 8) {
            h = step(h, (long) ARRAY_LONG.get(key, i));
        }
        if (i < length) {
            long tail = 0;
            for (int k = length - 1; k >= i; k--) {
                tail = (tail << 8) | (key[k] & 0xFF);
            }
            h = step(h, tail);
        }
        return fmix(h);
    }

    /** Hash of the {@code length} bytes at {@code offset} of {@code m}: equal to {@link #hash(long, byte[], int)} of the same bytes. */
    public static long hash(long seed, MemorySegment m, long offset, int length) {
        long h = seed ^ (length * P1);
        int i = 0;
        for (; i + 8 <= length; i += 8) {
            h = step(h, m.get(SEG_LONG, offset + i));
        }
        if (i < length) {
            long tail = 0;
            for (int k = length - 1; k >= i; k--) {
                tail = (tail << 8) | (Mem.getByte(m, offset + k) & 0xFF);
            }
            h = step(h, tail);
        }
        return fmix(h);
    }

    /**
     * Hash of a long key (e.g. a player id), cheaper than hashing its 8 bytes: the seed, then a
     * multiply, an xor-shift and a multiply. Each step is a bijection, so distinct keys never
     * share the 64-bit hash, and the high 32 bits (the index tag) depend on every key bit.
     */
    public static long hashLong(long seed, long key) {
        long h = (key ^ seed) * P1;
        h ^= h >>> 32;
        return h * P2;
    }

    private static long step(long h, long k) {
        k *= P2;
        k ^= k >>> 31;
        k *= P1;
        return Long.rotateLeft(h ^ k, 27) * 5 + 0x52DC_E729L;
    }

    private static long fmix(long h) {
        h ^= h >>> 33;
        h *= 0xFF51_AFD7_ED55_8CCDL;
        h ^= h >>> 33;
        h *= 0xC4CE_B9FE_1A85_EC53L;
        h ^= h >>> 33;
        return h;
    }
}
