package io.shmkit.segment;

import io.shmkit.internal.Errors;
import io.shmkit.internal.Libc;

/** An anonymous shared mapping, private to its creator; its size is fixed at creation. */
final class AnonymousMapping implements Mapping {

    private final SegmentName name;
    private final long address;
    private final long size;
    private boolean released;

    AnonymousMapping(SegmentName name, long address, long size) {
        this.name = name;
        this.address = address;
        this.size = size;
    }

    @Override
    public long address() {
        return address;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public long backingSize() {
        return size;
    }

    @Override
    public void extend(long newSize, int prot) {
        throw new io.shmkit.SegmentCorruptedException("segment " + name + ": header records size=" + newSize
                + " but backend=" + name.backend().label() + " cannot change size");
    }

    @Override
    public void protect(int prot) {
        if (Libc.mprotect(address, size, prot) != 0) {
            throw Errors.lastError("mprotect", "segment " + name);
        }
    }

    @Override
    public int mappingCount() {
        return released ? 0 : 1;
    }

    @Override
    public void release() {
        if (!released) {
            released = true;
            Libc.munmap(address, size);
        }
    }
}
