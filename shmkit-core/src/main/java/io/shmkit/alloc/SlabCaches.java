package io.shmkit.alloc;

import io.shmkit.internal.Mem;
import io.shmkit.internal.OwnerRecords;

import java.lang.foreign.MemorySegment;

import static io.shmkit.internal.SlabLayout.*;

/**
 * The per-thread caches of a {@link SlabAllocator} in {@link SyncMode#THREAD_CACHED} mode: per
 * size class a stack of up to {@code CACHE_SLOTS} block offsets, mirrored in the thread's
 * registry entry (count last, with release: the commit) so that another process can return
 * them if this one dies. A cached block stays allocated in its page's bitmap and carries a tag
 * in its first word (a per-slab secret mixed with its offset), which tells a double free of a
 * cached block and lets a reclaim free only blocks that really are cached. The registry, the
 * lock and the reclaim of dead caches are the shared {@link CacheRegistry}; this class is the
 * slab's side of it.
 */
final class SlabCaches implements CacheRegistry.Blocks<SlabCaches.Cache> {

    private final SlabPages slab;
    private final MemorySegment m;
    private final long pages;
    private final long pagesEnd;
    private final int classCount;
    private final long secret;      // cached-block tag key
    final CacheRegistry<Cache> core;

    SlabCaches(SlabPages slab, int entries, AllocLock lock) {
        this.slab = slab;
        this.m = slab.m;
        this.pages = slab.pages;
        this.pagesEnd = slab.pagesEnd;
        this.classCount = slab.classCount;
        this.secret = Mem.getLong(m, slab.base + OFF_CACHE_SECRET);
        this.core = new CacheRegistry<>(m, slab.base, slab.base + registryStart(slab.pageSize),
                entrySize(slab.pageSize), entries, lock, this);
    }

    /** A thread's cache: per class a stack of block offsets, mirrored in its registry entry. */
    static final class Cache extends ThreadCaches.Cache {
        final long[] stack;        // class c's blocks at [c * CACHE_SLOTS, c * CACHE_SLOTS + n[c])
        final int[] n;
        final long[] requests;

        Cache(int entry, long entryAt, int classCount) {
            super(entry, entryAt);
            this.stack = new long[classCount * CACHE_SLOTS];
            this.n = new int[classCount];
            this.requests = new long[classCount];
        }
    }
    /** The first word of a block while it sits in a thread cache. */
    long tag(long offset) {
        return secret ^ (offset * 0x9E3779B97F4A7C15L);
    }
    long classAt(Cache k, int c) {
        return k.entryAt + Entry.OFF_CLASSES + c * CacheClass.BYTES;
    }
    long allocateCached(Cache k, int c) {
        int n = k.n[c];
        if (n == 0) {
            n = refill(k, c);
            if (n == 0) {
                return 0;
            }
        }
        long ea = classAt(k, c);
        n--;
        long off = k.stack[c * CACHE_SLOTS + n];
        k.n[c] = n;
        // release: the pop is committed before the block is handed out (repair reads the count)
        Mem.setLongRelease(m, ea + CacheClass.OFF_COUNT, (long) n);
        Mem.setLong(m, ea + CacheClass.OFF_REQUESTS, ++k.requests[c]); // plain: written by this thread only
        Mem.setLong(m, off, 0L); // the block no longer carries the cached tag
        return off;
    }
    /** Fills the empty class-{@code c} stack of {@code k} with up to half a stack; returns the count. */
    int refill(Cache k, int c) {
        long ea = classAt(k, c);
        core.lock();
        try {
            int n = 0;
            while (n < CACHE_SLOTS / 2) {
                long off = slab.allocSmall(c);
                if (off == 0 && n == 0 && core.reclaimDead() > 0) {
                    off = slab.allocSmall(c);
                }
                if (off == 0) {
                    break;
                }
                Mem.setLong(m, off, tag(off));
                Mem.setLong(m, ea + CacheClass.OFF_OFFSETS + 8L * n, off);
                k.stack[c * CACHE_SLOTS + n] = off;
                n++;
                Mem.setLongRelease(m, ea + CacheClass.OFF_COUNT, (long) n); // release: the offset is recorded before it counts
            }
            k.n[c] = n;
            if (n == 0) {
                long ca = slab.cls(c);
                slab.addl(ca + SizeClass.OFF_REQUESTS, 1);
                slab.addl(ca + SizeClass.OFF_FAILURES, 1);
            }
            return n;
        } finally {
            core.unlock();
        }
    }
    /**
     * Puts a small block into the calling thread's cache; returns false (nothing changed) when
     * the block is not a small one, so the locked path handles it and reports errors.
     */
    boolean freeCached(Cache k, long offset, int p, long inPage) {
        long dp = slab.d(p);
        // plain read: while the caller owns a block of this page, its kind and class are fixed.
        // Kind (low half) and info are one aligned word (SlabLayout asserts it), read in one
        // access: each checked access costs the hit path about 20 instructions
        long kindInfo = Mem.getLong(m, dp + Descriptor.OFF_KIND);
        if ((int) kindInfo != KIND_SMALL) {
            return false;
        }
        int c = (int) (kindInfo >>> 32);
        if (c < 0 || c >= classCount) {
            return false;
        }
        int shift = c + MIN_SHIFT;
        if ((inPage & ((1L << shift) - 1)) != 0) {
            return false;
        }
        int slot = (int) (inPage >>> shift);
        // racy read of a word others change under the lock; this slot's bit only changes by its owner
        long bits = Mem.getLongOpaque(m, dp + Descriptor.OFF_BITMAP + 8L * (slot >>> 6));
        if ((bits & (1L << (slot & 63))) == 0) {
            return false; // not allocated: the locked path throws
        }
        if (Mem.getLong(m, offset) == tag(offset)) {
            throw new IllegalArgumentException("slab '" + slab.name + "': offset=" + offset
                    + " is not allocated (it is in a thread cache; double free?)");
        }
        int n = k.n[c];
        if (n == CACHE_SLOTS) {
            drain(k, c, CACHE_SLOTS / 2);
            n = k.n[c];
        }
        long ea = classAt(k, c);
        Mem.setLong(m, offset, tag(offset));
        Mem.setLong(m, ea + CacheClass.OFF_OFFSETS + 8L * n, offset);
        k.stack[c * CACHE_SLOTS + n] = offset;
        k.n[c] = n + 1;
        Mem.setLongRelease(m, ea + CacheClass.OFF_COUNT, (long) (n + 1)); // release: the commit, after the offset is recorded
        return true;
    }
    /** Returns {@code howMany} blocks of class {@code c} from {@code k} to the slab. */
    void drain(Cache k, int c, int howMany) {
        long ea = classAt(k, c);
        core.lock();
        try {
            int n = k.n[c];
            for (int i = 0; i < howMany && n > 0; i++) {
                n--;
                long off = k.stack[c * CACHE_SLOTS + n];
                Mem.setLong(m, off, 0L);
                Mem.setLongRelease(m, ea + CacheClass.OFF_COUNT, (long) n); // release: out of the cache before it is freed
                slab.releaseSmall(off);
            }
            // keep the remaining offsets at the bottom of the stack (they already are)
            k.n[c] = n;
        } finally {
            core.unlock();
        }
    }
    // ------------------------------------------------------------------ the cache core's hooks (lock held)

    @Override
    public void repair() {
        slab.rebuild();
    }

    @Override
    public Cache newCache(int entry, long entryAt) {
        return new Cache(entry, entryAt, classCount);
    }

    /** The entry in shared memory is the record of a cache's blocks, for this process's caches too. */
    @Override
    public void emptyLocal(Cache k) {
        emptyEntry(k.entryAt);
    }

    @Override
    public void emptyDead(long deadMask) {
        for (long mask = deadMask; mask != 0; mask &= mask - 1) {
            emptyEntry(core.entryAt(Long.numberOfTrailingZeros(mask)));
        }
    }

    /** Folds the entry's per-class request counters into the classes'. */
    @Override
    public void retire(long at) {
        for (int c = 0; c < classCount; c++) {
            long ea = at + Entry.OFF_CLASSES + c * CacheClass.BYTES;
            slab.addl(slab.cls(c) + SizeClass.OFF_REQUESTS, Mem.getLong(m, ea + CacheClass.OFF_REQUESTS));
            Mem.setLong(m, ea + CacheClass.OFF_REQUESTS, 0);
        }
    }

    /** Frees the blocks recorded in the entry at {@code at} and empties its stacks (lock held). */
    private void emptyEntry(long at) {
        for (int c = 0; c < classCount; c++) {
            long ea = at + Entry.OFF_CLASSES + c * CacheClass.BYTES;
            long n = Math.min(Math.max(Mem.getLong(m, ea + CacheClass.OFF_COUNT), 0), CACHE_SLOTS);
            for (int i = 0; i < n; i++) {
                long off = Mem.getLong(m, ea + CacheClass.OFF_OFFSETS + 8L * i);
                // only a block that carries the cached tag is in a cache: a damaged or stale
                // entry must never free a live block (it would be handed out twice); such a
                // block is leaked instead, and the tag is cleared before the release so that
                // two entries naming one block cannot free it twice
                if (off < pages || off >= pagesEnd || (off & 7) != 0 || Mem.getLong(m, off) != tag(off)) {
                    continue;
                }
                Mem.setLong(m, off, 0L);
                slab.releaseSmall(off);
            }
            Mem.setLong(m, ea + CacheClass.OFF_COUNT, 0);
        }
    }

    // ------------------------------------------------------------------ snapshots

    /** Blocks held in thread caches, per class (a snapshot; acquire: each owner's count). */
    long[] cachedPerClass() {
        return sumPerClass(CacheClass.OFF_COUNT, true);
    }

    /** Requests served from thread caches and not yet folded into the classes, per class (a snapshot). */
    long[] cachedRequestsPerClass() {
        return sumPerClass(CacheClass.OFF_REQUESTS, false);
    }

    private long[] sumPerClass(long field, boolean acquire) {
        long[] out = new long[classCount];
        for (int e = 0; e < core.entries(); e++) {
            long at = core.entryAt(e);
            if (OwnerRecords.inUse(m, at)) {
                for (int c = 0; c < classCount; c++) {
                    long word = at + Entry.OFF_CLASSES + c * CacheClass.BYTES + field;
                    out[c] += acquire ? Mem.getLongAcquire(m, word) : Mem.getLong(m, word);
                }
            }
        }
        return out;
    }
}
