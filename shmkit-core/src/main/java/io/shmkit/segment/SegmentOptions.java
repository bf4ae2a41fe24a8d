package io.shmkit.segment;

/**
 * How a segment is created or opened. Immutable; each {@code withX} returns a copy.
 *
 * @param mode           permission bits for a newly created segment (default {@code 0600})
 * @param hugePages      huge page policy (default {@link HugePages#OFF})
 * @param kind           structure kind recorded at creation and checked at open (0 = any)
 * @param layoutHash     layout hash recorded at creation and checked at open (0 = any)
 * @param preallocate    reserve the backing memory at creation and at every grow
 *                       ({@code posix_fallocate}; default <b>true</b>), so that a full file system
 *                       fails there with {@link io.shmkit.InsufficientSpaceException} and nothing is
 *                       left behind. {@code false} makes a <b>sparse</b> segment (see {@link #sparse()})
 * @param readOnly       open for inspection only: no writes, no attach registration
 * @param addressReserve bytes of address space each attachment of a POSIX or file segment
 *                       reserves so that the segment grows in place (0 = the default,
 *                       {@code max(64 GiB, 4 x size)}); reserved address space costs no memory.
 *                       Growth past it is still possible, at the cost of one more mapping per
 *                       doubling (see {@link Segment#grow(long)})
 */
public record SegmentOptions(int mode, HugePages hugePages, int kind, long layoutHash,
                             boolean preallocate, boolean readOnly, long addressReserve) {

    public static final int DEFAULT_MODE = 0600;

    public SegmentOptions {
        if ((mode & ~07777) != 0) {
            throw new IllegalArgumentException("invalid mode: mode=0" + Integer.toOctalString(mode));
        }
        if (hugePages == null) {
            throw new IllegalArgumentException("hugePages must not be null");
        }
        if (addressReserve < 0) {
            throw new IllegalArgumentException("addressReserve must not be negative: addressReserve=" + addressReserve);
        }
    }

    /** The options of earlier versions, with the default address reservation. */
    public SegmentOptions(int mode, HugePages hugePages, int kind, long layoutHash, boolean preallocate, boolean readOnly) {
        this(mode, hugePages, kind, layoutHash, preallocate, readOnly, 0);
    }

    /** Mode 0600, no huge pages, any kind and layout, space reserved at create and grow, read-write. */
    public static SegmentOptions defaults() {
        return new SegmentOptions(DEFAULT_MODE, HugePages.OFF, 0, 0, true, false, 0);
    }

    /**
     * Whether this makes a sparse segment: the file is only extended at create and grow, and
     * memory is taken page by page on first touch. <b>Risk:</b> if the file system (for POSIX
     * segments, {@code /dev/shm}) fills up, the first write to a page that has no memory yet
     * raises {@code SIGBUS}, which the JVM reports as {@link InternalError} from whatever access
     * touched it, in any process that uses the segment. Choose it only where the file system
     * cannot fill up, or where an {@code InternalError} is acceptable.
     */
    public boolean sparse() {
        return !preallocate;
    }

    public SegmentOptions withMode(int mode) {
        return new SegmentOptions(mode, hugePages, kind, layoutHash, preallocate, readOnly, addressReserve);
    }

    public SegmentOptions withHugePages(HugePages hugePages) {
        return new SegmentOptions(mode, hugePages, kind, layoutHash, preallocate, readOnly, addressReserve);
    }

    public SegmentOptions withKind(int kind) {
        return new SegmentOptions(mode, hugePages, kind, layoutHash, preallocate, readOnly, addressReserve);
    }

    public SegmentOptions withLayoutHash(long layoutHash) {
        return new SegmentOptions(mode, hugePages, kind, layoutHash, preallocate, readOnly, addressReserve);
    }

    /** {@code withPreallocate(false)} opts into a sparse segment; read {@link #sparse()} for the risk. */
    public SegmentOptions withPreallocate(boolean preallocate) {
        return new SegmentOptions(mode, hugePages, kind, layoutHash, preallocate, readOnly, addressReserve);
    }

    /** Same as {@code withPreallocate(!sparse)}; read {@link #sparse()} for the risk. */
    public SegmentOptions withSparse(boolean sparse) {
        return withPreallocate(!sparse);
    }

    public SegmentOptions withReadOnly(boolean readOnly) {
        return new SegmentOptions(mode, hugePages, kind, layoutHash, preallocate, readOnly, addressReserve);
    }

    /** Address space to reserve per attachment for in-place growth; 0 for the default. */
    public SegmentOptions withAddressReserve(long addressReserve) {
        return new SegmentOptions(mode, hugePages, kind, layoutHash, preallocate, readOnly, addressReserve);
    }
}
