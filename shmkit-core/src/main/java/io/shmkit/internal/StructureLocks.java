package io.shmkit.internal;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.sync.LockResult;
import io.shmkit.sync.ShmMutex;

/**
 * The robust lock a shared structure (an allocator, the shared table) takes inside one of its
 * own calls and never holds between calls. For such a lock, what {@link ShmMutex} reports as a
 * misuse by its caller can only be damage: a lock word naming the calling thread on entry (it
 * holds no lock of the structure then), or a held word that changed under the holder. Both are
 * reported as {@link SegmentCorruptedException}, the structure's documented answer to a damaged
 * image, rather than the mutex's {@code IllegalStateException}/{@code IllegalMonitorStateException}.
 */
public final class StructureLocks {

    private StructureLocks() {
    }

    /** Takes the lock; {@code true} if its previous owner died holding it (repair, then {@link #markConsistent}). */
    public static boolean lock(ShmMutex mutex) {
        try {
            return mutex.lock() == LockResult.OWNER_DIED;
        } catch (IllegalStateException e) {
            // "not reentrant": the structure holds none of its locks between calls, so a word
            // naming the calling thread was written by somebody else
            throw new SegmentCorruptedException("lock word at offset=" + mutex.offset()
                    + " names the calling thread, which does not hold it (overwritten): " + e.getMessage(), e);
        }
    }

    public static void markConsistent(ShmMutex mutex) {
        try {
            mutex.markConsistent();
        } catch (IllegalMonitorStateException e) {
            throw overwritten(mutex, e);
        }
    }

    public static void unlock(ShmMutex mutex) {
        try {
            mutex.unlock();
        } catch (IllegalMonitorStateException e) {
            throw overwritten(mutex, e);
        }
    }

    private static SegmentCorruptedException overwritten(ShmMutex mutex, IllegalMonitorStateException e) {
        return new SegmentCorruptedException("lock word at offset=" + mutex.offset()
                + " was overwritten while this thread held it: " + e.getMessage(), e);
    }
}
