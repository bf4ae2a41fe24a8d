package io.shmkit;

/**
 * The segment was written by a newer shmkit whose header format this version cannot read.
 */
public final class UnsupportedFormatException extends ShmException {

    private static final long serialVersionUID = 1L;

    public UnsupportedFormatException(String message) {
        super(message);
    }

    public UnsupportedFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
