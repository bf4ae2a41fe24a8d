package io.shmkit.segment;

/**
 * The answer to "does the process that recorded this owner still run?", from positive kernel
 * evidence only (see {@code docs/LOCKS.md}, "Owner identity and liveness").
 *
 * <ul>
 *   <li>{@link #ALIVE}: the kernel still holds the owner's registration token (an OFD lock on
 *       its attach slot), or the owner is this very process.</li>
 *   <li>{@link #DEAD}: positive evidence: the token was dropped, the slot was re-registered by
 *       a later process (its generation changed), the owner detached, or (System V only, same
 *       pid namespace) {@code kill(pid, 0)} says no such process.</li>
 *   <li>{@link #UNKNOWN}: the system cannot tell (another pid namespace without a token, an
 *       error from the kernel, memory outside any segment). Treated exactly like ALIVE: no
 *       lock is taken over, no block freed, no segment removed.</li>
 * </ul>
 */
public enum Liveness {
    ALIVE, DEAD, UNKNOWN;

    /** Whether the owner must be treated as running (ALIVE or UNKNOWN): fail closed. */
    public boolean mayBeAlive() {
        return this != DEAD;
    }

    /** Lower-case label for tools: {@code alive}, {@code dead}, {@code unknown}. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
