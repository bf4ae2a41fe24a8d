package io.shmkit.segment;

import io.shmkit.HugePagesUnavailableException;
import io.shmkit.LayoutMismatchException;
import io.shmkit.NotAShmkitSegmentException;
import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.SegmentExistsException;
import io.shmkit.SegmentNotFoundException;
import io.shmkit.SegmentSizeMismatchException;
import io.shmkit.SegmentTruncatedException;
import io.shmkit.ShmException;
import io.shmkit.UnsupportedFormatException;
import io.shmkit.internal.Errors;
import io.shmkit.internal.Libc;
import io.shmkit.internal.OwnerTable;
import io.shmkit.internal.Procs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;

import static io.shmkit.internal.SegmentHeader.*;

/**
 * A named region of shared memory that unrelated processes attach to, starting with a
 * validated 4096-byte header (see {@link io.shmkit.internal.SegmentHeader} for the layout).
 *
 * {@snippet :
 * try (Segment s = Segment.create(SegmentName.posix("orders"), 1 << 20)) {
 *     s.memory().set(ValueLayout.JAVA_LONG, s.dataOffset(), 42L);
 * }
 * // in another process
 * try (Segment s = Segment.open(SegmentName.posix("orders"))) {
 *     long v = s.memory().get(ValueLayout.JAVA_LONG, s.dataOffset());
 * }
 * }
 *
 * <p><b>Thread safety:</b> a {@code Segment} may be used by any number of threads. Closing it
 * while other threads still access its memory makes those accesses fail with
 * {@link IllegalStateException}; it never unmaps memory under a running access.
 *
 * <p><b>Process safety:</b> any number of processes may attach. Each attached (writable)
 * instance claims a slot of the header's attach table: for POSIX and file segments the claim
 * is an open-file-description lock on one byte of the segment file, held by the kernel for as
 * long as the instance is attached and dropped when its process dies, in whatever pid
 * namespace. That registration is the owner identity every lock and allocator in the segment
 * records, so a dead owner is recognised, and a live one never robbed, across containers and
 * under {@code hidepid}. A process killed with SIGKILL leaves its slot's diagnostics behind,
 * where tools show it as dead, and the next attacher reuses the slot. System V segments have
 * no file: their owners are recognised as dead only from the same pid namespace (see
 * {@code docs/SEGMENTS.md}).
 *
 * <p><b>Publication:</b> the creator initialises the header and then publishes the magic with a
 * release store; an opener reads it with acquire semantics, so it never sees a partial header.
 * An opener that finds a zero-length object or no magic yet waits up to one second for the
 * creator to finish before it refuses.
 *
 * <p><b>Growing:</b> {@link #grow(long)} enlarges a POSIX or file segment while attached. Other
 * processes see the new size after {@link #refresh()}, which {@link #memory()} calls by itself
 * when the header's resize generation changed. Earlier {@code MemorySegment} views stay valid
 * (old mappings are kept until close), so structures holding them keep working within the old
 * bounds.
 *
 * <p><b>Offsets:</b> every process maps the segment at a different address, so anything stored
 * in shared memory refers to other data by offset from the segment start. Offset 0 is the
 * header and doubles as the null offset.
 */
public final class Segment implements AutoCloseable {

    /** Default page granularity of segment sizes. */
    public static final long PAGE_SIZE = 4096;
    /** Smallest segment: the header page plus one data page. */
    public static final long MIN_SIZE = 2 * PAGE_SIZE;
    private static final long HUGE_PAGE_SIZE = 2L << 20;
    private static final long CREATOR_WAIT_NANOS = 1_000_000_000L;
    private static final long HEADER_LOCK_STEAL_CHECK_NANOS = 1_000_000L;

    private final SegmentName name;
    private final SegmentOptions options;
    private final boolean created;
    private final int fd;
    private final int shmId;
    private final Arena arena = Arena.ofShared();
    private final List<long[]> mappings = new ArrayList<>();
    private final boolean hugePages;
    /** This instance's registration in the attach table, and the liveness checks of other owners. */
    private final OwnerTable owners;

    private volatile MemorySegment writable;
    private volatile MemorySegment memory;
    private volatile long generation;
    private volatile boolean readOnlyProtected;
    private volatile boolean closed;

    private Segment(SegmentName name, SegmentOptions options, boolean created, int fd, int shmId,
                    long address, long length, boolean hugePages) {
        this.name = name;
        this.options = options;
        this.created = created;
        this.fd = fd;
        this.shmId = shmId;
        this.hugePages = hugePages;
        MemorySegment view = addView(address, length);
        this.writable = view;
        this.memory = options.readOnly() ? view.asReadOnly() : view;
        this.generation = (long) LONG.getAcquire(view, OFF_RESIZE_GENERATION);
        this.owners = OwnerTable.open(view, fd, name.backend(), !options.readOnly());
        for (long[] mapping : mappings) {
            owners.cover(mapping[0], mapping[1]);
        }
    }

    // ------------------------------------------------------------------ factories

    /** Creates a new segment of {@code size} bytes (header included) with default options. */
    public static Segment create(SegmentName name, long size) {
        return create(name, size, SegmentOptions.defaults());
    }

    /**
     * Creates a new segment; fails with {@link SegmentExistsException} if one of that name exists.
     *
     * @param size total size in bytes, header included, rounded up to a multiple of 4096;
     *             at least {@link #MIN_SIZE}
     */
    public static Segment create(SegmentName name, long size, SegmentOptions options) {
        if (options.readOnly()) {
            throw new IllegalArgumentException("cannot create a segment read-only: name=" + name);
        }
        long total = roundSize(size);
        return switch (name.backend()) {
            case POSIX, FILE -> createFileBacked(name, total, options);
            case SYSV -> createSysV(name, total, options);
            case ANONYMOUS -> createAnonymous(name, total, options);
        };
    }

    /** Opens an existing segment with default options. */
    public static Segment open(SegmentName name) {
        return open(name, SegmentOptions.defaults());
    }

    /**
     * Opens an existing segment and validates its header: magic, format version, size, and the
     * kind and layout hash if {@code options} name them.
     */
    public static Segment open(SegmentName name, SegmentOptions options) {
        return switch (name.backend()) {
            case POSIX, FILE -> openFileBacked(name, options);
            case SYSV -> openSysV(name, options);
            case ANONYMOUS -> throw new IllegalArgumentException(
                    "anonymous segments are private to their creator and cannot be opened by name");
        };
    }

    /**
     * Opens the segment if it exists, otherwise creates it. {@link #created()} tells which
     * happened. An existing segment smaller than {@code size} is refused with
     * {@link SegmentSizeMismatchException}.
     */
    public static Segment openOrCreate(SegmentName name, long size, SegmentOptions options) {
        if (name.backend() == Backend.ANONYMOUS) {
            return create(name, size, options);
        }
        long total = roundSize(size);
        for (int attempt = 0; ; attempt++) {
            try {
                return create(name, total, options);
            } catch (SegmentExistsException exists) {
                try {
                    Segment s = open(name, options);
                    if (s.size() < total) {
                        long have = s.size();
                        s.close();
                        throw new SegmentSizeMismatchException(name + ": existing segment has size=" + have
                                + ", smaller than requested size=" + total);
                    }
                    return s;
                } catch (SegmentNotFoundException gone) {
                    if (attempt > 10) {
                        throw gone; // removed and re-created by someone else again and again
                    }
                }
            }
        }
    }

    /**
     * Removes a segment's name (POSIX, file) or marks it for removal (System V). Processes that
     * are attached keep their mapping until they close it. Returns false if it did not exist.
     */
    public static boolean unlink(SegmentName name) {
        switch (name.backend()) {
            case POSIX, FILE -> {
                if (Libc.unlink(name.path().toString()) != 0) {
                    int err = Libc.errno();
                    if (err == Libc.ENOENT) {
                        return false;
                    }
                    throw Errors.fromErrno("unlink", "segment " + name, err);
                }
                return true;
            }
            case SYSV -> {
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
            default -> {
                return false;
            }
        }
    }

    // ------------------------------------------------------------------ accessors

    /** The segment's name. */
    public SegmentName name() {
        return name;
    }

    /** True if this call created the segment, false if it attached to an existing one. */
    public boolean created() {
        return created;
    }

    /** Whether huge pages back this segment (as far as the kernel lets us know). */
    public boolean hugePages() {
        return hugePages;
    }

    /**
     * The whole segment, header included, at its current size. Checks the header's resize
     * generation (one acquire load) and remaps first if another process grew the segment.
     * Read-only if the segment was opened read-only or is {@link #protect protected}.
     */
    public MemorySegment memory() {
        MemorySegment m = memory;
        // acquire: a generation bump is published after the new size (grow stores size first)
        long gen = (long) LONG.getAcquire(m, OFF_RESIZE_GENERATION);
        if (gen != generation) {
            refresh();
            return memory;
        }
        return m;
    }

    /** Current mapped size in bytes, header included. */
    public long size() {
        return memory().byteSize();
    }

    /** Offset of the first byte after the header: where user data may start. */
    public long dataOffset() {
        return HEADER_SIZE;
    }

    /** The structure kind recorded at creation. */
    public int kind() {
        return (int) INT.getAcquire(memory, OFF_KIND);
    }

    /** The layout hash recorded at creation. */
    public long layoutHash() {
        return (long) LONG.getAcquire(memory, OFF_LAYOUT_HASH);
    }

    // ------------------------------------------------------------------ grow / refresh / protect

    /**
     * Picks up a size change made by another process. Returns true if the mapping changed.
     * Called automatically by {@link #memory()}.
     */
    public synchronized boolean refresh() {
        ensureOpen();
        MemorySegment m = memory;
        long gen = (long) LONG.getAcquire(m, OFF_RESIZE_GENERATION);
        if (gen == generation) {
            return false;
        }
        long newSize = (long) LONG.getAcquire(m, OFF_SIZE);
        boolean changed = false;
        if (newSize > m.byteSize()) {
            remap(newSize);
            changed = true;
        }
        generation = gen;
        return changed;
    }

    /**
     * Enlarges the segment to {@code newSize} bytes (rounded up to 4096) while attached.
     * POSIX and file segments only; shrinking is refused. Safe against concurrent growers in
     * other processes (the header's grow lock serialises them and is taken over if its owner
     * died).
     */
    public void grow(long newSize) {
        ensureOpen();
        if (name.backend() == Backend.SYSV || name.backend() == Backend.ANONYMOUS) {
            throw new IllegalStateException("backend=" + name.backend().label()
                    + " cannot grow: its size is fixed when it is created; create a larger segment instead");
        }
        if (options.readOnly()) {
            throw new IllegalStateException("segment " + name + " is open read-only and cannot grow");
        }
        long target = roundSize(newSize);
        long current = size();
        if (target < current) {
            throw new IllegalArgumentException("cannot shrink segment " + name + ": size=" + current
                    + " requested=" + target + " (segments only grow)");
        }
        MemorySegment m = writable;
        lockHeader(m);
        try {
            long recorded = (long) LONG.getAcquire(m, OFF_SIZE);
            if (recorded < target) {
                resizeBacking(target);
                LONG.setRelease(m, OFF_SIZE, target);
                // release: a reader that sees the new generation also sees the size above
                LONG.getAndAddRelease(m, OFF_RESIZE_GENERATION, 1L);
            }
        } finally {
            unlockHeader(m);
        }
        refresh();
    }

    /**
     * Makes the whole mapping read-only in this process ({@code mprotect}), or writable again.
     * While protected, {@link #memory()} returns a read-only view, so a write through it fails
     * with an exception instead of a fault. Other processes are not affected.
     */
    public synchronized void protect(boolean readOnly) {
        ensureOpen();
        if (options.readOnly() && !readOnly) {
            throw new IllegalStateException("segment " + name + " was opened read-only");
        }
        int prot = readOnly ? Libc.PROT_READ : Libc.PROT_READ | Libc.PROT_WRITE;
        if (readOnly) {
            memory = writable.asReadOnly(); // first the view, so no API write reaches the page
        }
        for (long[] mapping : mappings) {
            if (Libc.mprotect(mapping[0], mapping[1], prot) != 0) {
                throw Errors.lastError("mprotect", "segment " + name);
            }
        }
        if (!readOnly) {
            memory = writable;
        }
        readOnlyProtected = readOnly;
    }

    /** Whether {@link #protect(boolean)} made this mapping read-only. */
    public boolean isProtected() {
        return readOnlyProtected;
    }

    // ------------------------------------------------------------------ directory

    /**
     * Reserves {@code length} bytes for a named structure, aligned to {@code align}, and records
     * it in the header's directory so that other processes find it with {@link #lookup(String)}.
     * The range is carved from the segment's data area after earlier reservations. The entry is
     * visible to other processes as soon as this returns; the structure placed there publishes
     * its own readiness (every shmkit structure starts with a magic word stored last).
     *
     * @throws SegmentExistsException      if a structure of that name exists in the segment
     * @throws OutOfSharedMemoryException if the segment has no room left for the range
     */
    public DirectoryEntry reserve(String structureName, int kind, long length, long align) {
        ensureWritable();
        validateStructureName(structureName);
        if (length <= 0) {
            throw new IllegalArgumentException("length must be positive: length=" + length);
        }
        if (align <= 0 || Long.bitCount(align) != 1 || align > PAGE_SIZE) {
            throw new IllegalArgumentException("align must be a power of two <= 4096: align=" + align);
        }
        MemorySegment m = memory();
        lockHeader(m);
        try {
            if (find(m, structureName) != null) {
                throw new SegmentExistsException("structure '" + structureName + "' already exists in segment " + name);
            }
            int free = -1;
            for (int i = 0; i < DIRECTORY_ENTRIES; i++) {
                if ((long) LONG.getAcquire(m, directoryEntry(i) + DIR_STATE) == DIR_FREE) {
                    free = i;
                    break;
                }
            }
            if (free < 0) {
                throw new OutOfSharedMemoryException("segment " + name + ": directory full (" + DIRECTORY_ENTRIES
                        + " structures); cannot reserve '" + structureName + "'");
            }
            long top = (long) LONG.getAcquire(m, OFF_CARVE_TOP);
            long offset = (top + align - 1) & -align;
            if (offset + length > m.byteSize() || offset + length < offset) {
                throw new OutOfSharedMemoryException("segment " + name + ": cannot reserve '" + structureName
                        + "' length=" + length + " align=" + align + ", free=" + Math.max(0, m.byteSize() - offset)
                        + " of size=" + m.byteSize());
            }
            // Commit order: carve pointer first, then the entry. A crash in between leaks the
            // range but never lets two entries overlap.
            LONG.setRelease(m, OFF_CARVE_TOP, offset + length);
            long e = directoryEntry(free);
            INT.set(m, e + DIR_KIND, kind);
            LONG.set(m, e + DIR_OFFSET, offset);
            LONG.set(m, e + DIR_LENGTH, length);
            writeString(m, e + DIR_NAME, DIR_NAME_BYTES, structureName);
            // release: a reader that sees COMMITTED sees the fields above
            LONG.setRelease(m, e + DIR_STATE, DIR_COMMITTED);
            return new DirectoryEntry(structureName, kind, offset, length);
        } finally {
            unlockHeader(m);
        }
    }

    /** Finds a structure reserved with {@link #reserve}. */
    public Optional<DirectoryEntry> lookup(String structureName) {
        return Optional.ofNullable(find(memory(), structureName));
    }

    /** All structures reserved in this segment, in directory order. */
    public List<DirectoryEntry> directory() {
        return readDirectory(memory());
    }

    /** Bytes not yet reserved by {@link #reserve}. */
    public long unreserved() {
        MemorySegment m = memory();
        return Math.max(0, m.byteSize() - (long) LONG.getAcquire(m, OFF_CARVE_TOP));
    }

    private static DirectoryEntry find(MemorySegment m, String structureName) {
        for (DirectoryEntry e : readDirectory(m)) {
            if (e.name().equals(structureName)) {
                return e;
            }
        }
        return null;
    }

    static List<DirectoryEntry> readDirectory(MemorySegment m) {
        List<DirectoryEntry> out = new ArrayList<>();
        for (int i = 0; i < DIRECTORY_ENTRIES; i++) {
            long e = directoryEntry(i);
            if ((long) LONG.getAcquire(m, e + DIR_STATE) == DIR_COMMITTED) {
                out.add(new DirectoryEntry(readString(m, e + DIR_NAME, DIR_NAME_BYTES), (int) INT.get(m, e + DIR_KIND),
                        (long) LONG.get(m, e + DIR_OFFSET), (long) LONG.get(m, e + DIR_LENGTH)));
            }
        }
        return out;
    }

    private static void validateStructureName(String n) {
        if (n == null || n.isEmpty() || n.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > DIR_NAME_BYTES
                || n.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("invalid structure name: name='" + (n == null ? "null" : SegmentName.printable(n))
                    + "' (1.." + DIR_NAME_BYTES + " UTF-8 bytes, no NUL)");
        }
    }

    // ------------------------------------------------------------------ info

    /** Every header field and the attach table, read now. */
    public SegmentInfo info() {
        ensureOpen();
        return readInfo(name, memory(), backingSize(), owners.attached());
    }

    /** The processes registered in the attach table, with whether each still runs. */
    public List<AttachedProcess> attached() {
        ensureOpen();
        return owners.attached();
    }

    static SegmentInfo readInfo(SegmentName name, MemorySegment m, long backingSize, List<AttachedProcess> attached) {
        return new SegmentInfo(name, (int) INT.get(m, OFF_FORMAT_VERSION), (int) INT.get(m, OFF_KIND),
                (long) LONG.get(m, OFF_LAYOUT_HASH), (long) LONG.getAcquire(m, OFF_SIZE), backingSize,
                (long) LONG.getAcquire(m, OFF_RESIZE_GENERATION), (long) LONG.get(m, OFF_CREATOR_PID),
                (long) LONG.get(m, OFF_CREATOR_START), Instant.ofEpochMilli((long) LONG.get(m, OFF_CREATED_AT)),
                (int) INT.get(m, OFF_MODE), (long) LONG.get(m, OFF_DATA_OFFSET), (long) LONG.getAcquire(m, OFF_CARVE_TOP),
                attached, readDirectory(m));
    }

    private long backingSize() {
        if (fd >= 0) {
            Libc.Stat st = Libc.fstat(fd);
            return st == null ? -1 : st.size();
        }
        if (shmId >= 0) {
            Libc.ShmidDs ds = Libc.shmStat(shmId);
            return ds == null ? -1 : ds.size();
        }
        return memory.byteSize();
    }

    // ------------------------------------------------------------------ close

    /**
     * Detaches: removes this instance from the attach table, then unmaps. Idempotent. Does not
     * remove the segment's name; see {@link #unlink(SegmentName)}.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (owners.registered() && readOnlyProtected) {
            for (long[] mapping : mappings) {
                Libc.mprotect(mapping[0], mapping[1], Libc.PROT_READ | Libc.PROT_WRITE);
            }
        }
        owners.release(); // before the fd closes: the kernel lock goes with it
        arena.close(); // invalidates every view before the memory goes away
        for (long[] mapping : mappings) {
            if (shmId >= 0) {
                Libc.shmdt(mapping[0]);
            } else {
                Libc.munmap(mapping[0], mapping[1]);
            }
        }
        mappings.clear();
        if (fd >= 0) {
            Libc.close(fd);
        }
    }

    /** Closes this instance and removes the segment's name. */
    public void closeAndUnlink() {
        close();
        unlink(name);
    }

    @Override
    public String toString() {
        return "Segment[" + name + ", size=" + (closed ? "closed" : Long.toString(memory.byteSize()))
                + (created ? ", created" : ", opened") + "]";
    }

    // ------------------------------------------------------------------ internals: create

    private static long roundSize(long size) {
        if (size < MIN_SIZE) {
            throw new IllegalArgumentException("segment size too small: size=" + size + " (minimum " + MIN_SIZE
                    + ": one header page and one data page)");
        }
        if (size > (1L << 46)) {
            throw new IllegalArgumentException("segment size too large: size=" + size);
        }
        return (size + PAGE_SIZE - 1) & -PAGE_SIZE;
    }

    private static Segment createFileBacked(SegmentName name, long size, SegmentOptions options) {
        String path = name.path().toString();
        int fd = Libc.open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC,
                options.mode());
        if (fd < 0) {
            throw Errors.lastError("open", "segment " + name);
        }
        long address = Libc.MAP_FAILED;
        try {
            // the umask may have narrowed the mode given to open(); set exactly what was asked
            if (Libc.fchmod(fd, options.mode()) != 0) {
                throw Errors.lastError("fchmod", "segment " + name);
            }
            sizeBacking(fd, name, size, options.preallocate());
            address = Libc.mmap(0, size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0);
            if (address == Libc.MAP_FAILED) {
                throw Errors.lastError("mmap", "segment " + name);
            }
            boolean huge = adviseHugePages(name, address, size, options.hugePages());
            MemorySegment raw = MemorySegment.ofAddress(address).reinterpret(size);
            initHeader(raw, name, size, options);
            return new Segment(name, options, true, fd, -1, address, size, huge);
        } catch (RuntimeException | Error e) {
            if (address != Libc.MAP_FAILED) {
                Libc.munmap(address, size);
            }
            Libc.close(fd);
            Libc.unlink(path); // never leave a half-made segment behind
            throw e;
        }
    }

    private static void sizeBacking(int fd, SegmentName name, long size, boolean preallocate) {
        if (preallocate) {
            int err = Libc.fallocate(fd, 0, size);
            if (err != 0) {
                throw Errors.fromErrno("posix_fallocate", "segment " + name + " size=" + size, err);
            }
        } else if (Libc.ftruncate(fd, size) != 0) {
            throw Errors.lastError("ftruncate", "segment " + name + " size=" + size);
        }
    }

    private static boolean adviseHugePages(SegmentName name, long address, long size, HugePages policy) {
        if (policy == HugePages.OFF) {
            return false;
        }
        boolean thpForShmem = shmemHugePagesEnabled(name.backend());
        boolean ok = thpForShmem && Libc.madvise(address, size, Libc.MADV_HUGEPAGE) == 0;
        if (!ok && policy == HugePages.REQUIRE) {
            throw new HugePagesUnavailableException("segment " + name + ": huge pages required but transparent huge pages "
                    + "are not available for " + name.backend().label() + " mappings (see "
                    + "/sys/kernel/mm/transparent_hugepage/shmem_enabled); use HugePages.PREFER to fall back");
        }
        return ok;
    }

    private static boolean shmemHugePagesEnabled(Backend backend) {
        String file = backend == Backend.FILE ? "/sys/kernel/mm/transparent_hugepage/enabled"
                : "/sys/kernel/mm/transparent_hugepage/shmem_enabled";
        try {
            String s = Files.readString(Path.of(file));
            return s.contains("[always]") || s.contains("[advise]") || s.contains("[within_size]") || s.contains("[force]");
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    private static Segment createSysV(SegmentName name, long size, SegmentOptions options) {
        boolean huge = options.hugePages() != HugePages.OFF;
        long length = huge ? roundUp(size, HUGE_PAGE_SIZE) : size;
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
            initHeader(raw, name, length, options);
            return new Segment(name, options, true, -1, id, address, length, huge);
        } catch (RuntimeException | Error e) {
            Libc.shmdt(address);
            Libc.shmRemove(id);
            throw e;
        }
    }

    private static Segment createAnonymous(SegmentName name, long size, SegmentOptions options) {
        int prot = Libc.PROT_READ | Libc.PROT_WRITE;
        int flags = Libc.MAP_SHARED | Libc.MAP_ANONYMOUS;
        boolean huge = false;
        long length = size;
        long address = Libc.MAP_FAILED;
        if (options.hugePages() != HugePages.OFF) {
            long hugeLength = roundUp(size, HUGE_PAGE_SIZE);
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
        initHeader(raw, name, length, options);
        return new Segment(name, options, true, -1, -1, address, length, huge);
    }

    private static long roundUp(long v, long unit) {
        return (v + unit - 1) / unit * unit;
    }

    private static void initHeader(MemorySegment m, SegmentName name, long size, SegmentOptions options) {
        m.asSlice(0, HEADER_SIZE).fill((byte) 0);
        INT.set(m, OFF_FORMAT_VERSION, FORMAT_VERSION);
        INT.set(m, OFF_HEADER_SIZE, HEADER_SIZE);
        INT.set(m, OFF_KIND, options.kind());
        INT.set(m, OFF_BACKEND, name.backend().ordinal());
        LONG.set(m, OFF_LAYOUT_HASH, options.layoutHash());
        LONG.set(m, OFF_SIZE, size);
        LONG.set(m, OFF_RESIZE_GENERATION, 0L);
        LONG.set(m, OFF_CREATOR_PID, (long) Procs.PID);
        LONG.set(m, OFF_CREATOR_START, Procs.START_TIME);
        LONG.set(m, OFF_CREATED_AT, System.currentTimeMillis());
        INT.set(m, OFF_MODE, options.mode());
        LONG.set(m, OFF_DATA_OFFSET, (long) HEADER_SIZE);
        LONG.set(m, OFF_CARVE_TOP, (long) HEADER_SIZE);
        String label = name.backend() == Backend.FILE ? name.path().getFileName().toString() : name.value();
        byte[] bytes = label.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (bytes.length > NAME_BYTES) {
            label = new String(bytes, 0, NAME_BYTES - 4, java.nio.charset.StandardCharsets.UTF_8);
            label = label.substring(0, Math.max(0, label.length() - 1));
        }
        writeString(m, OFF_NAME, NAME_BYTES, label);
        INT.set(m, OFF_ATTACH_CAPACITY, ATTACH_SLOTS);
        INT.set(m, OFF_DIRECTORY_CAPACITY, DIRECTORY_ENTRIES);
        // release: publishes every field above to processes that read the magic with acquire
        LONG.setRelease(m, OFF_MAGIC, MAGIC);
    }

    // ------------------------------------------------------------------ internals: open

    private static Segment openFileBacked(SegmentName name, SegmentOptions options) {
        String path = name.path().toString();
        boolean ro = options.readOnly();
        int fd = Libc.open(path, (ro ? Libc.O_RDONLY : Libc.O_RDWR) | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
        if (fd < 0) {
            throw Errors.lastError("open", "segment " + name);
        }
        long address = Libc.MAP_FAILED;
        long length = 0;
        try {
            // inspection (read-only) never waits: listing must not stall on foreign zero-filled files
            long deadline = System.nanoTime() + (ro ? 0 : CREATOR_WAIT_NANOS);
            while (true) {
                Libc.Stat st = Libc.fstat(fd);
                if (st == null) {
                    throw Errors.lastError("fstat", "segment " + name);
                }
                if (st.size() == 0) {
                    if (System.nanoTime() < deadline) {
                        pause();
                        continue;
                    }
                    throw new SegmentTruncatedException("segment " + name + " is empty (size=0): not a shmkit "
                            + "segment, or its creator died before sizing it");
                }
                if (st.size() < HEADER_SIZE) {
                    throw new SegmentTruncatedException("segment " + name + " is truncated: size=" + st.size()
                            + " is smaller than the " + HEADER_SIZE + "-byte header");
                }
                length = st.size();
                address = Libc.mmap(0, length, Libc.PROT_READ | (ro ? 0 : Libc.PROT_WRITE), Libc.MAP_SHARED, fd, 0);
                if (address == Libc.MAP_FAILED) {
                    throw Errors.lastError("mmap", "segment " + name);
                }
                MemorySegment raw = MemorySegment.ofAddress(address).reinterpret(length);
                if (awaitMagic(raw, deadline)) {
                    validateHeader(name, raw, length, options);
                    break;
                }
                if (System.nanoTime() >= deadline) {
                    validateHeader(name, raw, length, options); // throws with the precise reason
                }
                Libc.munmap(address, length);
                address = Libc.MAP_FAILED;
            }
            return new Segment(name, options, false, fd, -1, address, length, false);
        } catch (RuntimeException | Error e) {
            if (address != Libc.MAP_FAILED) {
                Libc.munmap(address, length);
            }
            Libc.close(fd);
            throw e;
        }
    }

    private static Segment openSysV(SegmentName name, SegmentOptions options) {
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
            awaitMagic(raw, System.nanoTime() + (options.readOnly() ? 0 : CREATOR_WAIT_NANOS));
            validateHeader(name, raw, ds.size(), options);
            return new Segment(name, options, false, -1, id, address, ds.size(), false);
        } catch (RuntimeException | Error e) {
            Libc.shmdt(address);
            throw e;
        }
    }

    /** Waits until the creator published the magic; true if a non-zero magic word is present. */
    private static boolean awaitMagic(MemorySegment raw, long deadline) {
        while (true) {
            long magic = (long) LONG.getAcquire(raw, OFF_MAGIC);
            if (magic != 0) {
                return true;
            }
            if (System.nanoTime() >= deadline || !allZero(raw, 8, HEADER_SIZE)) {
                return false; // either the creator is gone, or this is someone else's data
            }
            pause();
        }
    }

    private static boolean allZero(MemorySegment m, long from, long to) {
        for (long i = from; i < to; i += 8) {
            if (m.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i) != 0) {
                return false;
            }
        }
        return true;
    }

    private static void pause() {
        LockSupport.parkNanos(1_000_000L);
    }

    static void validateHeader(SegmentName name, MemorySegment m, long actualSize, SegmentOptions options) {
        long magic = (long) LONG.getAcquire(m, OFF_MAGIC);
        if (magic != MAGIC) {
            throw new NotAShmkitSegmentException("segment " + name + " is not a shmkit segment: magic=0x"
                    + Long.toHexString(magic) + " expected=0x" + Long.toHexString(MAGIC)
                    + (magic == 0 ? " (empty header: its creator never finished initialising it)" : ""));
        }
        int version = (int) INT.get(m, OFF_FORMAT_VERSION);
        if (version > FORMAT_VERSION) {
            throw new UnsupportedFormatException("segment " + name + " has format version=" + version
                    + ", newer than this shmkit supports (" + FORMAT_VERSION + "); upgrade shmkit to open it");
        }
        if (version < 1) {
            throw new SegmentCorruptedException("segment " + name + ": invalid format version=" + version);
        }
        if (version < MIN_FORMAT_VERSION) {
            throw new UnsupportedFormatException("segment " + name + " has format version=" + version
                    + ", older than this shmkit reads (" + MIN_FORMAT_VERSION + ": owners are attach-table"
                    + " registrations, not pid and start time); recreate it with this version");
        }
        int headerSize = (int) INT.get(m, OFF_HEADER_SIZE);
        if (headerSize != HEADER_SIZE) {
            throw new SegmentCorruptedException("segment " + name + ": header size=" + headerSize
                    + " expected=" + HEADER_SIZE);
        }
        long recorded = (long) LONG.getAcquire(m, OFF_SIZE);
        if (recorded > actualSize) {
            throw new SegmentTruncatedException("segment " + name + " is truncated: header records size=" + recorded
                    + " but the backing object has size=" + actualSize);
        }
        if (recorded < MIN_SIZE) {
            throw new SegmentCorruptedException("segment " + name + ": header records size=" + recorded
                    + " below the minimum " + MIN_SIZE);
        }
        long dataOffset = (long) LONG.get(m, OFF_DATA_OFFSET);
        long carveTop = (long) LONG.get(m, OFF_CARVE_TOP);
        if (dataOffset != HEADER_SIZE || carveTop < dataOffset || carveTop > recorded) {
            throw new SegmentCorruptedException("segment " + name + ": header fields out of range: dataOffset="
                    + dataOffset + " carveTop=" + carveTop + " size=" + recorded);
        }
        int kind = (int) INT.get(m, OFF_KIND);
        if (options.kind() != 0 && kind != options.kind()) {
            throw new LayoutMismatchException("segment " + name + " holds structure kind=" + kind
                    + ", expected kind=" + options.kind());
        }
        long hash = (long) LONG.get(m, OFF_LAYOUT_HASH);
        if (options.layoutHash() != 0 && hash != options.layoutHash()) {
            throw new LayoutMismatchException("segment " + name + " has layoutHash=0x" + Long.toHexString(hash)
                    + ", expected layoutHash=0x" + Long.toHexString(options.layoutHash()));
        }
    }

    // ------------------------------------------------------------------ internals: mapping

    private MemorySegment addView(long address, long length) {
        mappings.add(new long[]{address, length});
        if (owners != null) { // null while the constructor maps the first view
            owners.cover(address, length);
        }
        return MemorySegment.ofAddress(address).reinterpret(length, arena, null);
    }

    private void remap(long newSize) {
        if (fd < 0) {
            throw new SegmentCorruptedException("segment " + name + ": header records size=" + newSize
                    + " but backend=" + name.backend().label() + " cannot change size");
        }
        Libc.Stat st = Libc.fstat(fd);
        if (st == null) {
            throw Errors.lastError("fstat", "segment " + name);
        }
        if (st.size() < newSize) {
            throw new SegmentTruncatedException("segment " + name + ": header records size=" + newSize
                    + " but the backing object has size=" + st.size());
        }
        int prot = Libc.PROT_READ | (options.readOnly() || readOnlyProtected ? 0 : Libc.PROT_WRITE);
        long address = Libc.mmap(0, newSize, prot, Libc.MAP_SHARED, fd, 0);
        if (address == Libc.MAP_FAILED) {
            throw Errors.lastError("mmap", "segment " + name + " size=" + newSize);
        }
        if (hugePages) {
            Libc.madvise(address, newSize, Libc.MADV_HUGEPAGE);
        }
        // The old mappings stay until close: views handed out earlier remain valid.
        MemorySegment view = addView(address, newSize);
        writable = view;
        memory = options.readOnly() || readOnlyProtected ? view.asReadOnly() : view;
    }

    private void resizeBacking(long target) {
        sizeBacking(fd, name, target, options.preallocate());
    }

    /** Takes the header's grow/reserve lock; a holder is taken over only when positively dead. */
    private void lockHeader(MemorySegment m) {
        long me = Integer.toUnsignedLong(owners.id());
        long lastCheck = System.nanoTime();
        for (int spins = 0; ; spins++) {
            long owner = (long) LONG.getVolatile(m, OFF_GROW_LOCK_OWNER);
            if (owner == 0) {
                if (LONG.compareAndSet(m, OFF_GROW_LOCK_OWNER, 0L, me)) {
                    LONG.setRelease(m, OFF_GROW_LOCK_PID, (long) Procs.PID); // diagnostic only
                    return;
                }
                continue;
            }
            long now = System.nanoTime();
            if (now - lastCheck > HEADER_LOCK_STEAL_CHECK_NANOS) {
                lastCheck = now;
                if (owners.check((int) owner).dead() && LONG.compareAndSet(m, OFF_GROW_LOCK_OWNER, owner, me)) {
                    // The dead owner's step was a single committed store or none (see reserve/grow).
                    LONG.setRelease(m, OFF_GROW_LOCK_PID, (long) Procs.PID);
                    return;
                }
            }
            if (spins < 100) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(50_000L);
            }
        }
    }

    private static void unlockHeader(MemorySegment m) {
        LONG.setRelease(m, OFF_GROW_LOCK_PID, 0L);
        LONG.setRelease(m, OFF_GROW_LOCK_OWNER, 0L);
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("segment " + name + " is closed");
        }
    }

    private void ensureWritable() {
        ensureOpen();
        if (options.readOnly() || readOnlyProtected) {
            throw new IllegalStateException("segment " + name + " is read-only");
        }
    }
}
