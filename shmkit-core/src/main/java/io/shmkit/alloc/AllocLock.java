package io.shmkit.alloc;

import io.shmkit.internal.Mem;
import io.shmkit.internal.Procs;
import io.shmkit.internal.StructureLocks;
import io.shmkit.sync.ShmMutex;

import java.lang.foreign.MemorySegment;

/**
 * The lock an allocator takes around each operation: a robust cross-process lock, or nothing
 * in single-threaded mode ({@link #NONE}). The robust one is a {@link ShmMutex}: a process that
 * dies holding it is detected by the next acquirer, which is told so and repairs.
 */
interface AllocLock {

    /** Bytes reserved for the lock's state in shared memory (one or two cache lines). */
    long RESERVED = 128;

    /**
     * Takes the lock.
     *
     * @return {@code true} if the previous owner died holding it: the caller must repair the
     *         structure from its source of truth and then call {@link #markConsistent()}
     */
    boolean lock();

    /** Declares the structure repaired after {@link #lock()} returned {@code true}. */
    void markConsistent();

    void unlock();

    /** How often a dead owner's lock was taken over (0 without a lock). */
    default int takeovers() {
        return 0;
    }

    /** Creates the robust lock at {@code offset} (64-byte aligned, {@link #RESERVED} bytes). */
    static AllocLock createRobust(MemorySegment memory, long offset) {
        return new Robust(ShmMutex.create(memory, offset));
    }

    /** Opens the robust lock created at {@code offset}. */
    static AllocLock openRobust(MemorySegment memory, long offset) {
        return new Robust(ShmMutex.open(memory, offset));
    }

    /** A {@link ShmMutex} behind this interface. */
    record Robust(ShmMutex mutex) implements AllocLock {

        public Robust {
            if (ShmMutex.SIZE > RESERVED) {
                throw new IllegalStateException("ShmMutex.SIZE=" + ShmMutex.SIZE + " exceeds the " + RESERVED
                        + " bytes allocators reserve for their lock");
            }
        }

        // An allocator holds its lock only inside its own calls: StructureLocks reports what the
        // mutex calls a misuse (the word names the caller on entry, or changed under the holder)
        // as damage, a SegmentCorruptedException.

        @Override
        public boolean lock() {
            return StructureLocks.lock(mutex);
        }

        @Override
        public void markConsistent() {
            StructureLocks.markConsistent(mutex);
        }

        @Override
        public void unlock() {
            StructureLocks.unlock(mutex);
        }

        @Override
        public int takeovers() {
            return mutex.takeovers();
        }
    }

    /**
     * Single-threaded mode with crash repair: no lock (the caller serialises every call), but a
     * last-user word at {@code offset} holding the {@link Procs#TOKEN} of the process that made
     * the last call. {@link #lock()} returns {@code true} when the word names another process
     * (or any other value): that process may have been killed inside an operation, so the
     * allocator repairs from its source of truth, as after a dead owner of the robust lock, and
     * this process becomes the last user. While one process keeps calling, an operation costs one
     * load and a compare: no store and no fence.
     *
     * <p>Why not a busy word set before and cleared after each operation: it needs the two
     * stores ordered around the operation's own stores, and any ordering primitive (a
     * store-store fence, a release or opaque store) halved the allocate+free rate of a
     * {@code FixedPool} on this JIT (JMH, docs/ALLOCATORS.md). The price of this scheme is a
     * repair, linear in the structure's size, each time the calling process changes; callers
     * that alternate processes often use {@link SyncMode#LOCKED} instead.
     */
    static AllocLock lastUser(MemorySegment memory, long offset, boolean create) {
        if (create) {
            Mem.setLong(memory, offset, Procs.TOKEN); // the creator: no repair on its first call
        }
        return new AllocLock() {
            @Override
            public boolean lock() {
                if (Mem.getLong(memory, offset) == Procs.TOKEN) {
                    return false;
                }
                Mem.setLong(memory, offset, Procs.TOKEN);
                return true;
            }

            @Override
            public void markConsistent() {
            }

            @Override
            public void unlock() {
            }
        };
    }

    /** No locking: the caller serialises every call (single-threaded mode). */
    AllocLock NONE = new AllocLock() {
        @Override
        public boolean lock() {
            return false;
        }

        @Override
        public void markConsistent() {
        }

        @Override
        public void unlock() {
        }
    };
}
