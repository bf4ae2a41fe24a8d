package io.shmkit.segment;

/**
 * How a segment is created or opened. Immutable; each {@code withX} returns a copy.
 *
 * @param mode        permission bits for a newly created segment (default {@code 0600})
 * @param hugePages   huge page policy (default {@link HugePages#OFF})
 * @param kind        structure kind recorded at creation and checked at open (0 = any)
 * @param layoutHash  layout hash recorded at creation and checked at open (0 = any)
 * @param preallocate reserve the backing memory at creation ({@code posix_fallocate}) so that
 *                    a full {@code /dev/shm} fails at creation with a clear error instead of
 *                    raising a fault at first touch (default false)
 * @param readOnly    open for inspection only: no writes, no attach registration
 */
public record SegmentOptions(int mode, HugePages hugePages, int kind, long layoutHash,
                             boolean preallocate, boolean readOnly) {

    public static final int DEFAULT_MODE = 0600;

    public SegmentOptions {
        if ((mode & ~07777) != 0) {
            throw new IllegalArgumentException("invalid mode: mode=0" + Integer.toOctalString(mode));
        }
        if (hugePages == null) {
            throw new IllegalArgumentException("hugePages must not be null");
        }
    }

    /** Mode 0600, no huge pages, any kind and layout, read-write. */
    public static SegmentOptions defaults() {
        return new SegmentOptions(DEFAULT_MODE, HugePages.OFF, 0, 0, false, false);
    }

    public SegmentOptions withMode(int mode) {
        return new SegmentOptions(mode, hugePages, kind, layoutHash, preallocate, readOnly);
    }

    public SegmentOptions withHugePages(HugePages hugePages) {
        return new SegmentOptions(mode, hugePages, kind, layoutHash, preallocate, readOnly);
    }

    public SegmentOptions withKind(int kind) {
        return new SegmentOptions(mode, hugePages, kind, layoutHash, preallocate, readOnly);
    }

    public SegmentOptions withLayoutHash(long layoutHash) {
        return new SegmentOptions(mode, hugePages, kind, layoutHash, preallocate, readOnly);
    }

    public SegmentOptions withPreallocate(boolean preallocate) {
        return new SegmentOptions(mode, hugePages, kind, layoutHash, preallocate, readOnly);
    }

    public SegmentOptions withReadOnly(boolean readOnly) {
        return new SegmentOptions(mode, hugePages, kind, layoutHash, preallocate, readOnly);
    }
}
