package io.shmkit;

/**
 * The operating system refused access to the segment (EACCES / EPERM).
 */
public final class ShmPermissionException extends ShmException {

    private static final long serialVersionUID = 1L;

    public ShmPermissionException(String message) {
        super(message);
    }

    public ShmPermissionException(String message, Throwable cause) {
        super(message, cause);
    }
}
