package io.shmkit.alloc;

import io.shmkit.internal.Mem;

import java.lang.foreign.MemorySegment;

import static io.shmkit.alloc.FixedPool.CACHE_BATCH;
import static io.shmkit.alloc.FixedPool.CACHE_SLICES;
import static io.shmkit.internal.FixedPoolLayout.*;

/**
 * The per-thread caches of a {@link FixedPool} in {@link SyncMode#THREAD_CACHED} mode: each a
 * stack of up to {@link FixedPool#CACHE_SLICES} slice indices whose state byte names the
 * cache's registry entry ({@code STATE_CACHED + e}), so a cache hit is one state-byte store plus
 * a statistics word in the thread's own entry. The registry, the lock and the reclaim of dead
 * caches are the shared {@link CacheRegistry}; this class is the pool's side of it (what a
 * cached block is: a slice, held by its state byte).
 */
final class FixedPoolCaches implements CacheRegistry.Blocks<FixedPoolCaches.Cache> {

    private final FixedPool pool;
    private final MemorySegment m;
    private final long base;
    private final int count;
    private final int entries;
    private final long sliceSize;
    private final long slices;   // segment offset of slice 0
    private final long state;    // segment offset of state[0]
    private final long stateStride;
    final CacheRegistry<Cache> core;

    FixedPoolCaches(FixedPool pool, MemorySegment m, long base, int count, int entries, long sliceSize, long slices,
                    long state, long stateStride, AllocLock lock) {
        this.pool = pool;
        this.m = m;
        this.base = base;
        this.count = count;
        this.entries = entries;
        this.sliceSize = sliceSize;
        this.slices = slices;
        this.state = state;
        this.stateStride = stateStride;
        this.core = new CacheRegistry<>(m, base, base + OFF_REGISTRY, Entry.BYTES, entries, lock, this);
    }

    /** Segment offset of slice {@code index}'s state byte (as {@code FixedPool.stateAt}). */
    private long stateAt(int index) {
        return state + (index & 63) * stateStride + (index >>> 6);
    }

    /** A thread's cache: the indices of the slices whose state byte is {@code mark}. */
    static final class Cache extends ThreadCaches.Cache {
        final byte mark;          // state byte of a slice in this cache
        final int[] stack = new int[CACHE_SLICES];
        int n;
        long requests;            // served from this cache; packed with n into the entry's cache word

        Cache(int entry, long entryAt) {
            super(entry, entryAt);
            this.mark = (byte) (STATE_CACHED + Math.max(entry, 0));
        }
    }
    long allocateCached(Cache c) {
        MemorySegment m = this.m;
        if (c.n == 0 && !refill(c)) {
            return 0;
        }
        int n = c.n - 1;
        int index = c.stack[n];
        c.n = n;
        Mem.setByte(m, stateAt(index), STATE_USED); // the commit: cached -> allocated
        Mem.setLong(m, c.entryAt + Entry.OFF_CACHE_WORD, cacheWord(++c.requests, n)); // statistics only
        return slices + index * sliceSize;
    }
    /** A registry entry's cache word, for statistics: requests served from the cache, and the cached count. */
    static long cacheWord(long requests, int n) {
        return (requests << CACHE_COUNT_BITS) | n;
    }
    /** Moves up to {@link #CACHE_BATCH} slices from the shared list into the empty cache {@code c}. */
    boolean refill(Cache c) {
        core.lock();
        try {
            int n = 0;
            while (n < CACHE_BATCH) {
                int head = pool.popFree();
                if (head == LINK_NONE && n == 0 && core.reclaimDead() > 0) {
                    head = pool.popFree();
                }
                if (head == LINK_NONE) {
                    break;
                }
                Mem.setByte(m, stateAt(head), c.mark); // the commit: in this thread's cache
                c.stack[n++] = head;
            }
            c.n = n;
            Mem.setLong(m, c.entryAt + Entry.OFF_CACHE_WORD, cacheWord(c.requests, n));
            if (n == 0) {
                Mem.setLong(m, base + OFF_REQUESTS, Mem.getLong(m, base + OFF_REQUESTS) + 1);
                Mem.setLong(m, base + OFF_FAILURES, Mem.getLong(m, base + OFF_FAILURES) + 1);
                return false;
            }
            return true;
        } finally {
            core.unlock();
        }
    }
    void freeCached(Cache c, long offset, int index) {
        MemorySegment m = this.m;
        byte s = Mem.getByte(m, stateAt(index));
        if (s != STATE_USED) {
            throw pool.notAllocated(offset, index, s);
        }
        if (c.n == CACHE_SLICES) {
            drain(c, CACHE_BATCH);
        }
        int n = c.n;
        c.stack[n] = index;
        c.n = n + 1;
        Mem.setByte(m, stateAt(index), c.mark); // the commit: allocated -> in this thread's cache
        Mem.setLong(m, c.entryAt + Entry.OFF_CACHE_WORD, cacheWord(c.requests, n + 1)); // statistics only
    }
    /** Returns {@code k} slices of cache {@code c} to the shared list. */
    void drain(Cache c, int k) {
        core.lock();
        try {
            for (int i = 0; i < k && c.n > 0; i++) {
                int index = c.stack[--c.n];
                Mem.setByte(m, stateAt(index), STATE_FREE); // the commit: back on the shared list
                pool.pushFree(index);
            }
            Mem.setLong(m, c.entryAt + Entry.OFF_CACHE_WORD, cacheWord(c.requests, c.n));
        } finally {
            core.unlock();
        }
    }

    // ------------------------------------------------------------------ the cache core's hooks (lock held)

    @Override
    public void repair() {
        pool.rebuild();
    }

    @Override
    public Cache newCache(int entry, long entryAt) {
        return new Cache(entry, entryAt);
    }

    @Override
    public void emptyLocal(Cache c) {
        for (int i = c.n - 1; i >= 0; i--) {
            int index = c.stack[i];
            if (Mem.getByte(m, stateAt(index)) == c.mark) {
                Mem.setByte(m, stateAt(index), STATE_FREE);
                pool.pushFree(index);
            }
        }
        c.n = 0;
    }

    /** Dead processes' slices are found by a scan of the state bytes. */
    @Override
    public void emptyDead(long deadMask) {
        for (int i = 0; i < count; i++) {
            int e = Mem.getByte(m, stateAt(i)) - STATE_CACHED;
            if (e >= 0 && e < entries && (deadMask >>> e & 1) != 0) {
                Mem.setByte(m, stateAt(i), STATE_FREE);
                pool.pushFree(i);
            }
        }
    }

    /** Folds the entry's request counter into the pool's. */
    @Override
    public void retire(long at) {
        long word = Mem.getLong(m, at + Entry.OFF_CACHE_WORD);
        Mem.setLong(m, base + OFF_REQUESTS, Mem.getLong(m, base + OFF_REQUESTS) + (word >>> CACHE_COUNT_BITS));
        Mem.setLong(m, at + Entry.OFF_CACHE_WORD, 0);
    }
}
