package io.shmkit.segment;

/**
 * How one attachment maps its segment: the part of {@link Segment} that talks to the kernel
 * about addresses, one final class per kind of backing object. A mapping knows where the
 * segment starts in this process, how much of it is mapped, and how to extend, protect and
 * release it; the header, the attach table and the directory are the segment's business.
 *
 * <p>Not thread-safe: {@link Segment} calls every method under its own monitor.
 */
sealed interface Mapping permits FileMapping, SysVMapping, AnonymousMapping {

    /** Start of the segment in this process. Stable until {@link #extend} relocates it. */
    long address();

    /** Whether huge pages back the mapping (as far as the kernel lets us know). */
    boolean hugePages();

    /** Bytes mapped from {@link #address()}. */
    long size();

    /** Size of the backing object as the kernel reports it now, or -1 if it cannot tell. */
    long backingSize();

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
