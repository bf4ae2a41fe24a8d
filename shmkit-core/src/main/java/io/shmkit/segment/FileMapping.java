package io.shmkit.segment;

import io.shmkit.HugePagesUnavailableException;
import io.shmkit.InsufficientSpaceException;
import io.shmkit.SegmentTruncatedException;
import io.shmkit.NotAShmkitSegmentException;
import io.shmkit.ShmException;
import io.shmkit.internal.Errors;
import io.shmkit.internal.Libc;
import io.shmkit.internal.Mem;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.shmkit.internal.SegmentHeader.HEADER_SIZE;
import static io.shmkit.internal.SegmentHeader.OFF_SIZE;

/**
 * A POSIX or file segment mapped into a reservation of address space, so that growing maps the
 * new pages in place and the number of mappings stays bounded however often the segment grows.
 *
 * <pre>
 *  reserveBase                      reserveBase + size                reserveBase + reserve
 *  |-- MAP_SHARED file pages, one VMA --|-- PROT_NONE, MAP_NORESERVE, no memory --------|
 * </pre>
 *
 * <p>At attach, {@code reserve} bytes of address space are taken with an inaccessible private
 * mapping ({@code PROT_NONE}, {@code MAP_NORESERVE}: no memory, no swap, not counted against
 * overcommit), and the file is mapped over its start with {@code MAP_FIXED}. {@link #extend}
 * maps only the new pages, again with {@code MAP_FIXED}, right after the old ones: the kernel
 * merges them into the same mapping (same file, contiguous offsets, same flags), so a segment
 * grown 70,000 times is still one line of {@code /proc/self/maps}. The start address never
 * changes, so every {@code MemorySegment} handed out earlier stays valid.
 *
 * <p>Past the reservation (another process grew the segment beyond what this attachment
 * reserved), the whole file is mapped again into a new reservation of at least twice the new
 * size. The old reservation stays mapped until close, so old views keep working; since each
 * relocation at least doubles the reservation, an attachment holds at most
 * log2(maximum size / first reservation) + 1 mappings (about 11 with the defaults).
 *
 * <p>Views never reach the inaccessible part: {@link Segment} bounds every view by
 * {@link #size()}, so an access past the mapped size is an exception, never a fault.
 */
final class FileMapping implements Mapping {

    /** Default address space reserved per attachment: at least this, or four times the size. */
    static final long DEFAULT_RESERVE = 64L << 30;
    /** Largest reservation asked for (the largest segment size shmkit accepts is 2^46). */
    static final long MAX_RESERVE = 1L << 46;
    private static final long HUGE_PAGE_SIZE = 2L << 20;

    private final SegmentName name;
    private final int fd;
    private final boolean huge;
    private final int share; // MAP_SHARED, or MAP_PRIVATE for an inspection snapshot
    private final List<long[]> retired = new ArrayList<>(); // {reserveBase, reserveLength, mapped}
    private long reserveBase;
    private long reserveLength;
    private long size;
    private boolean released;

    private FileMapping(SegmentName name, int fd, boolean huge, int share) {
        this.name = name;
        this.fd = fd;
        this.huge = huge;
        this.share = share;
    }

    /**
     * Maps {@code size} bytes of {@code fd} into a new reservation of {@code reserve} bytes
     * (0: the default). On failure nothing stays mapped; the caller still owns {@code fd}.
     */
    static FileMapping map(SegmentName name, int fd, long size, int prot, long reserve, boolean huge) {
        FileMapping m = new FileMapping(name, fd, huge, Libc.MAP_SHARED);
        m.mapInto(reservationFor(size, reserve), size, prot);
        return m;
    }

    /**
     * Maps {@code size} bytes of {@code fd} copy-on-write ({@code MAP_PRIVATE}, readable and
     * writable, even over a read-only descriptor): this process reads the shared data, and
     * whatever it writes stays in private copies of the pages it wrote, never reaching the file
     * or any other process. For inspection tools that run code that writes (a lock, a repair).
     */
    static FileMapping mapPrivate(SegmentName name, int fd, long size) {
        FileMapping m = new FileMapping(name, fd, false, Libc.MAP_PRIVATE);
        m.mapInto(size, size, Libc.PROT_READ | Libc.PROT_WRITE);
        return m;
    }

    /**
     * A copy-on-write snapshot of the first {@code size} bytes of the segment file of
     * {@code name}, opened read-only (see {@link #mapPrivate}).
     */
    static FileMapping snapshot(SegmentName name, long size) {
        int fd = openExisting(name, true);
        try {
            return mapPrivate(name, fd, size); // owns fd from here
        } catch (RuntimeException | Error e) {
            Libc.close(fd);
            throw e;
        }
    }

    /** Removes the name of the segment file; false if there is none. */
    static boolean unlink(SegmentName name) {
        if (Libc.unlink(name.path().toString()) != 0) {
            int err = Libc.errno();
            if (err == Libc.ENOENT) {
                return false;
            }
            throw Errors.fromErrno("unlink", "segment " + name, err);
        }
        return true;
    }

    /** The reservation an attachment of {@code size} bytes takes when the caller asked for {@code reserve}. */
    static long reservationFor(long size, long reserve) {
        long r = reserve > 0 ? reserve : Math.max(DEFAULT_RESERVE, size > MAX_RESERVE / 4 ? MAX_RESERVE : 4 * size);
        return Math.max(size, Math.min(r, MAX_RESERVE));
    }

    int fd() {
        return fd;
    }

    @Override
    public boolean hugePages() {
        return huge;
    }

    @Override
    public long address() {
        return reserveBase;
    }

    @Override
    public long size() {
        return size;
    }

    /** Bytes of address space reserved at {@link #address()}. */
    long reserved() {
        return reserveLength;
    }

    @Override
    public long backingSize() {
        Libc.Stat st = Libc.fstat(fd);
        return st == null ? -1 : st.size();
    }

    @Override
    public void checkNotTruncated() {
        long backing = backingSize();
        if (backing >= 0 && backing < size) {
            throw new SegmentTruncatedException("segment " + name + " was truncated by another process: its file has size="
                    + backing + " but size=" + size + " is mapped; the data past the new end is gone");
        }
    }

    @Override
    public boolean headerBacked() {
        return backingSize() >= HEADER_SIZE;
    }

    @Override
    public void resizeBacking(long target, boolean preallocate) {
        long backing = backingSize();
        if (backing < 0) {
            throw Errors.lastError("fstat", "segment " + name);
        }
        if (backing < target) {
            sizeBacking(name, fd, backing, target, preallocate);
        }
    }

    /** Maps up to {@code newSize} bytes, which the file must already hold (another process grew it). */
    @Override
    public void extend(long newSize, int prot) {
        if (newSize <= size) {
            return;
        }
        long backing = backingSize();
        if (backing < 0) {
            throw Errors.lastError("fstat", "segment " + name);
        }
        if (backing < newSize) {
            throw new SegmentTruncatedException("segment " + name + ": header records size=" + newSize
                    + " but the backing object has size=" + backing);
        }
        if (newSize > reserveLength) {
            relocate(newSize, prot);
            return;
        }
        long at = reserveBase + size;
        long length = newSize - size;
        long got = Libc.mmap(at, length, prot, share | Libc.MAP_FIXED, fd, size);
        if (got == Libc.MAP_FAILED) {
            ShmException e = Errors.lastError("mmap", "segment " + name + " size=" + newSize);
            // a failed MAP_FIXED may have dropped the reservation there: take the range back
            Libc.mmap(at, length, Libc.PROT_NONE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE
                    | Libc.MAP_FIXED, -1, 0);
            throw e;
        }
        if (huge) {
            Libc.madvise(at, length, Libc.MADV_HUGEPAGE);
        }
        size = newSize;
    }

    /** Maps the whole file into a new, larger reservation; the old one stays until release. */
    private void relocate(long newSize, int prot) {
        long[] old = {reserveBase, reserveLength, size};
        long want = Math.max(reservationFor(newSize, 0), Math.min(MAX_RESERVE, 2 * Math.max(newSize, reserveLength)));
        mapInto(want, newSize, prot);
        retired.add(old);
    }

    /** Reserves up to {@code reserve} bytes (halving on refusal, never below {@code length}) and maps the file there. */
    private void mapInto(long reserve, long length, int prot) {
        long r = Math.max(reserve, length);
        long base;
        while (true) {
            base = reserveAddressSpace(r);
            if (base != Libc.MAP_FAILED) {
                break;
            }
            if (r == length) {
                throw Errors.lastError("mmap", "segment " + name + ": reserving address space size=" + r);
            }
            r = Math.max(length, (r / 2 + Segment.PAGE_SIZE - 1) & -Segment.PAGE_SIZE); // RLIMIT_AS, or a crowded address space
        }
        long got = Libc.mmap(base, length, prot, share | Libc.MAP_FIXED, fd, 0);
        if (got == Libc.MAP_FAILED) {
            ShmException e = Errors.lastError("mmap", "segment " + name + " size=" + length);
            Libc.munmap(base, r);
            throw e;
        }
        if (huge) {
            Libc.madvise(base, length, Libc.MADV_HUGEPAGE);
        }
        reserveBase = base;
        reserveLength = r;
        size = length;
    }

    /** An inaccessible reservation of {@code length} bytes, 2 MiB aligned for huge pages; MAP_FAILED if refused. */
    private long reserveAddressSpace(long length) {
        int flags = Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE;
        if (!huge) {
            return Libc.mmap(0, length, Libc.PROT_NONE, flags, -1, 0);
        }
        long raw = Libc.mmap(0, length + HUGE_PAGE_SIZE, Libc.PROT_NONE, flags, -1, 0);
        if (raw == Libc.MAP_FAILED) {
            return raw;
        }
        long aligned = (raw + HUGE_PAGE_SIZE - 1) & -HUGE_PAGE_SIZE;
        if (aligned > raw) {
            Libc.munmap(raw, aligned - raw);
        }
        long tail = raw + length + HUGE_PAGE_SIZE - (aligned + length);
        if (tail > 0) {
            Libc.munmap(aligned + length, tail);
        }
        return aligned;
    }

    @Override
    public void protect(int prot) {
        if (Libc.mprotect(reserveBase, size, prot) != 0) {
            throw Errors.lastError("mprotect", "segment " + name);
        }
        for (long[] r : retired) {
            if (Libc.mprotect(r[0], r[2], prot) != 0) {
                throw Errors.lastError("mprotect", "segment " + name);
            }
        }
    }

    @Override
    public int mappingCount() {
        return released ? 0 : 1 + retired.size();
    }

    @Override
    public void release() {
        if (released) {
            return;
        }
        unmapOnly();
        Libc.close(fd);
    }

    /** Unmaps everything but keeps the file open (an opener that maps again after waiting for its creator). */
    void unmapOnly() {
        released = true;
        Libc.munmap(reserveBase, reserveLength); // the file pages and the rest of the reservation
        for (long[] r : retired) {
            Libc.munmap(r[0], r[1]);
        }
        retired.clear();
    }

    // ------------------------------------------------------------------ the file

    /** Creates the file (exclusively), reserves its space, maps it and initialises the header; on failure removes it. */
    static FileMapping create(SegmentName name, long size, SegmentOptions options) {
        String path = name.path().toString();
        int fd = Libc.open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC,
                options.mode());
        if (fd < 0) {
            throw Errors.lastError("open", "segment " + name);
        }
        FileMapping mapping = null;
        try {
            // the umask may have narrowed the mode given to open(); set exactly what was asked
            if (Libc.fchmod(fd, options.mode()) != 0) {
                throw Errors.lastError("fchmod", "segment " + name);
            }
            sizeBacking(name, fd, 0, size, options.preallocate());
            boolean huge = hugePagesGranted(name, size, options.hugePages(), !options.preallocate());
            mapping = map(name, fd, size, Libc.PROT_READ | Libc.PROT_WRITE, options.addressReserve(), huge);
            MemorySegment raw = MemorySegment.ofAddress(mapping.address()).reinterpret(size);
            HeaderCodec.init(raw, name, size, options);
            return mapping;
        } catch (RuntimeException | Error e) {
            releaseOrClose(mapping, fd);
            Libc.unlink(path); // never leave a half-made segment behind
            throw e;
        }
    }

    /**
     * Opens an existing segment file without blocking, waits (unless read-only) for its creator
     * to publish the header, maps it and validates the header.
     */
    static FileMapping open(SegmentName name, SegmentOptions options) {
        boolean ro = options.readOnly();
        int fd = openExisting(name, ro); // a FIFO or device is refused here, without blocking
        FileMapping mapping = null;
        try {
            // inspection (read-only) never waits: listing must not stall on foreign zero-filled files
            long wait = ro ? 0 : HeaderCodec.CREATOR_WAIT_NANOS;
            long deadline = System.nanoTime() + wait;
            long lastBlocks = -1;
            int regrows = 0;
            while (true) {
                Libc.Stat st = Libc.fstat(fd);
                if (st == null) {
                    throw Errors.lastError("fstat", "segment " + name);
                }
                if (st.size() == 0 && st.blocks() != lastBlocks && lastBlocks >= 0 && !ro) {
                    // the creator is still reserving the space (posix_fallocate sets the size at the
                    // end, after every page): wait as long as it makes progress, not a fixed second
                    deadline = System.nanoTime() + wait;
                }
                lastBlocks = st.blocks();
                if (st.size() == 0) {
                    if (System.nanoTime() < deadline) {
                        HeaderCodec.pause();
                        continue;
                    }
                    throw new SegmentTruncatedException("segment " + name + " is empty (size=0): not a shmkit "
                            + "segment, or its creator died before sizing it");
                }
                if (st.size() < HEADER_SIZE) {
                    throw new SegmentTruncatedException("segment " + name + " is truncated: size=" + st.size()
                            + " is smaller than the " + HEADER_SIZE + "-byte header");
                }
                long length = st.size() & -Segment.PAGE_SIZE;
                mapping = map(name, fd, length, Libc.PROT_READ | (ro ? 0 : Libc.PROT_WRITE),
                        options.addressReserve(), hugePagesGranted(name, length, options.hugePages(), false));
                MemorySegment raw = MemorySegment.ofAddress(mapping.address()).reinterpret(length);
                if (HeaderCodec.awaitMagic(raw, deadline)) {
                    try {
                        HeaderCodec.validate(name, raw, length, options);
                        break;
                    } catch (SegmentTruncatedException e) {
                        if (!grownSinceFstat(fd, raw, length) || regrows++ >= MAX_REGROWS) {
                            throw e;
                        }
                        mapping.unmapOnly(); // another process grew it after our fstat: map the new size
                        mapping = null;
                        continue;
                    }
                }
                if (System.nanoTime() >= deadline) {
                    HeaderCodec.validate(name, raw, length, options); // throws with the precise reason
                }
                mapping.unmapOnly();
                mapping = null;
            }
            return mapping;
        } catch (RuntimeException | Error e) {
            releaseOrClose(mapping, fd);
            throw e;
        }
    }

    /** Times {@link #open} maps again because the segment grew while it was mapping it. */
    private static final int MAX_REGROWS = 1000;

    /**
     * Whether the header records more than the {@code length} bytes mapped because a grow landed
     * between the fstat and the mapping (the file now holds the recorded size), rather than
     * because the file was cut (then {@code validate} reports the truncation).
     */
    private static boolean grownSinceFstat(int fd, MemorySegment raw, long length) {
        long recorded = Mem.getLongAcquire(raw, OFF_SIZE);
        if (recorded <= length) {
            return false;
        }
        Libc.Stat now = Libc.fstat(fd);
        return now != null && now.size() >= recorded;
    }

    /** Cleanup after a failed create or open: the mapping (which owns the fd) if there is one, else the fd. */
    private static void releaseOrClose(FileMapping mapping, int fd) {
        if (mapping != null) {
            mapping.release();
        } else {
            Libc.close(fd);
        }
    }

    /**
     * Whether the kernel's policy gives this file's mapping transparent huge pages (we advise
     * them whenever the options ask; {@code advisedFirst}: before its pages are allocated);
     * throws for REQUIRE when it does not, naming the setting.
     */
    private static boolean hugePagesGranted(SegmentName name, long size, HugePages policy, boolean advisedFirst) {
        if (policy == HugePages.OFF) {
            return false;
        }
        TransparentHugePages.Verdict v = TransparentHugePages.forFile(name.path(), size, advisedFirst);
        if (!v.granted() && policy == HugePages.REQUIRE) {
            throw new HugePagesUnavailableException("segment " + name + ": huge pages required but not available: " + v.why()
                    + "; use HugePages.PREFER to fall back");
        }
        return v.granted();
    }

    /**
     * Opens an existing segment file without blocking and without following a symbolic link,
     * and refuses anything but a regular file at once (a FIFO would block a plain open forever).
     */
    static int openExisting(SegmentName name, boolean readOnly) {
        int fd = Libc.open(name.path().toString(), (readOnly ? Libc.O_RDONLY : Libc.O_RDWR) | Libc.O_NOFOLLOW
                | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (fd < 0) {
            int err = Libc.errno();
            if (err == Libc.ELOOP) {
                throw new NotAShmkitSegmentException("segment " + name + " is a symbolic link (" + name.path()
                        + "); shmkit never follows links to segments");
            }
            throw Errors.fromErrno("open", "segment " + name, err);
        }
        try {
            checkRegular(name, fd);
            return fd;
        } catch (RuntimeException e) {
            Libc.close(fd);
            throw e;
        }
    }

    /** Refuses a non-regular file (FIFO, device, socket, directory) with a clear error. */
    static Libc.Stat checkRegular(SegmentName name, int fd) {
        Libc.Stat st = Libc.fstat(fd);
        if (st == null) {
            throw Errors.lastError("fstat", "segment " + name);
        }
        if (!st.isRegular()) {
            throw new NotAShmkitSegmentException("segment " + name + " is a " + st.typeName() + " (" + name.path()
                    + "), not a regular file: not a shmkit segment");
        }
        return st;
    }

    /**
     * Sizes the backing file from {@code from} to {@code to} bytes. With {@code preallocate}
     * the pages are reserved ({@code posix_fallocate}), so a full file system fails here with
     * {@link InsufficientSpaceException} and the file keeps its old size; without, the file is
     * only extended ({@code ftruncate}, sparse).
     */
    static void sizeBacking(SegmentName name, int fd, long from, long to, boolean preallocate) {
        checkSpace(name, fd, to, preallocate ? to - from : 0);
        if (!preallocate) {
            if (Libc.ftruncate(fd, to) != 0) {
                throw Errors.lastError("ftruncate", "segment " + name + " size=" + to);
            }
            return;
        }
        int err = Libc.fallocate(fd, from, to - from); // returns the error number, does not set errno
        if (err != 0) {
            Libc.Stat st = Libc.fstat(fd);
            if (st != null && st.size() > from) {
                Libc.ftruncate(fd, from); // never keep a partly reserved tail
            }
            throw Errors.fromErrno("posix_fallocate", "segment " + name + " size=" + human(to), err);
        }
    }

    /**
     * Refuses at once a size larger than the whole file system, and a reservation of
     * {@code needed} bytes larger than what is available now (checked before {@code posix_fallocate},
     * which on tmpfs would fill the file system page by page before it gives up).
     */
    private static void checkSpace(SegmentName name, int fd, long size, long needed) {
        Libc.StatVfs vfs = Libc.fstatvfs(fd);
        if (vfs == null || vfs.totalBytes() <= 0) {
            return; // the file system does not say; fallocate or the first touch will
        }
        String where = name.backend() == Backend.POSIX ? "/dev/shm" : String.valueOf(name.path().getParent());
        if (size > vfs.totalBytes()) {
            throw new InsufficientSpaceException("segment " + name + " size=" + human(size)
                    + " is larger than the file system of " + where + " (" + human(vfs.totalBytes()) + " in total, "
                    + human(vfs.availableBytes()) + " available)");
        }
        if (needed > vfs.availableBytes()) {
            throw new InsufficientSpaceException("segment " + name + ": cannot reserve " + human(needed)
                    + " for size=" + human(size) + ": the file system of " + where + " has " + human(vfs.availableBytes())
                    + " available (" + human(vfs.totalBytes()) + " in total)");
        }
    }

    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
