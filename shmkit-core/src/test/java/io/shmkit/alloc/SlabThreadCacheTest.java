package io.shmkit.alloc;

import io.shmkit.internal.SlabLayout;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The per-thread caches of a {@link SyncMode#THREAD_CACHED} slab when threads end without releasing them. */
class SlabThreadCacheTest {

    private static final int PAGES = 8;
    private static final int PAGE = 4096;
    private static final int BLOCK = 64;

    private Segment seg;
    private SlabAllocator slab;

    @BeforeEach
    void create() {
        seg = Segment.create(SegmentName.posix(TestNames.unique("slabtc")), 1 << 20);
        slab = SlabAllocator.create(seg, "s", PAGES, PAGE, SyncMode.THREAD_CACHED);
    }

    @AfterEach
    void unlink() {
        seg.closeAndUnlink();
    }

    /** Allocates 64-byte blocks from the calling thread until the slab is full; returns them. */
    private List<Long> allocateUntilFull() {
        List<Long> all = new ArrayList<>();
        for (long off; (off = slab.tryAllocate(BLOCK)) != 0; ) {
            all.add(off);
            assertTrue(all.size() <= PAGES * PAGE / BLOCK, "more blocks than the slab holds");
        }
        assertEquals(all.size(), all.stream().distinct().count());
        return all;
    }

    @Test
    void blocksCachedByAThreadThatEndedAreReturnedWhenTheSlabRunsOut() throws InterruptedException {
        List<Long> baseline = allocateUntilFull();
        for (long off : baseline) {
            slab.free(off);
        }
        slab.releaseThreadCache();
        ThreadChurn.runInNewThread(() -> {
            long[] offs = new long[SlabLayout.CACHE_SLOTS];
            for (int i = 0; i < offs.length; i++) {
                offs[i] = slab.allocate(BLOCK);
            }
            for (long off : offs) {
                slab.free(off);
            }
            assertTrue(slab.cachedBlocks() > 0, "the thread's cache holds the freed blocks");
        });
        assertTrue(slab.cachedBlocks() > 0, "nobody has released the ended thread's cache yet");
        List<Long> again = allocateUntilFull(); // runs out, takes the ended thread's cache back, goes on
        assertEquals(baseline.size(), again.size(), "every block is reachable again");
        slab.verify();
    }

    @Test
    void endedThreadsDoNotExhaustTheRegistry() throws InterruptedException {
        int threads = SlabLayout.ENTRIES + 20;
        int[] entryOf = new int[threads];
        for (int t = 0; t < threads; t++) {
            int k = t;
            ThreadChurn.runInNewThread(() -> {
                slab.free(slab.allocate(BLOCK));
                entryOf[k] = slab.threadCacheEntry();
            });
        }
        for (int t = 0; t < threads; t++) {
            assertTrue(entryOf[t] >= 0, "thread " + t + " found the registry full and ran without a cache");
        }
        slab.verify();
    }

    @Test
    void threadsComingAndGoingConcurrentlyNeverShareABlock() throws InterruptedException {
        ThreadChurn.run(slab, BLOCK, 3, 40, 400);
        slab.verify();
        assertEquals(0, slab.stats().allocations(), "every block the threads held was freed");
    }
}
