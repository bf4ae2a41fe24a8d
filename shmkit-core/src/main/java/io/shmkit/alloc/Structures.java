package io.shmkit.alloc;

import io.shmkit.LayoutMismatchException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/** Helpers shared by the allocators of this package for create/open. */
final class Structures {

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final long MAGIC_WAIT_NANOS = 2_000_000_000L;

    /**
     * Whether {@code mode} asks for no lock, for an allocator without thread caches; throws for
     * {@link SyncMode#THREAD_CACHED}, which only {@link FixedPool} and {@link SlabAllocator} offer.
     */
    static boolean singleThreaded(SyncMode mode, String what) {
        return switch (java.util.Objects.requireNonNull(mode, "mode")) {
            case LOCKED -> false;
            case SINGLE_THREADED -> true;
            case THREAD_CACHED -> throw new IllegalArgumentException(what + " has no thread caches: mode must be "
                    + SyncMode.LOCKED + " or " + SyncMode.SINGLE_THREADED);
        };
    }

    private Structures() {
    }

    static DirectoryEntry lookup(Segment segment, String name, int kind, String type) {
        DirectoryEntry e = segment.lookup(name).orElseThrow(() -> new IllegalArgumentException(
                "no structure named '" + name + "' in segment " + segment.name()));
        if (e.kind() != kind) {
            throw new LayoutMismatchException("structure '" + name + "' in segment " + segment.name() + " has kind=0x"
                    + Integer.toHexString(e.kind()) + ", expected a " + type + " (kind=0x" + Integer.toHexString(kind) + ")");
        }
        return e;
    }

    /**
     * Waits (briefly) until the creator has stored the magic word, then checks it.
     *
     * @throws SegmentCorruptedException if the magic is wrong or never appears
     */
    static void awaitMagic(MemorySegment memory, long at, long expected, String what) {
        checkRange(memory, at, 8, what);
        long deadline = System.nanoTime() + MAGIC_WAIT_NANOS;
        while (true) {
            long m = (long) LONG.getAcquire(memory, at); // acquire: pairs with the creator's release of the magic
            if (m == expected) {
                return;
            }
            if (m != 0) {
                throw new SegmentCorruptedException(what + ": bad magic 0x" + Long.toHexString(m) + " at offset " + at
                        + ", expected 0x" + Long.toHexString(expected));
            }
            if (System.nanoTime() - deadline > 0) {
                throw new SegmentCorruptedException(what + ": magic still 0 at offset " + at
                        + " after 2 s; the creator died before finishing or the range is not initialised");
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    static void checkRange(MemorySegment memory, long offset, long length, String what) {
        if (offset < 0 || length < 0 || offset + length > memory.byteSize() || offset + length < offset) {
            throw new IllegalArgumentException(what + ": range offset=" + offset + " length=" + length
                    + " is outside the memory of size=" + memory.byteSize());
        }
        if ((offset & 63) != 0) {
            throw new IllegalArgumentException(what + ": range must be 64-byte aligned: offset=" + offset);
        }
    }

    static void checkAlign(long align) {
        if (align <= 0 || Long.bitCount(align) != 1) {
            throw new IllegalArgumentException("align must be a positive power of two: align=" + align);
        }
    }

    static long alignUp(long v, long align) {
        return (v + align - 1) & -align;
    }
}
