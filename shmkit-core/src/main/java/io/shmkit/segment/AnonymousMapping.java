package io.shmkit.segment;

import io.shmkit.HugePagesUnavailableException;
import io.shmkit.internal.Errors;
import io.shmkit.internal.Libc;

import java.lang.foreign.MemorySegment;

/** An anonymous shared mapping, private to its creator; its size is fixed at creation. */
final class AnonymousMapping implements Mapping {

    private final SegmentName name;
    private final long address;
    private static final long HUGE_PAGE_SIZE = 2L << 20;

    private final long size;
    private final boolean huge;
    private boolean released;

    AnonymousMapping(SegmentName name, long address, long size, boolean huge) {
        this.name = name;
        this.address = address;
        this.size = size;
        this.huge = huge;
    }

    /** Maps a new anonymous shared segment (huge pages if asked) and initialises the header. */
    static AnonymousMapping create(SegmentName name, long size, SegmentOptions options) {
        int prot = Libc.PROT_READ | Libc.PROT_WRITE;
        int flags = Libc.MAP_SHARED | Libc.MAP_ANONYMOUS;
        boolean huge = false;
        long length = size;
        long address = Libc.MAP_FAILED;
        if (options.hugePages() != HugePages.OFF) {
            long hugeLength = (size + HUGE_PAGE_SIZE - 1) / HUGE_PAGE_SIZE * HUGE_PAGE_SIZE;
            address = Libc.mmap(0, hugeLength, prot, flags | Libc.MAP_HUGETLB, -1, 0);
            if (address != Libc.MAP_FAILED) {
                huge = true;
                length = hugeLength;
            } else if (options.hugePages() == HugePages.REQUIRE) {
                throw new HugePagesUnavailableException("anonymous segment: mmap(MAP_HUGETLB) failed: "
                        + Libc.strerror(Libc.errno()) + "; reserve huge pages in /proc/sys/vm/nr_hugepages"
                        + " or use HugePages.PREFER");
            }
        }
        if (address == Libc.MAP_FAILED) {
            address = Libc.mmap(0, length, prot, flags, -1, 0);
            if (address == Libc.MAP_FAILED) {
                throw Errors.lastError("mmap", "anonymous segment size=" + length);
            }
            if (options.hugePages() != HugePages.OFF) {
                huge = adviseHugePages(name, address, length, HugePages.PREFER);
            }
        }
        MemorySegment raw = MemorySegment.ofAddress(address).reinterpret(length);
        try {
            HeaderCodec.init(raw, name, length, options);
        } catch (RuntimeException | Error e) {
            Libc.munmap(address, length);
            throw e;
        }
        return new AnonymousMapping(name, address, length, huge);
    }

    private static boolean adviseHugePages(SegmentName name, long address, long size, HugePages policy) {
        if (policy == HugePages.OFF) {
            return false;
        }
        boolean thpForShmem = FileMapping.shmemHugePagesEnabled(name.backend());
        boolean ok = thpForShmem && Libc.madvise(address, size, Libc.MADV_HUGEPAGE) == 0;
        if (!ok && policy == HugePages.REQUIRE) {
            throw new HugePagesUnavailableException("segment " + name + ": huge pages required but transparent huge pages "
                    + "are not available for " + name.backend().label() + " mappings (see "
                    + "/sys/kernel/mm/transparent_hugepage/shmem_enabled); use HugePages.PREFER to fall back");
        }
        return ok;
    }

    @Override
    public boolean hugePages() {
        return huge;
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
