package io.shmkit.internal;

import java.lang.foreign.MemorySegment;

import static io.shmkit.internal.OwnerRecordLayout.*;

/**
 * The codec of {@link OwnerRecordLayout}: claims, reads and releases the owner record at a
 * segment offset. Whether a recorded owner is dead is {@link OwnerTable}'s answer; this class
 * only reads the id it asks about.
 *
 * <p>Claim and release are made under the lock of the table that holds the records; the
 * in-use word is stored with release and may be read without the lock with acquire
 * ({@link #inUseAcquire}) to take a snapshot.
 */
public final class OwnerRecords {

    private OwnerRecords() {
    }

    /** Whether the record at {@code at} is held (plain read: the table's lock is held, or a racy snapshot). */
    public static boolean inUse(MemorySegment m, long at) {
        return Mem.getInt(m, at + OFF_IN_USE) != IN_USE_FREE;
    }

    /** Whether the record at {@code at} is held, with acquire: its holder's writes before the claim are seen. */
    public static boolean inUseAcquire(MemorySegment m, long at) {
        return Mem.getIntAcquire(m, at + OFF_IN_USE) != IN_USE_FREE;
    }

    /** The owner id recorded at {@code at}. */
    public static int owner(MemorySegment m, long at) {
        return Mem.getInt(m, at + OFF_OWNER);
    }

    /**
     * Claims the free record at {@code at} for the calling thread of the process whose owner id
     * is {@code ownerId}: the owner and the diagnostics first, then the in-use word (release).
     */
    public static void claim(MemorySegment m, long at, int ownerId) {
        Mem.setInt(m, at + OFF_OWNER, ownerId);
        Mem.setLong(m, at + OFF_PID, Procs.PID);
        Mem.setLong(m, at + OFF_THREAD, Thread.currentThread().threadId());
        Mem.setIntRelease(m, at + OFF_IN_USE, IN_USE_HELD);
    }

    /** Releases the record at {@code at} (release: what the table wrote before is seen by the next claimer). */
    public static void release(MemorySegment m, long at) {
        Mem.setIntRelease(m, at + OFF_IN_USE, IN_USE_FREE);
    }

    /**
     * Whether the held record at {@code at} names a process {@code owners} knows to be dead:
     * positive evidence only (alive or unknown is false), and never this process.
     */
    public static boolean heldByDead(MemorySegment m, long at, OwnerTable owners) {
        int owner = owner(m, at);
        return owner != owners.id() && owners.check(owner).dead();
    }
}
