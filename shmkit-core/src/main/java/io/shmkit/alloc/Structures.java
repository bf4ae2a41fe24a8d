package io.shmkit.alloc;

import io.shmkit.UnsupportedFormatException;
import io.shmkit.internal.Formats;
import io.shmkit.internal.Mem;
import io.shmkit.LayoutMismatchException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.SegmentNotFoundException;
import io.shmkit.StructureNotFoundException;
import io.shmkit.segment.AttachedProcess;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/** Helpers shared by the allocators of this package for create/open. */
final class Structures {
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

    /**
     * Finds the structure {@code name} of {@code kind} and waits (briefly) until its creator
     * published it; a structure whose creator died before publishing it, or gave it up, is
     * refused at once with a message naming the creator.
     *
     * @throws StructureNotFoundException if the directory has no structure of that name
     */
    static DirectoryEntry lookup(Segment segment, String name, int kind, String type) {
        DirectoryEntry e = segment.lookup(name).orElseThrow(() -> new StructureNotFoundException(
                "no structure named '" + name + "' in segment " + segment.name()));
        if (e.kind() != kind) {
            throw new LayoutMismatchException("structure '" + name + "' in segment " + segment.name() + " has kind=0x"
                    + Integer.toHexString(e.kind()) + ", expected a " + type + " (kind=0x" + Integer.toHexString(kind) + ")");
        }
        awaitPublished(segment, e, type + " '" + name + "' in segment " + segment.name());
        return e;
    }

    /**
     * Waits until the structure in {@code e} stored its magic (the first 8 bytes of its range
     * non-zero). Gives up at once if its creator is positively dead or abandoned it, and after
     * 2 s while it is alive (or cannot be checked); a snapshot never waits.
     *
     * @throws SegmentNotFoundException naming the creator, if the structure is not published
     */
    static void awaitPublished(Segment segment, DirectoryEntry e, String what) {
        long deadline = System.nanoTime() + (segment.isSnapshot() ? 0 : MAGIC_WAIT_NANOS);
        while (true) {
            MemorySegment m = segment.memory();
            if (e.offset() < 0 || e.offset() > m.byteSize() - 8 || (e.offset() & 7) != 0
                    || Mem.getLongAcquire(m, e.offset()) != 0) {
                // published (the structure's own open checks the exact magic), or out of range or misaligned
                // (a damaged entry: its open's range check says so)
                return;
            }
            Optional<DirectoryEntry> now = segment.lookup(e.name());
            if (now.isEmpty() || now.get().offset() != e.offset()) {
                throw new SegmentNotFoundException(what + " was abandoned by its creator before it was published;"
                        + " create it again");
            }
            Optional<AttachedProcess> creator = segment.creatorOf(e);
            if (creator.isPresent() && !creator.get().alive()) {
                throw new SegmentNotFoundException(what + " was never published: pid " + creator.get().pid()
                        + ", which reserved it, died first; creating it again reclaims the name and its range");
            }
            if (System.nanoTime() - deadline > 0) {
                throw new SegmentNotFoundException(what + " is not published yet: "
                        + creator.map(c -> "pid " + c.pid() + " (" + c.liveness().label() + ")").orElse("its creator (unknown)")
                        + " reserved it and has not finished" + (segment.isSnapshot() ? "" : " after 2 s"));
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /**
     * Waits (briefly) until the creator has stored the magic word, then checks it.
     *
     * @throws SegmentCorruptedException if the magic is wrong or never appears
     */
    static void awaitMagic(MemorySegment memory, long at, long expected, String what) {
        long m = awaitNonZero(memory, at, what);
        if (m != expected) {
            throw new SegmentCorruptedException(what + ": bad magic 0x" + Long.toHexString(m) + " at offset " + at
                    + ", expected 0x" + Long.toHexString(expected));
        }
    }

    /**
     * Waits (briefly) until the creator has published the structure at {@code at} (its magic at
     * {@code at + magicAt} non-zero), then checks its magic and format with the one version
     * scheme (Formats in the internal package).
     *
     * @throws SegmentCorruptedException   if the magic is wrong or never appears
     * @throws UnsupportedFormatException if the structure has a legacy magic or another format
     */
    static void awaitFormat(MemorySegment memory, long at, long magicAt, long magic, long formatAt, int format,
                            String what, long... legacy) {
        awaitNonZero(memory, at + magicAt, what);
        Formats.check(memory, at + magicAt, magic, at + formatAt, format, what + " at offset " + at, legacy);
    }

    /** The magic word at {@code at} once it is non-zero (acquire); gives up after 2 s. */
    private static long awaitNonZero(MemorySegment memory, long at, String what) {
        checkRange(memory, at, 8, what);
        long deadline = System.nanoTime() + MAGIC_WAIT_NANOS;
        while (true) {
            long m = Mem.getLongAcquire(memory, at); // acquire: pairs with the creator's release of the magic
            if (m != 0) {
                return m;
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
