package io.shmkit.segment;

import io.shmkit.internal.Errors;
import io.shmkit.internal.Libc;

/** A System V segment attached with {@code shmat}; its size is fixed by the kernel. */
final class SysVMapping implements Mapping {

    private final SegmentName name;
    private final int id;
    private final long address;
    private final long size;
    private boolean released;

    SysVMapping(SegmentName name, int id, long address, long size) {
        this.name = name;
        this.id = id;
        this.address = address;
        this.size = size;
    }

    int id() {
        return id;
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
        Libc.ShmidDs ds = Libc.shmStat(id);
        return ds == null ? -1 : ds.size();
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
            Libc.shmdt(address);
        }
    }
}
