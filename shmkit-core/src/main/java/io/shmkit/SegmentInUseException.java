package io.shmkit;

/**
 * Shared memory that allows one live owner at a time (a process section's object pools) is
 * owned by another process that is still alive. The message names the owner's pid.
 */
public final class SegmentInUseException extends ShmException {

    private static final long serialVersionUID = 1L;

    private final long ownerPid;

    public SegmentInUseException(String message, long ownerPid) {
        super(message);
        this.ownerPid = ownerPid;
    }

    /** The pid of the live owner (as seen from the process that was refused). */
    public long ownerPid() {
        return ownerPid;
    }
}
