package io.shmkit.alloc;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.Formats;

import java.lang.foreign.MemorySegment;

/** Waiting for a structure that another process may still be creating to be published. */
final class Published {

    private static final long WAIT_NANOS = 2_000_000_000L;

    private Published() {
    }

    /**
     * Waits up to 2 s until the magic at {@code magicAt} is stored (acquire): an opener may race
     * the creator. The caller then checks it with {@code Formats.check}.
     *
     * @throws SegmentCorruptedException if the magic is still 0 (the creator died before finishing)
     */
    static void await(MemorySegment memory, long magicAt, String what) {
        Structures.checkRange(memory, magicAt, 8, what);
        long deadline = System.nanoTime() + WAIT_NANOS;
        while (!Formats.published(memory, magicAt)) {
            if (System.nanoTime() - deadline > 0) {
                throw new SegmentCorruptedException(what + ": magic still 0 at offset " + magicAt
                        + " after 2 s; the creator died before finishing or the range is not initialised");
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
