package io.shmkit.segment;

import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.SegmentExistsException;
import io.shmkit.SegmentNotFoundException;
import io.shmkit.SegmentSizeMismatchException;
import io.shmkit.SegmentTruncatedException;
import io.shmkit.ShmException;
import io.shmkit.internal.Libc;
import io.shmkit.internal.Mem;
import io.shmkit.internal.OwnerTable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

import static io.shmkit.internal.SegmentHeader.HEADER_SIZE;
import static io.shmkit.internal.SegmentHeader.OFF_CARVE_TOP;
import static io.shmkit.internal.SegmentHeader.OFF_KIND;
import static io.shmkit.internal.SegmentHeader.OFF_LAYOUT_HASH;
import static io.shmkit.internal.SegmentHeader.OFF_RESIZE_GENERATION;
import static io.shmkit.internal.SegmentHeader.OFF_SIZE;

/**
 * A named region of shared memory that unrelated processes attach to, starting with a
 * validated 4096-byte header (layout descriptor {@code io.shmkit.internal.SegmentHeader},
 * linked from docs/SEGMENTS.md).
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
 * when the header's resize generation changed. Each attachment reserves address space at
 * attach ({@link SegmentOptions#addressReserve()}) and maps growth in place, so the start
 * address never changes, earlier {@code MemorySegment} views stay valid within their old
 * bounds, and the number of mappings stays bounded however often the segment grows (one,
 * until a grow passes the reservation; see docs/SEGMENTS.md).
 *
 * <p><b>Space:</b> by default the file's memory is reserved at create and grow
 * ({@code posix_fallocate}), so a full file system is an
 * {@link io.shmkit.InsufficientSpaceException} there, never a fault later. Sparse segments
 * ({@link SegmentOptions#sparse()}) are an opt-in with a documented SIGBUS risk. A file that
 * another process truncates is detected by {@link #refresh()}, {@link #info()}, {@link #grow}
 * and {@link #reserve} ({@link SegmentTruncatedException}); {@link #close()} never faults on it.
 *
 * <p><b>Offsets:</b> every process maps the segment at a different address, so anything stored
 * in shared memory refers to other data by offset from the segment start. Offset 0 is the
 * header and doubles as the null offset.
 *
 * <p><b>Parts</b> (package-private, one job each; this class holds the views and sequences
 * them): the backing ({@code Mapping}: {@code FileMapping} for POSIX and file segments,
 * {@code SysVMapping} and {@code AnonymousMapping} on {@code FixedMapping}) makes, maps,
 * extends, protects and releases the object; {@code HeaderCodec} initialises, validates and
 * reads the header; {@code AttachTable} registers this attachment and detaches it;
 * {@code Directory} reserves and finds named structures; {@code HeaderLock} serialises growing
 * and directory changes across processes.
 */
public final class Segment implements AutoCloseable {

    /** Default page granularity of segment sizes. */
    public static final long PAGE_SIZE = 4096;
    /** Smallest segment: the header page plus one data page. */
    public static final long MIN_SIZE = 2 * PAGE_SIZE;

    private final SegmentName name;
    private final SegmentOptions options;
    private final boolean created;
    private final Arena arena = Arena.ofShared();
    private final Mapping mapping;
    private final boolean hugePages;
    private final boolean snapshot;
    /** This instance's registration in the attach table. */
    private final AttachTable attachTable;
    /** The attach table's owner identities: this process's, and the liveness checks of others. */
    private final OwnerTable owners;

    private volatile MemorySegment writable;
    private volatile MemorySegment memory;
    private volatile long generation;
    private volatile boolean readOnlyProtected;
    private volatile boolean closed;

    private Segment(SegmentName name, SegmentOptions options, boolean created, Mapping mapping, boolean snapshot) {
        this.name = name;
        this.snapshot = snapshot;
        this.options = options;
        this.created = created;
        this.mapping = mapping;
        this.hugePages = mapping.hugePages();
        MemorySegment view = view();
        this.writable = view;
        this.memory = options.readOnly() && !snapshot ? view.asReadOnly() : view;
        this.generation = Mem.getLongAcquire(view, OFF_RESIZE_GENERATION);
        this.attachTable = new AttachTable(view, mapping, name.backend(), !options.readOnly());
        this.owners = attachTable.owners();
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
        Mapping m = switch (name.backend()) {
            case POSIX, FILE -> FileMapping.create(name, total, options);
            case SYSV -> SysVMapping.create(name, total, options);
            case ANONYMOUS -> AnonymousMapping.create(name, total, options);
        };
        return attach(name, options, true, m);
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
        Mapping m = switch (name.backend()) {
            case POSIX, FILE -> FileMapping.open(name, options);
            case SYSV -> SysVMapping.open(name, options);
            case ANONYMOUS -> throw new IllegalArgumentException(
                    "anonymous segments are private to their creator and cannot be opened by name");
        };
        return attach(name, options, false, m);
    }

    /** Builds the instance over a mapped, validated segment; on failure unmaps (and removes what it created). */
    private static Segment attach(SegmentName name, SegmentOptions options, boolean created, Mapping m) {
        try {
            return new Segment(name, options, created, m, false);
        } catch (RuntimeException | Error e) {
            m.release();
            if (created) {
                unlink(name); // never leave a half-made segment behind
            }
            throw e;
        }
    }

    /**
     * Opens a private, copy-on-write snapshot of a segment, for inspection tools ({@code shmkit
     * stat}). It never registers as attached, never waits for a creator, and nothing written
     * through it (a lock taken, a dead owner's structure repaired) reaches the segment or any
     * other process: POSIX and file segments are mapped {@code MAP_PRIVATE} from a read-only
     * descriptor, so a page is shared until this process first writes it; System V segments
     * are copied. Pages nobody here wrote keep showing the live data, so a reader sees changes
     * other processes make to them. {@link #grow} and {@link #protect} are refused.
     *
     * @throws ShmException as {@link #open(SegmentName, SegmentOptions)} does
     */
    public static Segment openSnapshot(SegmentName name) {
        SegmentOptions ro = SegmentOptions.defaults().withReadOnly(true);
        try (Segment shared = open(name, ro)) {
            long size = Mem.getLongAcquire(shared.memory, OFF_SIZE);
            Mapping copy = shared.mapping instanceof FileMapping
                    ? FileMapping.snapshot(name, size)
                    : AnonymousMapping.copyOf(name, shared.memory, size);
            try {
                return new Segment(name, ro, false, copy, true);
            } catch (RuntimeException | Error e) {
                copy.release();
                throw e;
            }
        }
    }

    /** Whether this is a private snapshot made by {@link #openSnapshot}. */
    public boolean isSnapshot() {
        return snapshot;
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
        return switch (name.backend()) {
            case POSIX, FILE -> FileMapping.unlink(name);
            case SYSV -> SysVMapping.unlink(name);
            case ANONYMOUS -> false;
        };
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

    /**
     * Whether huge pages back this segment: explicit huge pages were mapped, or the kernel's
     * policy (the tmpfs mount's {@code huge=} option, {@code shmem_enabled}) gives transparent
     * ones to this mapping. False when {@link HugePages#OFF} was asked, and whenever the policy
     * cannot be read. The kernel may still use small pages when no free 2 MiB page is at hand.
     */
    public boolean hugePages() {
        return hugePages;
    }

    /**
     * The whole segment, header included, at its current size. Checks the header's resize
     * generation (one acquire load) and remaps first if another process grew the segment.
     * Read-only if the segment was opened read-only or is {@link #protect protected}. It does
     * not check for a foreign truncation of the file (it is on hot paths): an access to a page
     * that another process cut off raises SIGBUS, an {@link InternalError}; {@link #refresh()}
     * checks (see docs/SEGMENTS.md, "Foreign truncation").
     */
    public MemorySegment memory() {
        MemorySegment m = memory;
        // acquire: a generation bump is published after the new size (grow stores size first)
        long gen = Mem.getLongAcquire(m, OFF_RESIZE_GENERATION);
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
        return Mem.getIntAcquire(memory, OFF_KIND);
    }

    /** The layout hash recorded at creation. */
    public long layoutHash() {
        return Mem.getLongAcquire(memory, OFF_LAYOUT_HASH);
    }

    // ------------------------------------------------------------------ grow / refresh / protect

    /**
     * Picks up a size change made by another process. Returns true if the mapping changed.
     * Called automatically by {@link #memory()}.
     */
    public synchronized boolean refresh() {
        ensureOpen();
        mapping.checkNotTruncated();
        MemorySegment m = memory;
        long gen = Mem.getLongAcquire(m, OFF_RESIZE_GENERATION);
        if (gen == generation) {
            return false;
        }
        long newSize = Mem.getLongAcquire(m, OFF_SIZE);
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
        mapping.checkNotTruncated();
        long current = size();
        if (target < current) {
            throw new IllegalArgumentException("cannot shrink segment " + name + ": size=" + current
                    + " requested=" + target + " (segments only grow)");
        }
        MemorySegment m = writable;
        HeaderLock.with(m, owners, () -> {
            if (Mem.getLongAcquire(m, OFF_SIZE) < target) {
                mapping.resizeBacking(target, options.preallocate());
                Mem.setLongRelease(m, OFF_SIZE, target);
                // release: a reader that sees the new generation also sees the size above
                Mem.getAndAddLongRelease(m, OFF_RESIZE_GENERATION, 1L);
            }
            return null;
        });
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
        mapping.protect(prot);
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
     * The range is carved from the segment's data area after earlier reservations and reads as
     * zeros. The entry is visible to other processes as soon as this returns; the structure
     * placed there publishes its own readiness: the first 8 bytes of the range are its magic
     * word, stored last (every shmkit structure does this), and the structure counts as
     * published once they are non-zero.
     *
     * <p>The entry records this process as the creator. A reservation that was never published
     * does not keep its name forever: reserving the same name again takes it over when its
     * creator {@link #abandon abandoned} it or is positively dead (reusing the range if the new
     * length fits in it, zeroed again). Prefer {@link #createStructure}, which abandons the
     * reservation by itself when the initialisation throws.
     *
     * @throws SegmentExistsException      if a structure of that name is published, or is still
     *                                     being created by a process that is alive (or that this
     *                                     process cannot check): the message names it
     * @throws OutOfSharedMemoryException if the segment has no room left for the range
     */
    public DirectoryEntry reserve(String structureName, int kind, long length, long align) {
        ensureWritable();
        Directory.validate(structureName, length, align);
        mapping.checkNotTruncated();
        MemorySegment m = memory();
        return HeaderLock.with(m, owners, () -> Directory.reserve(m, owners, name, structureName, kind, length, align));
    }

    /**
     * Reserves a range as {@link #reserve} does and runs {@code init} on it, which must publish
     * the structure (store its magic last). If {@code init} throws, the reservation is
     * {@link #abandon abandoned} before the exception propagates, so creating the same name
     * again succeeds instead of finding a half-made structure.
     *
     * {@snippet :
     * FixedPool pool = segment.createStructure("orders", KIND, length, 64,
     *         entry -> initialise(segment.memory(), entry.offset(), entry.length()));
     * }
     */
    public <T> T createStructure(String structureName, int kind, long length, long align,
                                 Function<DirectoryEntry, T> init) {
        DirectoryEntry e = reserve(structureName, kind, length, align);
        try {
            return init.apply(e);
        } catch (RuntimeException | Error failure) {
            try {
                abandon(e);
            } catch (RuntimeException | Error cannotAbandon) {
                failure.addSuppressed(cannotAbandon);
            }
            throw failure;
        }
    }

    /**
     * Gives up a reservation this process made with {@link #reserve} whose structure it has not
     * published (its initialisation failed): the entry disappears from lookups, and the next
     * {@code reserve} of the same name takes it over. Returns false if the entry is gone.
     *
     * @throws IllegalStateException if the structure is published, or another process reserved it
     */
    public boolean abandon(DirectoryEntry entry) {
        ensureWritable();
        mapping.checkNotTruncated();
        MemorySegment m = memory();
        return HeaderLock.with(m, owners, () -> Directory.abandon(m, owners, name, entry));
    }

    /**
     * The process that reserved {@code entry}: its pid (a diagnostic) and its liveness from the
     * owner identity it recorded ({@link Liveness}: dead only on positive evidence, unknown
     * counts as alive); empty if the entry records none (half written). For messages, and for
     * deciding whether to wait for an unpublished structure.
     */
    public Optional<AttachedProcess> creatorOf(DirectoryEntry entry) {
        return Directory.creatorOf(memory(), owners, entry);
    }

    /** Finds a structure reserved with {@link #reserve}. */
    public Optional<DirectoryEntry> lookup(String structureName) {
        return Optional.ofNullable(Directory.find(memory(), structureName));
    }

    /** All structures reserved in this segment, in directory order. */
    public List<DirectoryEntry> directory() {
        return Directory.read(memory());
    }

    /** Bytes not yet reserved by {@link #reserve}. */
    public long unreserved() {
        MemorySegment m = memory();
        return Math.max(0, m.byteSize() - Mem.getLongAcquire(m, OFF_CARVE_TOP));
    }

    // ------------------------------------------------------------------ info

    /** Every header field and the attach table, read now. */
    public SegmentInfo info() {
        ensureOpen();
        mapping.checkNotTruncated();
        return HeaderCodec.readInfo(name, memory(), mapping.backingSize(), attachTable.attached());
    }

    /** The processes registered in the attach table, with whether each still runs. */
    public List<AttachedProcess> attached() {
        ensureOpen();
        mapping.checkNotTruncated();
        return attachTable.attached();
    }

    /** How many mappings of the backing object this attachment holds (bounded; see {@link FileMapping}). */
    synchronized int mappingCount() {
        return mapping.mappingCount();
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
        attachTable.detach(mapping, readOnlyProtected); // before the file closes: its kernel lock goes with it
        arena.close(); // invalidates every view before the memory goes away
        mapping.release(); // unmaps, and closes the file
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

    // ------------------------------------------------------------------ internals: mapping

    /** A view of everything mapped now, valid until close (views handed out earlier stay valid too). */
    private MemorySegment view() {
        return MemorySegment.ofAddress(mapping.address()).reinterpret(mapping.size(), arena, null);
    }

    private void remap(long newSize) {
        mapping.extend(newSize, Libc.PROT_READ | (readOnlyView() ? 0 : Libc.PROT_WRITE)); // in place: earlier views stay valid
        attachTable.cover(mapping);
        MemorySegment view = view();
        writable = view;
        memory = readOnlyView() ? view.asReadOnly() : view;
    }

    /** Whether API writes are refused: opened read-only (a snapshot is writable, privately) or protected. */
    private boolean readOnlyView() {
        return (options.readOnly() && !snapshot) || readOnlyProtected;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("segment " + name + " is closed");
        }
    }

    private void ensureWritable() {
        ensureOpen();
        if (readOnlyView()) {
            throw new IllegalStateException("segment " + name + " is read-only");
        }
    }
}
