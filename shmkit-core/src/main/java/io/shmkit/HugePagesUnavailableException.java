package io.shmkit;

/**
 * Huge pages were required but the system could not provide them.
 */
public final class HugePagesUnavailableException extends ShmException {

    private static final long serialVersionUID = 1L;

    public HugePagesUnavailableException(String message) {
        super(message);
    }

    public HugePagesUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
