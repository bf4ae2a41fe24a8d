package io.shmkit.alloc;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.FixedPoolLayout;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The per-thread caches of {@link SyncMode#THREAD_CACHED}: ended threads, a full registry, damage. */
class FixedPoolThreadCacheTest {

    private static final int SLICES = 200;

    private Segment seg;
    private FixedPool pool;

    @BeforeEach
    void create() {
        seg = Segment.create(SegmentName.posix(TestNames.unique("fptc")), 1 << 20);
        pool = FixedPool.create(seg, "p", 32, SLICES, 8, SyncMode.THREAD_CACHED);
    }

    @AfterEach
    void unlink() {
        seg.closeAndUnlink();
    }

    /** Allocates every slice from the calling thread; all must be distinct. */
    private List<Long> allocateAll() {
        List<Long> all = new ArrayList<>();
        for (int i = 0; i < SLICES; i++) {
            long off = pool.tryAllocate(32);
            assertNotEquals(0, off, "slice " + i + " of " + SLICES + " could not be allocated");
            all.add(off);
        }
        assertEquals(SLICES, all.stream().distinct().count());
        assertEquals(0, pool.tryAllocate(32));
        return all;
    }

    @Test
    void slicesCachedByAThreadThatEndedAreReturnedWhenThePoolRunsOut() throws InterruptedException {
        ThreadChurn.runInNewThread(() -> {
            long[] offs = new long[20];
            for (int i = 0; i < offs.length; i++) {
                offs[i] = pool.allocate(32);
            }
            for (long off : offs) {
                pool.free(off);
            }
            assertTrue(pool.cachedSlices() > 0, "the thread's cache holds the freed slices");
        });
        assertTrue(pool.cachedSlices() > 0, "nobody has released the ended thread's cache yet");
        List<Long> all = allocateAll(); // runs out, reclaims the ended thread's cache, goes on
        pool.verify();
        for (long off : all) {
            pool.free(off);
        }
        pool.releaseThreadCache();
        assertEquals(0, pool.stats().allocations());
        assertEquals(0, pool.cachedSlices());
        pool.verify();
    }

    @Test
    void endedThreadsDoNotExhaustTheRegistry() throws InterruptedException {
        int threads = FixedPoolLayout.ENTRIES + 36;
        int[] entryOf = new int[threads];
        for (int t = 0; t < threads; t++) {
            int k = t;
            ThreadChurn.runInNewThread(() -> {
                long off = pool.allocate(32);
                pool.free(off);
                entryOf[k] = pool.threadCacheEntry();
            });
        }
        // Every thread got a cache, including those that came after the registry was full of ended threads.
        for (int t = 0; t < threads; t++) {
            assertTrue(entryOf[t] >= 0, "thread " + t + " found the registry full and ran without a cache");
        }
        // The caches of all ended threads together never held more than the registry allows.
        assertTrue(pool.cachedSlices() <= (long) FixedPoolLayout.ENTRIES * FixedPool.CACHE_SLICES);
        allocateAll();
        pool.verify();
    }

    @Test
    void freeingACachedSliceAgainIsReportedAndChangesNothing() {
        long off = pool.allocate(32);
        pool.free(off);
        AllocatorStats before = pool.stats();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pool.free(off));
        MessageAssert.assertThat(e.getMessage()).contains("offset=" + off).contains("thread cache");
        assertEquals(before, pool.stats());
        pool.verify();
    }

    @Test
    void aSliceMarkedAsCachedByAnUnownedEntryIsFoundByVerify() {
        long base = seg.lookup("p").orElseThrow().offset();
        long state5 = base + FixedPoolLayout.stateArray(FixedPoolLayout.ENTRIES, SLICES)
                + FixedPoolLayout.statePosition(SLICES, 5);
        // slice 5 claims to sit in the cache of registry entry 9, which no thread has registered
        seg.memory().set(ValueLayout.JAVA_BYTE, state5, (byte) (FixedPoolLayout.STATE_CACHED + 9));
        SegmentCorruptedException e = assertThrows(SegmentCorruptedException.class, pool::verify);
        MessageAssert.assertThat(e.getMessage()).contains("slice 5").contains("offset=" + state5)
                .contains("which no thread owns");
    }

    @Test
    void aStateByteOutsideEveryKnownValueIsFoundByVerify() {
        long base = seg.lookup("p").orElseThrow().offset();
        long state7 = base + FixedPoolLayout.stateArray(FixedPoolLayout.ENTRIES, SLICES)
                + FixedPoolLayout.statePosition(SLICES, 7);
        seg.memory().set(ValueLayout.JAVA_BYTE, state7, (byte) 99);
        SegmentCorruptedException e = assertThrows(SegmentCorruptedException.class, pool::verify);
        MessageAssert.assertThat(e.getMessage()).contains("slice 7").contains("is 99");
    }

    @Test
    void threadsComingAndGoingConcurrentlyNeverShareABlock() throws InterruptedException {
        ThreadChurn.run(pool, 32, 3, 40, 400);
        pool.verify();
        assertEquals(0, pool.stats().allocations(), "every block the threads held was freed");
    }

    @Test
    void aPoolOfTheOlderFormatIsRefusedWithAClearMessage() {
        long base = seg.lookup("p").orElseThrow().offset();
        seg.memory().set(ValueLayout.JAVA_LONG, base + FixedPoolLayout.OFF_MAGIC, FixedPoolLayout.MAGIC_FORMAT_1);
        io.shmkit.UnsupportedFormatException e = assertThrows(io.shmkit.UnsupportedFormatException.class,
                () -> FixedPool.open(seg, "p"));
        MessageAssert.assertThat(e.getMessage()).contains("'p'").contains("SHMKFXP1").contains("recreate");
    }
}
