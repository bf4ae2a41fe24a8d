package io.shmkit.segment;

/**
 * A process registered in a segment's attach table. The pid, start time and pid namespace are
 * diagnostics written by the process itself (a pid means little in another pid namespace);
 * {@link #liveness()} comes from the kernel (the slot's OFD lock) and is what tools act on.
 *
 * @param pid          the process id, as seen in the registering process's own pid namespace
 * @param startTime    its start time in clock ticks since boot (0 if not yet recorded)
 * @param liveness     whether it still runs: alive, dead, or unknown (treated as alive)
 * @param slot         its attach-table slot
 * @param pidNamespace inode of its pid namespace ({@code /proc/<pid>/ns/pid}), 0 if unknown
 */
public record AttachedProcess(long pid, long startTime, Liveness liveness, int slot, long pidNamespace) {

    /** Compatibility constructor: a process known alive or dead, slot and namespace unknown. */
    public AttachedProcess(long pid, long startTime, boolean alive) {
        this(pid, startTime, alive ? Liveness.ALIVE : Liveness.DEAD, -1, 0);
    }

    /**
     * Whether the process may still run (alive or unknown): fail closed, a process that cannot
     * be seen (another pid namespace, hidepid) is never reported as gone.
     */
    public boolean alive() {
        return liveness.mayBeAlive();
    }
}
