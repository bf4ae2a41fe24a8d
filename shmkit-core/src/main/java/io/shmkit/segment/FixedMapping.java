package io.shmkit.segment;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.Errors;
import io.shmkit.internal.Libc;

/**
 * A mapping whose size is fixed when the backing object is made (anonymous and System V): one
 * range, mapped once, never extended; the kernel gives no file to truncate or lock. What the two
 * share lives here; each subclass makes and unmaps its own kind of object.
 */
abstract sealed class FixedMapping implements Mapping permits AnonymousMapping, SysVMapping {

    /** Huge-page granularity sizes are rounded up to when huge pages are asked for. */
    static final long HUGE_PAGE_SIZE = 2L << 20;

    final SegmentName name;
    final long address;
    final long size;
    private final boolean huge;
    private boolean released;

    FixedMapping(SegmentName name, long address, long size, boolean huge) {
        this.name = name;
        this.address = address;
        this.size = size;
        this.huge = huge;
    }

    static long roundToHugePages(long size) {
        return (size + HUGE_PAGE_SIZE - 1) / HUGE_PAGE_SIZE * HUGE_PAGE_SIZE;
    }

    @Override
    public final boolean hugePages() {
        return huge;
    }

    @Override
    public final long address() {
        return address;
    }

    @Override
    public final long size() {
        return size;
    }

    @Override
    public final void checkNotTruncated() {
        // nothing to truncate: the kernel fixed the size when the object was made
    }

    @Override
    public final boolean headerBacked() {
        return true;
    }

    @Override
    public final void resizeBacking(long target, boolean preallocate) {
        throw new IllegalStateException("backend=" + name.backend().label()
                + " cannot grow"); // Segment.grow refuses first, with the reason
    }

    @Override
    public final void extend(long newSize, int prot) {
        throw new SegmentCorruptedException("segment " + name + ": header records size=" + newSize
                + " but backend=" + name.backend().label() + " cannot change size");
    }

    @Override
    public final void protect(int prot) {
        if (Libc.mprotect(address, size, prot) != 0) {
            throw Errors.lastError("mprotect", "segment " + name);
        }
    }

    @Override
    public final int mappingCount() {
        return released ? 0 : 1;
    }

    @Override
    public final void release() {
        if (!released) {
            released = true;
            unmap();
        }
    }

    /** Unmaps the one range (called once). */
    abstract void unmap();
}
