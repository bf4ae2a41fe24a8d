package io.shmkit;

/**
 * The owner of a robust lock died while holding it and the caller asked to be told by exception rather than by return value.
 */
public final class OwnerDiedException extends ShmException {

    private static final long serialVersionUID = 1L;

    public OwnerDiedException(String message) {
        super(message);
    }

    public OwnerDiedException(String message, Throwable cause) {
        super(message, cause);
    }
}
