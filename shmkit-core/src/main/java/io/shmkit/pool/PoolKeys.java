package io.shmkit.pool;

import io.shmkit.internal.Mem;
import io.shmkit.internal.PoolBlockLayout;
import io.shmkit.internal.PoolBlockLayout.Slot;
import io.shmkit.internal.index.KeyHash;
import io.shmkit.internal.index.KeyIndex;

import java.lang.foreign.MemorySegment;

/**
 * The key index of a keyed type: the shared open-addressing {@link KeyIndex} (the same one the
 * shared table uses), with the slot index as its entry number and the object's slot holding
 * the key ({@code Slot.OFF_KEY}). Writers hold the pools' lock; {@link #find} takes no lock.
 */
final class PoolKeys {


    final KeyIndex index;
    private final Pool pool;
    private final long seed;

    PoolKeys(KeyIndex index, Pool pool, long seed) {
        this.index = index;
        this.pool = pool;
        this.seed = seed;
    }

    static long bytes(long capacity) {
        return KeyIndex.bytesNeeded((int) capacity);
    }

    long hash(long key) {
        return KeyHash.hashLong(seed, key);
    }

    private long keyAt(int slot) {
        return Mem.getLongAcquire(pool.slotMemory(slot), pool.slotOffset(slot) + Slot.OFF_KEY);
    }

    /** Accepts the first entry whose 32-bit tag matches; the key is compared after (no capture, no allocation). */
    private static final KeyIndex.Matcher FIRST_TAG_MATCH = slot -> true;

    /** The handle of the live object holding {@code key}, or 0. */
    long find(long key) {
        long h = hash(key);
        int first = index.probe(h, FIRST_TAG_MATCH); // hot path: one probe, no sequence read
        if (first >= 0) {
            long found = liveHandle(first, key);
            if (found != 0) {
                return found; // the common case: the first tag match holds the key
            }
        }
        return findExact(h, key); // absent, a tag collision, or a concurrent delete: the full protocol, keys compared
    }

    /** {@link #findLocked}'s key (used only under the pools' lock). */
    private long lockedKey;
    private final KeyIndex.Matcher lockedMatch = this::holdsLockedKey;

    private boolean holdsLockedKey(int slot) {
        return slot < pool.hwmBound() && keyAt(slot) == lockedKey;
    }

    /**
     * Under the pools' lock (the index's writer lock): the handle of the live object holding
     * {@code key}, or 0. No delete can overlap, so no sequence protocol; it also keeps the
     * writers' misses out of {@link #find}'s profile. Allocation-free.
     */
    long findLocked(long key) {
        lockedKey = key;
        long s = index.findSlot(hash(key), lockedMatch);
        return s < 0 ? 0 : liveHandle(index.entryAt(s), key);
    }

    private long findExact(long h, long key) {
        int first = index.find(h, FIRST_TAG_MATCH); // settled: waits out deletes
        if (first == KeyIndex.NOT_FOUND) {
            return 0; // no entry has the tag at all (no capture, no allocation)
        }
        if (first >= 0) {
            long found = liveHandle(first, key);
            if (found != 0) {
                return found;
            }
        }
        int e = index.find(h, slot -> slot < pool.hwmBound() && keyAt(slot) == key);
        if (e == KeyIndex.UNSETTLED) {
            pool.pools.lock.lock(); // a delete of another thread overlapped every probe: look under the lock
            try {
                long s = index.findSlot(hash(key), slot -> keyAt(slot) == key);
                e = s < 0 ? KeyIndex.NOT_FOUND : index.entryAt(s);
            } finally {
                pool.pools.lock.unlock();
            }
        }
        return e < 0 ? 0 : liveHandle(e, key);
    }

    /** The handle of slot {@code e} if it holds a live object with {@code key}, else 0. */
    private long liveHandle(int e, long key) {
        MemorySegment[] views = pool.views;
        int c = e >>> pool.shift;
        if (c >= views.length) {
            return 0;
        }
        MemorySegment m = views[c];
        long at = (e & pool.mask) * pool.stride;
        long meta = Mem.getLongAcquire(m, at + Slot.OFF_META);
        // the slot must still hold a live object with that key (another thread may have freed it)
        if ((meta & PoolBlockLayout.STATE_MASK) != PoolBlockLayout.STATE_ALLOCATED || Mem.getLongAcquire(m, at + Slot.OFF_KEY) != key) {
            return 0;
        }
        return Handles.of(pool.id, e, PoolBlockLayout.generation(meta));
    }

    void insert(long key, long handle) {
        if (index.insert(hash(key), Handles.slot(handle)) < 0) {
            throw new IllegalStateException(pool.def.label() + ": key index full (size=" + index.size() + ")");
        }
    }

    /** Removes the entry of {@code handle}'s slot under {@code key}, if present: idempotent. */
    void remove(long key, long handle) {
        int slot = Handles.slot(handle);
        long s = index.findSlot(hash(key), e -> e == slot);
        if (s >= 0) {
            index.removeAt(s);
        }
    }

    int size() {
        return index.size();
    }

    void verify() {
        index.verify(slot -> hash(keyAt(slot)));
    }
}
