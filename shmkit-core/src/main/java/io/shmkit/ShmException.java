package io.shmkit;

/**
 * Root of the errors shmkit raises for problems of the environment or of the data in shared
 * memory: a segment that is missing, foreign, truncated, corrupted or laid out differently,
 * permissions, exhausted capacity, and failed system calls.
 *
 * <p>The family is sealed so that callers can handle it exhaustively. Misuse of the API
 * (bad arguments, wrong state) is reported with {@link IllegalArgumentException} or
 * {@link IllegalStateException} instead; expected outcomes (full, absent, contended) are
 * return values, never exceptions.
 *
 * <p>Every subclass lives in this package so that the sealed hierarchy also holds when
 * shmkit runs on the class path (unnamed module).
 */
public sealed class ShmException extends RuntimeException
        permits SegmentNotFoundException, SegmentExistsException, NotAShmkitSegmentException,
                UnsupportedFormatException, SegmentTruncatedException, SegmentSizeMismatchException,
                ShmPermissionException, LayoutMismatchException, SegmentCorruptedException,
                HugePagesUnavailableException, OutOfSharedMemoryException, InsufficientSpaceException,
                OwnerDiedException, SegmentInUseException, StructureNotFoundException,
                NativeException {

    private static final long serialVersionUID = 1L;

    protected ShmException(String message) {
        super(message);
    }

    protected ShmException(String message, Throwable cause) {
        super(message, cause);
    }
}
