package io.shmkit;

/**
 * A structure inside a segment violates one of its invariants; the message says which and where.
 */
public final class SegmentCorruptedException extends ShmException {

    private static final long serialVersionUID = 1L;

    public SegmentCorruptedException(String message) {
        super(message);
    }

    public SegmentCorruptedException(String message, Throwable cause) {
        super(message, cause);
    }
}
