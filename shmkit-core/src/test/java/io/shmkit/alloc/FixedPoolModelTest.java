package io.shmkit.alloc;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.TestNames;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Random allocate/free sequences against a model; invariants checked after every step. */
class FixedPoolModelTest {

    @Property(tries = 200)
    void randomAllocateFreeSequencesMatchTheModel(
            @ForAll @Size(max = 250) List<@IntRange(min = 0, max = 1 << 20) Integer> ops,
            @ForAll @IntRange(min = 1, max = 40) int slices,
            @ForAll @IntRange(min = 1, max = 200) int sliceSize,
            @ForAll SyncMode mode) {
        Segment seg = Segment.create(SegmentName.posix(TestNames.unique("fpmodel")), 1 << 20);
        try {
            FixedPool pool = FixedPool.create(seg, "p", sliceSize, slices, 8, mode);
            long size = pool.sliceSize();
            LiveBlocks live = new LiveBlocks(seg.memory(), seg.dataOffset(), size);
            long requests = 0;
            long failures = 0;
            for (int op : ops) {
                if (op % 3 != 0 || live.size() == 0) {
                    long req = 1 + (op >>> 2) % size;
                    requests++;
                    long off = pool.tryAllocate(req);
                    if (off == 0) {
                        failures++;
                        assertEquals(slices, live.size(), "failed while slices were free");
                    } else {
                        assertTrue(pool.isAllocated(off));
                        live.add(off, size, 8);
                    }
                } else {
                    var b = live.remove((op >>> 2) % live.size());
                    pool.free(b.offset());
                    assertFalse(pool.isAllocated(b.offset()));
                }
                AllocatorStats s = pool.stats();
                assertEquals(live.size(), s.allocations());
                assertEquals(live.size() * size, s.used());
                assertEquals(size * slices, s.capacity());
                assertEquals(requests, s.requests());
                assertEquals(failures, s.failures());
                live.checkContents();
                pool.verify();
            }
            for (int i = live.size() - 1; i >= 0; i--) {
                pool.free(live.remove(i).offset());
            }
            pool.releaseThreadCache();
            assertEquals(0, pool.cachedSlices());
            assertEquals(0, pool.stats().allocations());
            for (int i = 0; i < slices; i++) {
                live.add(pool.allocate(size), size, 8); // every slice is reachable again
            }
            assertEquals(0, pool.tryAllocate(size));
            pool.verify();
        } finally {
            seg.closeAndUnlink();
        }
    }
}
