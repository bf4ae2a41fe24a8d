package io.shmkit.alloc;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.ChildJvm;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A process dies holding an allocator's lock after scribbling over its free lists and
 * counters: the next user is told the owner died, rebuilds everything from the source of truth
 * (state bytes, page descriptors and bitmaps), and every live block stays allocated.
 */
class RepairAfterDeadOwnerTest {

    private String segName;
    private Segment seg;

    @BeforeEach
    void create() {
        segName = TestNames.unique("repair");
        seg = Segment.create(SegmentName.posix(segName), 1 << 20);
    }

    @AfterEach
    void unlink() {
        seg.closeAndUnlink();
    }

    private void killWhileHoldingTheLock(String name, String type) throws Exception {
        try (ChildJvm child = ChildJvm.start(LockHolderChild.class, segName, name, type)) {
            child.awaitLine("HELD", Duration.ofSeconds(60));
            child.kill9();
        }
    }

    @Test
    void fixedPoolRebuildsFreeListFromStateBytesAfterOwnerDied() throws Exception {
        FixedPool pool = FixedPool.create(seg, "fp", 64, 20);
        List<Long> live = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            live.add(pool.allocate(64));
        }
        pool.free(live.remove(3));
        pool.free(live.remove(0));
        killWhileHoldingTheLock("fp", "fixed");

        pool.verify(); // takes the lock: OWNER_DIED, repair, then the checks
        assertEquals(1, pool.lockTakeovers());
        assertEquals(live.size(), pool.stats().allocations());
        for (long off : live) {
            assertTrue(pool.isAllocated(off), "live slice at " + off + " survived the repair");
        }
        for (int i = live.size(); i < 20; i++) {
            long off = pool.allocate(64);
            assertFalse(live.contains(off), "repair handed out a live slice: " + off);
        }
        assertEquals(0, pool.tryAllocate(64));
        pool.verify();
        for (long off : live) {
            pool.free(off);
        }
        pool.verify();
    }

    @Test
    void slabRebuildsRunsListsAndCountersFromDescriptorsAfterOwnerDied() throws Exception {
        SlabAllocator slab = SlabAllocator.create(seg, "slab", 32);
        List<Long> live = new ArrayList<>();
        long[] sizes = {8, 24, 100, 1000, 2048, 5000, 64, 3 * 4096, 16};
        for (int round = 0; round < 4; round++) {
            for (long size : sizes) {
                live.add(slab.allocate(size));
            }
        }
        for (int i = live.size() - 1; i >= 0; i -= 3) {
            slab.free(live.remove(i));
        }
        AllocatorStats before = slab.stats();
        List<SlabClassStats> classesBefore = slab.classStats();
        long freeBefore = slab.freePages();
        killWhileHoldingTheLock("slab", "slab");

        slab.verify();
        assertEquals(1, slab.lockTakeovers());
        AllocatorStats after = slab.stats();
        assertEquals(before.allocations(), after.allocations());
        assertEquals(before.used(), after.used());
        List<SlabClassStats> classesAfter = slab.classStats();
        for (int c = 0; c < classesBefore.size(); c++) {
            assertEquals(classesBefore.get(c).used(), classesAfter.get(c).used(), "class " + classesBefore.get(c).size());
        }
        // the repair frees pages that held no block; it never loses a free page
        assertTrue(slab.freePages() >= freeBefore, "free pages " + slab.freePages() + " < " + freeBefore);
        for (long off : live) {
            slab.free(off); // throws if the repair lost a live block
        }
        slab.verify();
        assertEquals(0, slab.stats().allocations());
        assertEquals(32, slab.freePages() + slab.classStats().stream().filter(c -> c.total() > 0).count());
    }
}
