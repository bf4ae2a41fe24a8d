package io.shmkit;

/**
 * The named segment does not exist (open without create).
 */
public final class SegmentNotFoundException extends ShmException {

    private static final long serialVersionUID = 1L;

    public SegmentNotFoundException(String message) {
        super(message);
    }

    public SegmentNotFoundException(String message, Throwable cause) {
        super(message, cause);
    }
}
