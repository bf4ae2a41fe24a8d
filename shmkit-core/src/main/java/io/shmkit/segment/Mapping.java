package io.shmkit.segment;

/**
 * How one attachment maps its segment: the part of {@link Segment} that talks to the kernel
 * about addresses, one final class per kind of backing object. A mapping knows where the
 * segment starts in this process, how much of it is mapped, and how to extend, protect and
 * release it; the header, the attach table and the directory are the segment's business.
 *
 * <p>Not thread-safe: {@link Segment} calls every method under its own monitor.
 */
sealed interface Mapping permits FileMapping, FixedMapping {

    /** Start of the segment in this process. Stable until {@link #extend} relocates it. */
    long address();

    /** Whether huge pages back the mapping (as far as the kernel lets us know). */
    boolean hugePages();

    /** Bytes mapped from {@link #address()}. */
    long size();

    /** Size of the backing object as the kernel reports it now, or -1 if it cannot tell. */
    long backingSize();

    /**
     * Refuses to go on when another process truncated the backing file below the mapped size:
     * touching the pages past the new end would raise SIGBUS (an {@link InternalError} in the
     * JVM). One {@code fstat} for a file; nothing for a backing of fixed size. A truncation that
     * happens after it is not caught.
     *
     * @throws io.shmkit.SegmentTruncatedException if the file is shorter than what is mapped
     */
    void checkNotTruncated();

    /** Whether the header page is still backed (false once a foreign truncation cut it off, or unknown). */
    boolean headerBacked();

    /**
     * Makes the backing object at least {@code target} bytes long, reserving the pages if
     * {@code preallocate} (growing; only backings that can grow support it).
     */
    void resizeBacking(long target, boolean preallocate);

    /**
     * Maps the segment up to {@code newSize} bytes. Views over the old range stay valid. Only
     * backings that can grow support it.
     */
    void extend(long newSize, int prot);

    /** {@code mprotect} of everything mapped, current and earlier ranges alike. */
    void protect(int prot);

    /** How many separate mappings of the backing object this attachment holds (for tests and tools). */
    int mappingCount();

    /** Unmaps everything and releases the backing handle. Idempotent. */
    void release();
}
