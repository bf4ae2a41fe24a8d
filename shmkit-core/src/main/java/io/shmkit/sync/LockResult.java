package io.shmkit.sync;

/**
 * Outcome of an attempt to acquire a shmkit lock. Expected outcomes are return values, never
 * exceptions (see the house rules in {@code DESIGN.md}).
 */
public enum LockResult {
    /** The caller holds the lock and the protected data is consistent. */
    ACQUIRED,
    /**
     * The caller holds the lock, but a previous owner died while holding it (or left it marked
     * inconsistent, or the lock word held garbage). The data the lock protects may be half
     * updated: repair it from its source of truth, then call {@code markConsistent()} before
     * unlocking.
     */
    OWNER_DIED,
    /** {@code tryLock()} only: another live thread or process holds the lock. */
    BUSY,
    /** Timed acquisition only: the timeout elapsed before the lock could be acquired. */
    TIMED_OUT;

    /** Whether the caller now holds the lock: {@link #ACQUIRED} or {@link #OWNER_DIED}. */
    public boolean acquired() {
        return this == ACQUIRED || this == OWNER_DIED;
    }
}
