package io.shmkit.segment;

import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.SegmentExistsException;
import io.shmkit.internal.OwnerTable;
import io.shmkit.internal.Mem;
import io.shmkit.internal.Procs;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static io.shmkit.internal.SegmentHeader.*;

/**
 * The segment header's directory of named structures (layout in
 * {@link io.shmkit.internal.SegmentHeader}): reserving a range under a name, finding it,
 * giving a reservation up, and taking over one whose creator gave up or died before it
 * published its structure. Every method that changes an entry runs under the header lock,
 * which {@link Segment} holds around the call; readers need no lock.
 *
 * <p>A structure is <em>published</em> once the first 8 bytes of its range (its magic word,
 * stored last by every shmkit structure) are non-zero. A reservation is taken over only when
 * it is unpublished and either abandoned by its creator or its creator is positively dead;
 * a creator that is alive, or that this process cannot check, keeps it (fail closed).
 */
final class Directory {

    private Directory() {
    }

    /** Checks the arguments of a reservation. */
    static void validate(String structureName, long length, long align) {
        String n = structureName;
        if (n == null || n.isEmpty() || n.getBytes(StandardCharsets.UTF_8).length > DirectoryRecord.NAME_BYTES
                || n.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("invalid structure name: name='" + (n == null ? "null" : SegmentName.printable(n))
                    + "' (1.." + DirectoryRecord.NAME_BYTES + " UTF-8 bytes, no NUL)");
        }
        if (length <= 0) {
            throw new IllegalArgumentException("length must be positive: length=" + length);
        }
        if (align <= 0 || Long.bitCount(align) != 1 || align > Segment.PAGE_SIZE) {
            throw new IllegalArgumentException("align must be a power of two <= 4096: align=" + align);
        }
    }

    /** Reserves (or takes over) the entry for {@code structureName}; header lock held. */
    static DirectoryEntry reserve(MemorySegment m, OwnerTable owners, SegmentName segment, String structureName,
                                  int kind, long length, long align) {
        int index = indexOf(m, structureName, true);
        if (index >= 0) {
            return takeOver(m, owners, segment, index, structureName, kind, length, align);
        }
        int free = -1;
        for (int i = 0; i < DIRECTORY_ENTRIES && free < 0; i++) {
            if (Mem.getLongAcquire(m, directoryEntry(i) + DirectoryRecord.OFF_STATE) == DirectoryRecord.STATE_FREE) {
                free = i;
            }
        }
        if (free < 0) {
            throw new OutOfSharedMemoryException("segment " + segment + ": directory full (" + DIRECTORY_ENTRIES
                    + " structures); cannot reserve '" + structureName + "'");
        }
        long offset = carve(m, segment, structureName, length, align);
        long e = directoryEntry(free);
        recordCreator(m, owners, free);
        Mem.setInt(m, e + DirectoryRecord.OFF_KIND, kind);
        Mem.setLong(m, e + DirectoryRecord.OFF_OFFSET, offset);
        Mem.setLong(m, e + DirectoryRecord.OFF_LENGTH, length);
        writeString(m, e + DirectoryRecord.OFF_NAME, DirectoryRecord.NAME_BYTES, structureName);
        // release: a reader that sees COMMITTED sees the fields above
        Mem.setLongRelease(m, e + DirectoryRecord.OFF_STATE, DirectoryRecord.STATE_COMMITTED);
        return new DirectoryEntry(structureName, kind, offset, length);
    }

    /** Advances the carve pointer past a new range and returns its offset (commits before the entry). */
    private static long carve(MemorySegment m, SegmentName segment, String structureName, long length, long align) {
        long top = Mem.getLongAcquire(m, OFF_CARVE_TOP);
        long offset = (top + align - 1) & -align;
        if (offset + length > m.byteSize() || offset + length < offset) {
            throw new OutOfSharedMemoryException("segment " + segment + ": cannot reserve '" + structureName
                    + "' length=" + length + " align=" + align + ", free=" + Math.max(0, m.byteSize() - offset)
                    + " of size=" + m.byteSize());
        }
        // Commit order: carve pointer first, then the entry. A crash in between leaks the
        // range but never lets two entries overlap.
        Mem.setLongRelease(m, OFF_CARVE_TOP, offset + length);
        return offset;
    }

    /**
     * An entry of that name exists: refuse if it is published or its creator may still be at
     * work, otherwise take it over, reusing its range when the new request fits in it (zeroed
     * first, as a fresh range is) and carving a new range when not (the old range is lost).
     */
    private static DirectoryEntry takeOver(MemorySegment m, OwnerTable owners, SegmentName segment, int index,
                                           String structureName, int kind, long length, long align) {
        long e = directoryEntry(index);
        long state = Mem.getLongAcquire(m, e + DirectoryRecord.OFF_STATE);
        DirectoryEntry old = entryAt(m, index);
        if (state == DirectoryRecord.STATE_COMMITTED) {
            if (published(m, old)) {
                throw new SegmentExistsException("structure '" + structureName + "' already exists in segment " + segment);
            }
            Optional<AttachedProcess> creator = creatorAt(m, owners, index);
            if (creator.isEmpty() || creator.get().alive()) {
                throw new SegmentExistsException("structure '" + structureName + "' in segment " + segment
                        + " is being created by " + describe(creator) + " and is not published yet");
            }
        }
        boolean fits = (old.offset() & (align - 1)) == 0 && length <= old.length()
                && old.offset() + length <= m.byteSize();
        long offset = fits ? old.offset() : carve(m, segment, structureName, length, align);
        // ours from here: a racing opener sees a live creator and waits instead of giving up
        recordCreator(m, owners, index);
        m.asSlice(offset, fits ? old.length() : length).fill((byte) 0);
        Mem.setInt(m, e + DirectoryRecord.OFF_KIND, kind);
        Mem.setLong(m, e + DirectoryRecord.OFF_OFFSET, offset);
        Mem.setLong(m, e + DirectoryRecord.OFF_LENGTH, length);
        Mem.setLongRelease(m, e + DirectoryRecord.OFF_STATE, DirectoryRecord.STATE_COMMITTED);
        return new DirectoryEntry(structureName, kind, offset, length);
    }

    /**
     * Marks the unpublished reservation {@code entry}, made by this process, abandoned; header
     * lock held. Returns false if there is no such reservation (any more).
     */
    static boolean abandon(MemorySegment m, OwnerTable owners, SegmentName segment, DirectoryEntry entry) {
        int index = indexOf(m, entry.name(), false);
        if (index < 0 || entryAt(m, index).offset() != entry.offset()) {
            return false;
        }
        if (published(m, entry)) {
            throw new IllegalStateException("structure '" + entry.name() + "' in segment " + segment
                    + " is published and cannot be abandoned");
        }
        Optional<AttachedProcess> creator = creatorAt(m, owners, index);
        if (creator.isEmpty() || creatorId(m, index) != owners.id()) {
            throw new IllegalStateException("structure '" + entry.name() + "' in segment " + segment + " was reserved by "
                    + describe(creator) + ", not by this process: only its creator may abandon it");
        }
        Mem.setLongRelease(m, directoryEntry(index) + DirectoryRecord.OFF_STATE, DirectoryRecord.STATE_ABANDONED);
        return true;
    }

    /** Whether the structure in {@code entry} published its magic (the first 8 bytes of its range). */
    static boolean published(MemorySegment m, DirectoryEntry entry) {
        if (entry.offset() + 8 > m.byteSize()) {
            return false;
        }
        try {
            return Mem.getLongAcquire(m, entry.offset()) != 0;
        } catch (InternalError noPage) {
            // SIGBUS: a sparse segment's page that the full file system cannot back even for a
            // read (tmpfs allocates on read faults too). Nothing was ever stored there.
            return false;
        }
    }

    /** The process that reserved {@code entry}, or empty if unknown (or the entry is gone). */
    static Optional<AttachedProcess> creatorOf(MemorySegment m, OwnerTable owners, DirectoryEntry entry) {
        int index = indexOf(m, entry.name(), true);
        return index < 0 ? Optional.empty() : creatorAt(m, owners, index);
    }

    /**
     * The creator of entry {@code index}: its pid (a diagnostic) and its liveness from the one
     * liveness answer ({@link OwnerTable#check}: dead only on positive evidence).
     */
    private static Optional<AttachedProcess> creatorAt(MemorySegment m, OwnerTable owners, int index) {
        long pid = Integer.toUnsignedLong(Mem.getIntAcquire(m, directoryEntry(index) + DirectoryRecord.OFF_CREATOR_PID));
        if (pid == 0) {
            return Optional.empty(); // a half-written entry: unknown, so never taken over
        }
        int id = creatorId(m, index);
        return Optional.of(new AttachedProcess(pid, 0, owners.check(id).liveness(), OwnerTable.slotOf(id), 0));
    }

    private static int creatorId(MemorySegment m, int index) {
        return (int) Mem.getLongAcquire(m, directoryCreator(index));
    }

    private static void recordCreator(MemorySegment m, OwnerTable owners, int index) {
        Mem.setLongRelease(m, directoryCreator(index), Integer.toUnsignedLong(owners.id()));
        Mem.setIntRelease(m, directoryEntry(index) + DirectoryRecord.OFF_CREATOR_PID, Procs.PID);
    }

    static String describe(Optional<AttachedProcess> creator) {
        return creator.map(c -> "pid " + c.pid() + " (" + c.liveness().label() + ")").orElse("an unknown process");
    }

    /** The published (COMMITTED) entry of that name, or null. */
    static DirectoryEntry find(MemorySegment m, String structureName) {
        int index = indexOf(m, structureName, false);
        return index < 0 ? null : entryAt(m, index);
    }

    /** Index of the entry named {@code structureName} that is committed (or abandoned too), or -1. */
    private static int indexOf(MemorySegment m, String structureName, boolean orAbandoned) {
        for (int i = 0; i < DIRECTORY_ENTRIES; i++) {
            long state = Mem.getLongAcquire(m, directoryEntry(i) + DirectoryRecord.OFF_STATE);
            if ((state == DirectoryRecord.STATE_COMMITTED || (orAbandoned && state == DirectoryRecord.STATE_ABANDONED))
                    && readString(m, directoryEntry(i) + DirectoryRecord.OFF_NAME, DirectoryRecord.NAME_BYTES).equals(structureName)) {
                return i;
            }
        }
        return -1;
    }

    private static DirectoryEntry entryAt(MemorySegment m, int i) {
        long e = directoryEntry(i);
        return new DirectoryEntry(readString(m, e + DirectoryRecord.OFF_NAME, DirectoryRecord.NAME_BYTES), Mem.getInt(m, e + DirectoryRecord.OFF_KIND),
                Mem.getLong(m, e + DirectoryRecord.OFF_OFFSET), Mem.getLong(m, e + DirectoryRecord.OFF_LENGTH));
    }

    /** Every committed entry, in directory order. */
    static List<DirectoryEntry> read(MemorySegment m) {
        List<DirectoryEntry> out = new ArrayList<>();
        for (int i = 0; i < DIRECTORY_ENTRIES; i++) {
            if (Mem.getLongAcquire(m, directoryEntry(i) + DirectoryRecord.OFF_STATE) == DirectoryRecord.STATE_COMMITTED) {
                out.add(entryAt(m, i));
            }
        }
        return out;
    }
}
