package io.shmkit.pool;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Open-addressing (linear probing) index from a {@code long} key to a handle, in shared
 * memory: {@code capacity} (a power of two) entries of 16 bytes {@code { key u64, value u64 }}
 * where value 0 = empty, 1 = deleted (tombstone), anything else a handle.
 *
 * <p>Crash consistency: the value word is the commit point. Insert writes the key, then the
 * value with a release store; delete stores the tombstone. A crash leaves every entry either
 * unchanged or fully changed. Readers in other processes read the value with acquire, then the
 * key, and must confirm a hit against the object (its slot records its key).
 *
 * <p>Single writer (the owner process, under the pools' lock); readers never block.
 */
final class KeyIndex {

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    static final long ENTRY_BYTES = 16;
    static final long EMPTY = 0;
    static final long TOMBSTONE = 1;

    private final MemorySegment mem;
    private final long base;
    private final long mask;

    KeyIndex(MemorySegment mem, long base, long capacity) {
        this.mem = mem;
        this.base = base;
        this.mask = capacity - 1;
    }

    /** Entries for {@code objects} keys: load factor at most 1/2. */
    static long capacityFor(long objects) {
        long c = Long.highestOneBit(Math.max(8, objects) * 2 - 1) << 1;
        return Math.max(16, c);
    }

    static long bytes(long capacity) {
        return capacity * ENTRY_BYTES;
    }

    long capacity() {
        return mask + 1;
    }

    private static long mix(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return h ^ (h >>> 29);
    }

    /** The handle stored for {@code key}, or 0. */
    long find(long key) {
        long i = mix(key) & mask;
        for (long n = 0; n <= mask; n++) {
            long e = base + (i << 4);
            long v = (long) LONG.getAcquire(mem, e + 8); // acquire: pairs with insert's release
            if (v == EMPTY) {
                return 0;
            }
            if (v != TOMBSTONE && (long) LONG.get(mem, e) == key) {
                return v;
            }
            i = (i + 1) & mask;
        }
        return 0;
    }

    /** Inserts a key known to be absent. */
    void insert(long key, long handle) {
        long i = mix(key) & mask;
        for (long n = 0; n <= mask; n++) {
            long e = base + (i << 4);
            long v = (long) LONG.get(mem, e + 8);
            if (v == EMPTY || v == TOMBSTONE) {
                LONG.set(mem, e, key);
                LONG.setRelease(mem, e + 8, handle); // commit: the key above is visible first
                return;
            }
            i = (i + 1) & mask;
        }
        throw new IllegalStateException("key index full: capacity=" + capacity());
    }

    /** Removes {@code key} if it maps to {@code handle}; idempotent. */
    boolean remove(long key, long handle) {
        long i = mix(key) & mask;
        for (long n = 0; n <= mask; n++) {
            long e = base + (i << 4);
            long v = (long) LONG.get(mem, e + 8);
            if (v == EMPTY) {
                return false;
            }
            if (v == handle && (long) LONG.get(mem, e) == key) {
                LONG.setRelease(mem, e + 8, TOMBSTONE);
                return true;
            }
            i = (i + 1) & mask;
        }
        return false;
    }

    /** Live entries (a full scan, for verify). */
    long count() {
        long c = 0;
        for (long i = 0; i <= mask; i++) {
            long v = (long) LONG.get(mem, base + (i << 4) + 8);
            if (v != EMPTY && v != TOMBSTONE) {
                c++;
            }
        }
        return c;
    }

    /** Clears every entry (for rebuilding). */
    void clear() {
        mem.asSlice(base, bytes(capacity())).fill((byte) 0);
    }
}
