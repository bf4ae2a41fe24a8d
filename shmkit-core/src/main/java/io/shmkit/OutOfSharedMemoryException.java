package io.shmkit;

/**
 * An allocator could not satisfy a request. The message names the allocator, the request and
 * what is left, for example {@code slab 'sessions': cannot allocate size=4096 align=8, free=1024 of 65536}.
 * Callers that treat "full" as an expected outcome use the allocator's {@code tryAllocate},
 * which returns 0 instead.
 */
public final class OutOfSharedMemoryException extends ShmException {

    private static final long serialVersionUID = 1L;

    public OutOfSharedMemoryException(String message) {
        super(message);
    }
}
