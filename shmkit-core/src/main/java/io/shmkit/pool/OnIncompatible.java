package io.shmkit.pool;

/**
 * What {@link Pools#start} does when the shared memory it finds cannot be resumed: a layout or
 * configuration difference a migration cannot bridge, a half-initialised base segment whose
 * creator died, a foreign or missing data block.
 */
public enum OnIncompatible {
    /** Refuse to start, with the reason (the default): nothing is changed or removed. */
    REFUSE,
    /**
     * Remove the old segments named by the configuration and cold start. The old objects are
     * lost; {@link Pools#startReport()} says what was discarded and why. A live owner is
     * never discarded.
     */
    DISCARD_AND_COLD_START
}
