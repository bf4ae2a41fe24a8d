package io.shmkit.alloc;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.FixedPoolLayout;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 8, finding 9 (first item): when a foreign writer overwrites the lock word an allocator
 * holds, verify() and refill report SegmentCorruptedException, never the
 * IllegalMonitorStateException of a caller that unlocks a lock it does not hold.
 */
class OverwrittenLockWordTest {

    @Test
    void verifyAndRefillReportAnOverwrittenHeldLockWordAsCorruption() throws Exception {
        try (Segment seg = Segment.create(SegmentName.posix(TestNames.unique("lockword")), 1 << 20)) {
            try {
                FixedPool pool = FixedPool.create(seg, "p", 64, 512, 8, SyncMode.THREAD_CACHED);
                DirectoryEntry e = seg.lookup("p").orElseThrow();
                MemorySegment m = seg.memory();
                long word = e.offset() + FixedPoolLayout.OFF_LOCK;
                AtomicBoolean stop = new AtomicBoolean();
                Thread foreign = new Thread(() -> {
                    while (!stop.get()) {
                        m.set(ValueLayout.JAVA_LONG, word, 0L); // "free", under the holder's feet
                        Thread.onSpinWait();
                    }
                });
                int corrupted = 0;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                foreign.start();
                try {
                    for (int i = 0; corrupted < 5 && System.nanoTime() < deadline; i++) {
                        try {
                            if ((i & 1) == 0) {
                                pool.verify();
                            } else {
                                long off = pool.tryAllocate(64, 8); // refills the thread cache
                                if (off != 0) {
                                    pool.free(off);
                                }
                                pool.releaseThreadCache(); // so the next allocation refills again
                            }
                        } catch (SegmentCorruptedException expected) {
                            assertThat(expected).hasMessageContaining("was overwritten while this thread held it");
                            corrupted++;
                        }
                    }
                } finally {
                    stop.set(true);
                    foreign.join();
                }
                assertThat(corrupted).as("overwrites caught while the lock was held").isPositive();
            } finally {
                Segment.unlink(seg.name());
            }
        }
    }
}
