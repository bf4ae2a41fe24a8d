package io.shmkit;

/**
 * A system call failed for a reason no more specific exception covers. Carries the call's
 * name and the {@code errno} it reported.
 */
public final class NativeException extends ShmException {

    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    public NativeException(String call, int errno, String message) {
        super(message);
        this.call = call;
        this.errno = errno;
    }

    /** The failed call, e.g. {@code "mmap"}. */
    public String call() {
        return call;
    }

    /** The C {@code errno} value the call reported. */
    public int errno() {
        return errno;
    }
}
