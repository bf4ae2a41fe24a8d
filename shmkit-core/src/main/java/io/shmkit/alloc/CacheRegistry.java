package io.shmkit.alloc;

import io.shmkit.internal.OwnerRecords;
import io.shmkit.internal.OwnerTable;

import java.lang.foreign.MemorySegment;

/**
 * The core that {@link FixedPool} and {@link SlabAllocator} share: their robust lock with the
 * repair after a holder died, and in {@link SyncMode#THREAD_CACHED} mode the registry of
 * per-thread caches in shared memory (one entry per cache, each opening with an owner record,
 * see {@code OwnerRecordLayout}) together with this process's lookup of the calling thread's
 * cache ({@link ThreadCaches}).
 *
 * <p>What a cached block is, where a cache keeps it and how it goes back to the allocator is
 * the allocator's business, told to this class through {@link Blocks}. This class decides when:
 * a thread registers on first use, taking a free entry (or, when the registry is full, the
 * entries of dead owners; failing that it runs on the locked path); the caches of dead
 * processes (asked of {@link OwnerTable}, positive evidence only) and of this process's ended
 * threads are returned by the repair after a lock takeover, when the registry is full and
 * whenever the allocator asks ({@link #reclaimDead()}: before refusing an allocation, in
 * verify); {@link #releaseCurrent()} returns the calling thread's cache at once.
 *
 * <p>Every method except {@link #caches} and the snapshots runs with or takes the lock.
 *
 * @param <C> the allocator's cache class
 */
final class CacheRegistry<C extends ThreadCaches.Cache> {

    /** The allocator's side: what its caches hold. Every method is called with the lock held. */
    interface Blocks<C> {
        /** Rebuilds the allocator's derived data from its source of truth: a lock holder died. */
        void repair();

        /** A cache for registry entry {@code entry} at segment offset {@code entryAt}; (-1, 0) is the locked path. */
        C newCache(int entry, long entryAt);

        /** Returns the blocks of cache {@code c}, whose thread is the caller or has ended, to the allocator. */
        void emptyLocal(C c);

        /** Returns the blocks of the entries in {@code deadMask} (bit e: entry e), whose processes died. */
        void emptyDead(long deadMask);

        /** Folds the statistics of the entry at {@code at} into the allocator's and clears them; the entry is freed next. */
        void retire(long at);
    }

    private final MemorySegment m;
    private final long registry;    // segment offset of entry 0
    private final long entryBytes;
    private final int entries;      // 0 without thread caches
    private final AllocLock lock;
    /** Liveness of registry owners: the attach table of the segment this structure is in. */
    private final OwnerTable owners;
    private final Blocks<C> blocks;
    /** The calling thread's cache lookup; null without thread caches. */
    final ThreadCaches<C> caches;
    /** See {@link #reclaimed()}; written under the lock. */
    private long reclaimed;

    /**
     * @param registry   segment offset of entry 0
     * @param entryBytes bytes per entry (a multiple of 64; the entry opens with its owner record)
     * @param entries    registry entries, at most 64 (0: no thread caches)
     * @param base       the structure's segment offset (finds the segment's owner table)
     */
    CacheRegistry(MemorySegment m, long base, long registry, long entryBytes, int entries, AllocLock lock,
                  Blocks<C> blocks) {
        if (entries > 64) {
            throw new IllegalArgumentException("at most 64 registry entries: " + entries);
        }
        this.m = m;
        this.registry = registry;
        this.entryBytes = entryBytes;
        this.entries = entries;
        this.lock = lock;
        this.owners = OwnerTable.of(m, base);
        this.blocks = blocks;
        this.caches = entries > 0 ? new ThreadCaches<>(entries, this::register) : null;
    }

    // ------------------------------------------------------------------ the lock

    /** Takes the lock; after a holder died, repairs and returns dead caches before going on. */
    void lock() {
        if (lock.lock()) {
            repairTakeover();
        }
    }

    /**
     * After {@code lock.lock()} said the previous holder died (lock held): repairs, returns dead
     * caches and marks the lock consistent; on failure releases the lock. Hot paths call
     * {@code lock.lock()} themselves and this only when it returns true, so the common case is
     * the lock call alone.
     */
    void repairTakeover() {
        try {
            blocks.repair();
            reclaimDead();
        } catch (RuntimeException e) {
            lock.unlock();
            throw e;
        }
        lock.markConsistent();
    }

    void unlock() {
        lock.unlock();
    }

    /** Times a process died holding the lock and the next one repaired (shared counter). */
    int takeovers() {
        return lock.takeovers();
    }

    // ------------------------------------------------------------------ entries

    int entries() {
        return entries;
    }

    /** Segment offset of entry {@code e}. */
    long entryAt(int e) {
        return registry + entryBytes * e;
    }

    /** Whether entry {@code e} belongs to a cache (plain read: under the lock, or a snapshot). */
    boolean inUse(int e) {
        return OwnerRecords.inUse(m, entryAt(e));
    }

    /** The calling thread's registry entry, -1 if it runs on the locked path or there are no caches (tests). */
    int threadCacheEntry() {
        return caches == null ? -1 : caches.get().entry;
    }

    /** Caches this instance gave back because their process died or their thread ended (process-local). */
    long reclaimed() {
        return reclaimed;
    }

    private C register() {
        lock();
        try {
            for (int pass = 0; pass < 2; pass++) {
                for (int e = 0; e < entries; e++) {
                    long at = entryAt(e);
                    if (!OwnerRecords.inUse(m, at)) {
                        m.asSlice(at, entryBytes).fill((byte) 0);
                        OwnerRecords.claim(m, at, owners.id());
                        C c = blocks.newCache(e, at);
                        caches.registered(c);
                        return c;
                    }
                }
                if (pass == 0 && reclaimDead() == 0) {
                    break; // registry full of live threads: this thread uses the locked path
                }
            }
            return blocks.newCache(-1, 0);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Returns the caches of threads of dead processes, and of threads of this process that ended
     * without {@link #releaseCurrent()}, to the allocator and frees their entries (lock held).
     * An entry this instance handed out is never taken for a dead process's, whatever a stray
     * write put in its owner field; an owner whose liveness is unknown keeps its cache.
     *
     * @return the number of entries freed
     */
    int reclaimDead() {
        long deadMask = 0;
        int freed = 0;
        for (int e = 0; e < entries; e++) {
            long at = entryAt(e);
            if (!OwnerRecords.inUse(m, at)) {
                continue;
            }
            if (OwnerRecords.owner(m, at) == owners.id() || caches.holds(e)) { // ours
                C c = caches.ended(e);
                if (c != null) {
                    free(c);
                    freed++;
                }
            } else if (OwnerRecords.heldByDead(m, at, owners)) {
                deadMask |= 1L << e;
            }
        }
        if (deadMask != 0) {
            blocks.emptyDead(deadMask);
            for (long mask = deadMask; mask != 0; mask &= mask - 1) {
                long at = entryAt(Long.numberOfTrailingZeros(mask));
                blocks.retire(at);
                OwnerRecords.release(m, at);
                freed++;
            }
        }
        reclaimed += freed;
        return freed;
    }

    /** Returns cache {@code c} of this process and frees its entry (lock held). */
    private void free(C c) {
        blocks.emptyLocal(c);
        caches.forget(c);
        blocks.retire(c.entryAt);
        OwnerRecords.release(m, c.entryAt);
    }

    /** Returns the calling thread's cache and frees its entry; no effect without caches or a cache. */
    void releaseCurrent() {
        if (caches == null) {
            return;
        }
        C c = caches.removeCurrent();
        if (c == null) {
            return; // this thread never used the allocator
        }
        if (c.entry < 0) {
            caches.forget(c);
            return;
        }
        lock();
        try {
            free(c);
        } finally {
            lock.unlock();
        }
    }
}
