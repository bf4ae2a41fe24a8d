package io.shmkit.alloc;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.Procs;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Liveness;
import io.shmkit.segment.Segment;
import io.shmkit.sync.ShmMutex;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Looking at allocators without waiting for them and without changing them, for tools such as
 * {@code shmkit stat}. Everything here reads a {@link Segment#openSnapshot snapshot}: a private
 * copy-on-write view in which the allocator's usual code (its lock, its dead-owner repair) runs
 * without any write reaching the segment.
 *
 * <p>An allocator whose lock is held by a process that is not positively dead (it runs, is
 * stopped, or cannot be checked) would make any reader wait for as long as that process holds
 * it. {@link #open} therefore frees the lock <em>in the snapshot only</em> and reports the
 * holder in {@link LockHolder}: the figures are then read without the lock, as a snapshot that
 * the holder may have been in the middle of changing. A lock whose holder is dead is left as
 * it is, so the snapshot shows the structure as its next user will repair it.
 *
 * <p>Thread safety: stateless; process safety: reads only.
 */
public final class Inspection {

    /** Offset of the robust lock inside every locked allocator's range (see the layout descriptors). */
    private static final long LOCK_OFFSET = 64;

    private Inspection() {
    }

    /**
     * Who holds an allocator's lock, as far as this process can tell.
     *
     * @param pid   the holder's pid as recorded in the lock word
     * @param state the liveness answer ({@link Liveness}: {@code "alive"}, {@code "dead"} or
     *              {@code "unknown"}, treated as alive), refined to {@code "stopped"} for a live
     *              holder in this pid namespace whose {@code /proc} state is T (suspended or
     *              traced: it will not release the lock until resumed); only "dead" is dead
     */
    public record LockHolder(int pid, String state) {

        /** Whether the holder is positively dead (its next user repairs the structure). */
        public boolean dead() {
            return state.equals("dead");
        }

        @Override
        public String toString() {
            return "pid " + pid + " (" + state + ")";
        }
    }

    /** The holder of the lock of the structure {@code entry} names, or empty if it is free or has no lock. */
    public static Optional<LockHolder> lockHolder(Segment segment, DirectoryEntry entry) {
        ShmMutex mutex = mutexOf(segment, entry);
        if (mutex == null) {
            return Optional.empty();
        }
        if (!mutex.isLocked()) {
            return Optional.empty();
        }
        int pid = mutex.ownerPid();
        Liveness liveness = mutex.ownerLiveness(); // the one liveness answer: dead only on evidence
        String state = liveness == Liveness.ALIVE && sameNamespace(segment, pid) && stopped(pid) ? "stopped"
                : liveness.label();
        return Optional.of(new LockHolder(pid, state));
    }

    /** Whether {@code pid} is a process attached to the segment from this process's pid namespace. */
    private static boolean sameNamespace(Segment segment, int pid) {
        return segment.attached().stream().anyMatch(p -> p.pid() == pid && p.pidNamespace() == Procs.PID_NAMESPACE);
    }

    /**
     * Opens the allocator {@code entry} names in a snapshot, without waiting: a lock held by a
     * process that is not dead is freed in the snapshot first (see the class comment).
     *
     * @throws IllegalArgumentException if {@code snapshot} is not a {@link Segment#openSnapshot snapshot}
     */
    public static Optional<SharedAllocator> open(Segment snapshot, DirectoryEntry entry) {
        requireSnapshot(snapshot);
        releaseLiveHolder(snapshot, entry);
        return Allocators.open(snapshot, entry);
    }

    /** Opens a region registry in a snapshot, without waiting (see {@link #open}). */
    public static RegionRegistry openRegistry(Segment snapshot, DirectoryEntry entry) {
        requireSnapshot(snapshot);
        releaseLiveHolder(snapshot, entry);
        return RegionRegistry.open(snapshot, entry.name());
    }

    private static void requireSnapshot(Segment s) {
        if (!s.isSnapshot()) {
            throw new IllegalArgumentException("inspection runs on a snapshot (Segment.openSnapshot), not on segment "
                    + s.name() + " itself");
        }
    }

    private static void releaseLiveHolder(Segment snapshot, DirectoryEntry entry) {
        Optional<LockHolder> holder = lockHolder(snapshot, entry);
        if (holder.isPresent() && !holder.get().dead()) {
            ShmMutex.create(snapshot.memory(), entry.offset() + LOCK_OFFSET); // private page: the segment is untouched
        }
    }

    /** The structure's robust lock, or null if its kind has none or it was made without one. */
    private static ShmMutex mutexOf(Segment segment, DirectoryEntry entry) {
        boolean locked = StructureKind.of(entry.kind()).map(StructureKind::locked).orElse(false);
        if (!locked || entry.length() < LOCK_OFFSET + ShmMutex.SIZE) {
            return null;
        }
        try {
            return ShmMutex.open(segment.memory(), entry.offset() + LOCK_OFFSET);
        } catch (SegmentCorruptedException | IllegalArgumentException noMutex) {
            return null; // a single-threaded allocator, or not created yet: nothing to wait for
        }
    }

    /** Whether {@code /proc/<pid>/stat} shows state T or t (stopped by a signal, or traced). */
    static boolean stopped(long pid) {
        try {
            String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
            int close = s.lastIndexOf(')');
            char state = close > 0 && close + 2 < s.length() ? s.charAt(close + 2) : '?';
            return state == 'T' || state == 't';
        } catch (IOException | RuntimeException e) {
            return false; // cannot tell: leave the liveness answer as it is
        }
    }
}
