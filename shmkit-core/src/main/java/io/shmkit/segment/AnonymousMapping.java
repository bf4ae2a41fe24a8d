package io.shmkit.segment;

import io.shmkit.HugePagesUnavailableException;
import io.shmkit.internal.Errors;
import io.shmkit.internal.Libc;

import java.lang.foreign.MemorySegment;

/**
 * An anonymous mapping: shared and private to its creator, or a private copy of another
 * segment (an inspection snapshot); its size is fixed at creation.
 */
final class AnonymousMapping extends FixedMapping {

    private AnonymousMapping(SegmentName name, long address, long size, boolean huge) {
        super(name, address, size, huge);
    }

    /** Maps a new anonymous shared segment (huge pages if asked) and initialises the header. */
    static AnonymousMapping create(SegmentName name, long size, SegmentOptions options) {
        int prot = Libc.PROT_READ | Libc.PROT_WRITE;
        int flags = Libc.MAP_SHARED | Libc.MAP_ANONYMOUS;
        boolean huge = false;
        long length = size;
        long address = Libc.MAP_FAILED;
        if (options.hugePages() != HugePages.OFF) {
            long hugeLength = roundToHugePages(size);
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
        TransparentHugePages.Verdict v = TransparentHugePages.forInternalShmem(true);
        boolean ok = v.granted() && Libc.madvise(address, size, Libc.MADV_HUGEPAGE) == 0;
        if (!ok && policy == HugePages.REQUIRE) {
            throw new HugePagesUnavailableException("segment " + name + ": huge pages required but transparent huge pages "
                    + "are not available for " + name.backend().label() + " mappings: "
                    + (v.granted() ? "madvise(MADV_HUGEPAGE) failed" : v.why()) + "; use HugePages.PREFER to fall back");
        }
        return ok;
    }

    /**
     * A private copy of the first {@code size} bytes of {@code source} (another segment's
     * memory): an inspection snapshot of a segment that has no file to map privately.
     */
    static AnonymousMapping copyOf(SegmentName name, MemorySegment source, long size) {
        long address = Libc.mmap(0, size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
        if (address == Libc.MAP_FAILED) {
            throw Errors.lastError("mmap", "snapshot of segment " + name + " size=" + size);
        }
        try {
            MemorySegment.copy(source, 0, MemorySegment.ofAddress(address).reinterpret(size), 0, size);
        } catch (RuntimeException | Error e) {
            Libc.munmap(address, size); // a fault reading the source (a foreign truncation) leaves nothing mapped
            throw e;
        }
        return new AnonymousMapping(name, address, size, false);
    }

    @Override
    public long backingSize() {
        return size;
    }

    @Override
    void unmap() {
        Libc.munmap(address, size);
    }
}
