package io.shmkit;

/**
 * A segment of that name already exists (exclusive create).
 */
public final class SegmentExistsException extends ShmException {

    private static final long serialVersionUID = 1L;

    public SegmentExistsException(String message) {
        super(message);
    }

    public SegmentExistsException(String message, Throwable cause) {
        super(message, cause);
    }
}
