package io.shmkit.segment;

/**
 * A process registered in a segment's attach table.
 *
 * @param pid       the process id
 * @param startTime its start time in clock ticks since boot (0 if not yet recorded)
 * @param alive     whether that very process (pid and start time) still runs
 */
public record AttachedProcess(long pid, long startTime, boolean alive) {
}
