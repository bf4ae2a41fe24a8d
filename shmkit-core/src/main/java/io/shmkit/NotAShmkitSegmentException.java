package io.shmkit;

/**
 * The object exists but does not start with a shmkit header (wrong magic, or its creator never finished initialising it).
 */
public final class NotAShmkitSegmentException extends ShmException {

    private static final long serialVersionUID = 1L;

    public NotAShmkitSegmentException(String message) {
        super(message);
    }

    public NotAShmkitSegmentException(String message, Throwable cause) {
        super(message, cause);
    }
}
