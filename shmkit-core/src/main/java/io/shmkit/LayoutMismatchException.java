package io.shmkit;

/**
 * The segment holds a structure of another kind, or with another binary layout (layout hash), than the one the caller expects.
 */
public final class LayoutMismatchException extends ShmException {

    private static final long serialVersionUID = 1L;

    public LayoutMismatchException(String message) {
        super(message);
    }

    public LayoutMismatchException(String message, Throwable cause) {
        super(message, cause);
    }
}
