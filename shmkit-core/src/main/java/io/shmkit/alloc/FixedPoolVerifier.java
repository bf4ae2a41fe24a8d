package io.shmkit.alloc;

import io.shmkit.internal.Mem;
import io.shmkit.internal.OwnerRecords;

import java.lang.foreign.MemorySegment;
import java.util.BitSet;

import static io.shmkit.alloc.FixedPool.CACHE_SLICES;
import static io.shmkit.internal.FixedPoolLayout.*;

/**
 * The invariant check of a {@link FixedPool} (lock held): the state bytes, the cache registry,
 * the used counter and the free list agree. Every failure is a {@code SegmentCorruptedException}
 * naming the offset; no walk is longer than the slice count.
 */
final class FixedPoolVerifier {

    private final FixedPool pool;
    private final CacheRegistry<FixedPoolCaches.Cache> core;
    private final MemorySegment m;
    private final long base;
    private final int count;
    private final int entries;
    private final long next;

    FixedPoolVerifier(FixedPool pool, CacheRegistry<FixedPoolCaches.Cache> core, MemorySegment m, long base, int count,
                      long next) {
        this.pool = pool;
        this.core = core;
        this.m = m;
        this.base = base;
        this.count = count;
        this.entries = core.entries();
        this.next = next;
    }

    void verify() {
        long inUse = 0;
        for (int e = 0; e < entries; e++) {
            long at = core.entryAt(e);
            if (!OwnerRecords.inUse(m, at)) {
                continue;
            }
            inUse |= 1L << e;
            long n = Mem.getLongAcquire(m, at + Entry.OFF_CACHE_WORD) & CACHE_COUNT_MASK; // acquire: a snapshot of the owner's word
            if (n > CACHE_SLICES) {
                throw pool.corrupt("thread cache " + e + ": count at offset=" + (at + Entry.OFF_CACHE_WORD) + " is " + n
                        + ", more than " + CACHE_SLICES);
            }
        }
        long taken = 0;
        for (int i = 0; i < count; i++) {
            byte s = Mem.getByte(m, pool.stateAt(i));
            int e = s - STATE_CACHED;
            if (s == STATE_USED) {
                taken++;
            } else if (e >= 0 && e < entries) {
                if ((inUse >>> e & 1) == 0) {
                    throw pool.corrupt("state byte of slice " + i + " at offset=" + pool.stateAt(i) + " is " + s
                            + ": in thread cache " + e + ", which no thread owns");
                }
                taken++;
            } else if (s != STATE_FREE) {
                throw pool.corrupt("state byte of slice " + i + " at offset=" + pool.stateAt(i) + " is " + s
                        + ", expected 0 (free), 1 (used)" + (entries > 0 ? " or " + STATE_CACHED + ".."
                        + (STATE_CACHED + entries - 1) + " (cached)" : ""));
            }
        }
        long used = Mem.getLong(m, base + OFF_USED);
        if (used != taken) {
            throw pool.corrupt("used counter at offset=" + (base + OFF_USED) + " is " + used + " but " + taken
                    + " slices are marked used");
        }
        BitSet seen = new BitSet(count);
        int cur = Mem.getInt(m, base + OFF_HEAD);
        long where = base + OFF_HEAD;
        long listed = 0;
        while (cur != LINK_NONE) {
            if (cur < 0 || cur >= count) {
                throw pool.corrupt("free-list link at offset=" + where + " is " + cur + ", out of range [0, " + count + ")");
            }
            if (seen.get(cur)) {
                throw pool.corrupt("free list has a cycle: slice " + cur + " listed twice (link at offset=" + where + ")");
            }
            if (Mem.getByte(m, pool.stateAt(cur)) != STATE_FREE) {
                throw pool.corrupt("slice " + cur + " is on the free list (link at offset=" + where
                        + ") but its state byte says used");
            }
            seen.set(cur);
            listed++;
            where = next + 4L * cur;
            cur = Mem.getInt(m, where);
        }
        if (listed != count - taken) {
            throw pool.corrupt("free list holds " + listed + " slices but " + (count - taken)
                    + " are marked free (free slices missing from the list)");
        }
    }
}
