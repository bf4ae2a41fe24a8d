package io.shmkit.segment;

import io.shmkit.HugePagesUnavailableException;
import io.shmkit.SegmentTruncatedException;
import io.shmkit.ShmException;
import io.shmkit.internal.Errors;
import io.shmkit.internal.Libc;

import java.lang.foreign.MemorySegment;

import static io.shmkit.internal.SegmentHeader.HEADER_SIZE;

/** A System V segment attached with {@code shmat}; its size is fixed by the kernel. */
final class SysVMapping extends FixedMapping {

    private final int id;

    private SysVMapping(SegmentName name, int id, long address, long size, boolean huge) {
        super(name, address, size, huge);
        this.id = id;
    }

    /** Creates the segment (exclusively), attaches it and initialises the header; on failure removes it. */
    static SysVMapping create(SegmentName name, long size, SegmentOptions options) {
        boolean huge = options.hugePages() != HugePages.OFF;
        long length = huge ? roundToHugePages(size) : size;
        int flags = Libc.IPC_CREAT | Libc.IPC_EXCL | options.mode();
        int id = Libc.shmget(name.key(), length, flags | (huge ? Libc.SHM_HUGETLB : 0));
        if (id < 0 && huge) {
            int err = Libc.errno();
            if (err == Libc.EEXIST) {
                throw Errors.fromErrno("shmget", "segment " + name, err);
            }
            if (options.hugePages() == HugePages.REQUIRE) {
                throw new HugePagesUnavailableException("segment " + name + ": shmget(SHM_HUGETLB) failed: "
                        + Libc.strerror(err) + "; reserve huge pages in /proc/sys/vm/nr_hugepages or use HugePages.PREFER");
            }
            huge = false;
            length = size;
            id = Libc.shmget(name.key(), length, flags);
        }
        if (id < 0) {
            throw Errors.lastError("shmget", "segment " + name);
        }
        long address = Libc.shmat(id, 0, 0);
        if (address == Libc.MAP_FAILED) {
            ShmException e = Errors.lastError("shmat", "segment " + name);
            Libc.shmRemove(id);
            throw e;
        }
        try {
            MemorySegment raw = MemorySegment.ofAddress(address).reinterpret(length);
            HeaderCodec.init(raw, name, length, options);
            return new SysVMapping(name, id, address, length, huge);
        } catch (RuntimeException | Error e) {
            Libc.shmdt(address);
            Libc.shmRemove(id);
            throw e;
        }
    }

    /** Attaches an existing segment, waits (unless read-only) for its header and validates it. */
    static SysVMapping open(SegmentName name, SegmentOptions options) {
        int id = Libc.shmget(name.key(), 0, 0);
        if (id < 0) {
            throw Errors.lastError("shmget", "segment " + name);
        }
        Libc.ShmidDs ds = Libc.shmStat(id);
        if (ds == null) {
            throw Errors.lastError("shmctl(IPC_STAT)", "segment " + name);
        }
        if (ds.size() < HEADER_SIZE) {
            throw new SegmentTruncatedException("segment " + name + " is truncated: size=" + ds.size()
                    + " is smaller than the " + HEADER_SIZE + "-byte header");
        }
        long address = Libc.shmat(id, 0, options.readOnly() ? Libc.SHM_RDONLY : 0);
        if (address == Libc.MAP_FAILED) {
            throw Errors.lastError("shmat", "segment " + name);
        }
        try {
            MemorySegment raw = MemorySegment.ofAddress(address).reinterpret(ds.size());
            HeaderCodec.awaitMagic(raw, System.nanoTime() + (options.readOnly() ? 0 : HeaderCodec.CREATOR_WAIT_NANOS));
            HeaderCodec.validate(name, raw, ds.size(), options);
            return new SysVMapping(name, id, address, ds.size(), false);
        } catch (RuntimeException | Error e) {
            Libc.shmdt(address);
            throw e;
        }
    }

    /** Marks the segment of {@code name} for removal; false if there is none. */
    static boolean unlink(SegmentName name) {
        int id = Libc.shmget(name.key(), 0, 0);
        if (id < 0) {
            int err = Libc.errno();
            if (err == Libc.ENOENT) {
                return false;
            }
            throw Errors.fromErrno("shmget", "segment " + name, err);
        }
        if (Libc.shmRemove(id) != 0) {
            throw Errors.lastError("shmctl(IPC_RMID)", "segment " + name);
        }
        return true;
    }

    @Override
    public long backingSize() {
        Libc.ShmidDs ds = Libc.shmStat(id);
        return ds == null ? -1 : ds.size();
    }

    @Override
    void unmap() {
        Libc.shmdt(address);
    }
}
