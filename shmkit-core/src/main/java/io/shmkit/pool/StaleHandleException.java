package io.shmkit.pool;

/**
 * A handle names an object that no longer exists: its slot was freed, or freed and reused by
 * another object (a newer generation), or the handle belongs to another type. Raised instead
 * of ever reaching another object through an old handle.
 */
public final class StaleHandleException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    public StaleHandleException(String message) {
        super(message);
    }
}
