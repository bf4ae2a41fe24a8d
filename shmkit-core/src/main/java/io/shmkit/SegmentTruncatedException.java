package io.shmkit;

/**
 * The backing object is smaller than a shmkit header, or smaller than the size its header records.
 */
public final class SegmentTruncatedException extends ShmException {

    private static final long serialVersionUID = 1L;

    public SegmentTruncatedException(String message) {
        super(message);
    }

    public SegmentTruncatedException(String message, Throwable cause) {
        super(message, cause);
    }
}
