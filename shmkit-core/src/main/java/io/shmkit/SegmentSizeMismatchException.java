package io.shmkit;

/**
 * The segment's size does not match what the caller asked for or what the header says.
 */
public final class SegmentSizeMismatchException extends ShmException {

    private static final long serialVersionUID = 1L;

    public SegmentSizeMismatchException(String message) {
        super(message);
    }

    public SegmentSizeMismatchException(String message, Throwable cause) {
        super(message, cause);
    }
}
