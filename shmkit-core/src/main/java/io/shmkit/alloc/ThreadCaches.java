package io.shmkit.alloc;

import java.util.function.Supplier;

/**
 * The per-thread caches of an allocator in {@link SyncMode#THREAD_CACHED} mode, as seen by
 * one process: finds the calling thread's cache on every operation, and remembers which
 * registry entries this instance handed to which threads so that the cache of a thread that
 * ended can be taken back.
 *
 * <p>The lookup avoids the {@link ThreadLocal} hash lookup in the common case: the first
 * thread's cache is checked first, then a slot chosen by {@code threadId & 63}, which a thread
 * takes when it is free or its owner has ended. Both are written rarely and read on every
 * operation. The owner thread of a slot is kept beside it here rather than read from the
 * cache object, whose cache line its owner writes on every operation: a lookup by one thread
 * must not pull in the line another thread is writing (that cost two threads on one pool half
 * their throughput). Slots are written only under this object's monitor: a thread only ever
 * finds itself in a slot it wrote itself, and nobody else rewrites a slot while its owner
 * lives, so the slot's cache is that thread's.
 *
 * @param <C> the allocator's cache class
 */
final class ThreadCaches<C extends ThreadCaches.Cache> {

    /** Base class of a cache. */
    abstract static class Cache {
        final Thread thread = Thread.currentThread();
        /** Registry entry in shared memory, -1 when the registry was full (the locked path). */
        final int entry;
        /** Segment offset of the registry entry. */
        final long entryAt;

        Cache(int entry, long entryAt) {
            this.entry = entry;
            this.entryAt = entryAt;
        }
    }

    private final ThreadLocal<C> local = new ThreadLocal<>();
    private final Supplier<C> register;
    private final Thread[] slotThreads = new Thread[64];
    private final Cache[] slots = new Cache[64];
    private final Cache[] byEntry;
    private Thread firstThread;
    private C first;

    /**
     * @param entries  registry entries in shared memory
     * @param register makes the calling thread's cache (takes a registry entry; called once per thread)
     */
    ThreadCaches(int entries, Supplier<C> register) {
        this.register = register;
        this.byEntry = new Cache[entries];
    }

    /** The calling thread's cache, registered on first use. */
    @SuppressWarnings("unchecked")
    C get() {
        Thread t = Thread.currentThread();
        if (firstThread == t) { // plain reads: see the class comment
            return first;
        }
        int slot = (int) t.threadId() & 63;
        return slotThreads[slot] == t ? (C) slots[slot] : slow(t, slot);
    }

    private C slow(Thread t, int slot) {
        C c = local.get();
        if (c == null) {
            c = register.get();
            local.set(c);
        }
        Thread old = slotThreads[slot];
        if (firstThread == null || old == null || !old.isAlive()) { // else the slot is another live thread's
            synchronized (this) {
                take(t, slot, c);
            }
        }
        return c;
    }

    private void take(Thread t, int slot, C c) {
        Thread old = slotThreads[slot];
        if (old == null || !old.isAlive()) {
            slots[slot] = c;
            slotThreads[slot] = t; // after the cache: only t reads the pair as its own
        }
        if (firstThread == null) {
            first = c;
            firstThread = t;
        }
    }

    /** Records that this instance gave registry entry {@code c.entry} to the calling thread (allocator lock held). */
    void registered(C c) {
        if (c.entry >= 0) {
            byEntry[c.entry] = c;
        }
    }

    /**
     * The cache this instance gave registry entry {@code e} to, if its thread has ended (allocator
     * lock held): everything that thread did happens-before this returns it.
     */
    @SuppressWarnings("unchecked")
    C ended(int e) {
        Cache c = byEntry[e];
        return c != null && !c.thread.isAlive() ? (C) c : null;
    }

    /**
     * Whether this instance gave registry entry {@code e} to a thread and still holds it
     * (allocator lock held): such an entry is never reclaimed, whatever its shared-memory owner
     * field says (a stray write there must not free a live cache's blocks).
     */
    boolean holds(int e) {
        return byEntry[e] != null;
    }

    /** Forgets cache {@code c} (allocator lock held): its entry is being given up. */
    synchronized void forget(C c) {
        if (c.entry >= 0 && byEntry[c.entry] == c) {
            byEntry[c.entry] = null;
        }
        if (first == c) {
            firstThread = null;
            first = null;
        }
        int slot = (int) c.thread.threadId() & 63;
        if (slots[slot] == c) {
            slotThreads[slot] = null;
            slots[slot] = null;
        }
    }

    /** Removes the calling thread's cache from the thread-local and returns it, or null if it has none. */
    C removeCurrent() {
        C c = local.get();
        local.remove();
        return c;
    }
}
