package io.shmkit.alloc;

import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.RegionRegistryLayout;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.ChildJvm;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** Regions recorded in a {@link RegionRegistry}: given back when their process dies. */
class RegionRegistryTest {

    private static final int KILLS = Boolean.getBoolean("shmkit.long") ? 100 : 12;

    private String name;
    private Segment seg;

    @BeforeEach
    void create() {
        name = TestNames.unique("regreg");
        seg = Segment.create(SegmentName.posix(name), 8 << 20);
    }

    @AfterEach
    void unlink() {
        seg.closeAndUnlink();
    }

    @Test
    void aClosedRegionLeavesNothingRecordedOrAllocated() {
        RingAllocator ring = RingAllocator.create(seg, "ring", 1 << 20);
        RegionRegistry registry = RegionRegistry.create(seg, "regions", ring, 4, 16);
        try (Region r = Region.create(registry, 1024, 1024)) {
            for (int i = 0; i < 5; i++) {
                r.allocate(900);
            }
            MemorySegment big = r.allocate(4000);
            r.allocate(3000);
            r.free(big);
            assertEquals(1, registry.registeredRegions());
            assertEquals(5 + 1, ring.stats().allocations(), "5 blocks and 1 live large allocation");
            registry.verify();
            assertEquals(0, registry.reclaimDead(), "the region's process is alive");
        }
        assertEquals(0, registry.registeredRegions());
        assertEquals(0, ring.stats().allocations());
        ring.verify();
    }

    @Test
    void theBlocksOfARegionWhoseProcessWasKilledAreGivenBack() throws Exception {
        RingAllocator ring = RingAllocator.create(seg, "ring", RingAllocator.bytesNeeded(64 * 1024));
        RegionRegistry registry = RegionRegistry.create(seg, "regions", ring, 4, 16);
        try (ChildJvm child = ChildJvm.start(RegionChild.class, "hold", name, "regions")) {
            String ready = child.awaitLine("READY", Duration.ofSeconds(30));
            assertEquals("READY blocks=3 large=2", ready);
            child.kill9();
        }
        assertEquals(5, ring.stats().allocations(), "the dead region's blocks are still allocated");
        assertEquals(1, registry.registeredRegions());
        RegionRegistry other = RegionRegistry.open(seg, "regions"); // as another process would
        assertEquals(1, other.reclaimDead());
        assertEquals(0, registry.registeredRegions());
        assertEquals(0, ring.stats().allocations());
        assertEquals(1, registry.reclaimedRegions());
        assertEquals(5, registry.reclaimedBlocks());
        ring.verify();
        // the ring is not wedged: blocks cycle through it many times over, past where the dead
        // region's blocks were (with them still allocated, its head could not pass them)
        for (int i = 0; i < 100; i++) {
            ring.free(ring.allocate(8192));
        }
        ring.verify();
    }

    @Test
    void regionsKilledAtRandomMomentsLeakAtMostTheBlockInFlight() throws Exception {
        SlabAllocator slab = SlabAllocator.create(seg, "slab", 512);
        RegionRegistry registry = RegionRegistry.create(seg, "regions", slab, 8, 64);
        SplittableRandom rnd = new SplittableRandom(42);
        int reclaimed = 0;
        for (int k = 0; k < KILLS; k++) {
            try (ChildJvm child = ChildJvm.start(RegionChild.class, "churn", name, "regions", Long.toString(k))) {
                child.awaitLine("READY", Duration.ofSeconds(30));
                Thread.sleep(5 + rnd.nextInt(60));
                child.kill9();
            }
            reclaimed += registry.reclaimDead();
            registry.verify();
            slab.verify();
            assertEquals(0, registry.registeredRegions(), "kill " + k + ": every dead region was reclaimed");
            assertTrue(slab.stats().allocations() <= k + 1, "kill " + k + ": " + slab.stats().allocations()
                    + " blocks still allocated, more than one per kill");
        }
        System.out.println("region registry crash test: kills=" + KILLS + " regions reclaimed=" + reclaimed
                + " blocks reclaimed=" + registry.reclaimedBlocks() + " leaked=" + slab.stats().allocations());
        assertTrue(registry.reclaimedBlocks() > 0, "the kills found regions holding blocks");
    }

    @Test
    void aFullRegistryReclaimsDeadSlotsAndOtherwiseSaysSo() throws Exception {
        SlabAllocator slab = SlabAllocator.create(seg, "slab", 64);
        RegionRegistry registry = RegionRegistry.create(seg, "regions", slab, 1, 8);
        try (ChildJvm child = ChildJvm.start(RegionChild.class, "hold", name, "regions")) {
            child.awaitLine("READY", Duration.ofSeconds(30));
            child.kill9();
        }
        try (Region r = Region.create(registry, 1024, 256)) { // the only slot was the dead child's
            r.allocate(8);
            assertEquals(1, registry.reclaimedRegions());
            OutOfSharedMemoryException e = assertThrows(OutOfSharedMemoryException.class,
                    () -> Region.create(registry, 1024, 256));
            MessageAssert.assertThat(e.getMessage()).contains("'regions'").contains("all 1 slots");
        }
        assertEquals(0, slab.stats().allocations());
    }

    @Test
    void aRegionHoldingAsManyBlocksAsItsSlotAllowsFailsClearlyAndLeaksNothing() {
        SlabAllocator slab = SlabAllocator.create(seg, "slab", 64);
        RegionRegistry registry = RegionRegistry.create(seg, "regions", slab, 2, 2);
        try (Region r = Region.create(registry, 1024, 256)) {
            r.allocate(1000);
            r.allocate(1000);
            OutOfSharedMemoryException e = assertThrows(OutOfSharedMemoryException.class, () -> r.allocate(1000));
            MessageAssert.assertThat(e.getMessage()).contains("'regions'").contains("may hold 2");
            assertEquals(2, slab.stats().allocations(), "the block that could not be recorded was freed");
        }
        assertEquals(0, slab.stats().allocations());
    }

    @Test
    void badInputIsRefused() {
        RingAllocator single = RingAllocator.create(seg, "single", 64 * 1024, SyncMode.SINGLE_THREADED);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RegionRegistry.create(seg, "r1", single, 4, 4));
        MessageAssert.assertThat(e.getMessage()).contains("single-threaded");
        SlabAllocator slab = SlabAllocator.create(seg, "slab", 16);
        assertThrows(IllegalArgumentException.class, () -> RegionRegistry.create(seg, "r2", slab, 0, 4));
        Segment other = Segment.create(SegmentName.posix(TestNames.unique("regreg-other")), 1 << 20);
        try {
            SlabAllocator foreign = SlabAllocator.create(other, "slab", 16); // same name, other segment
            IllegalArgumentException f = assertThrows(IllegalArgumentException.class,
                    () -> RegionRegistry.create(seg, "r2", foreign, 4, 4));
            MessageAssert.assertThat(f.getMessage()).contains("is not in segment");
        } finally {
            other.closeAndUnlink();
        }
        assertThrows(IllegalArgumentException.class, () -> Region.create(RegionRegistry.create(seg, "r3", slab, 1, 4), 100));
        RegionRegistry r3 = RegionRegistry.open(seg, "r3");
        assertEquals(0, r3.registeredRegions(), "a refused region took no slot");
        // a damaged record is found by verify()
        RegionRegistry r4 = RegionRegistry.create(seg, "r4", slab, 1, 4);
        try (Region r = Region.create(r4, 1024, 256)) {
            r.allocate(8);
            long rec = seg.lookup("r4").orElseThrow().offset() + RegionRegistryLayout.OFF_SLOT_TABLE
                    + RegionRegistryLayout.Slot.OFF_OFFSETS;
            long recorded = seg.memory().get(ValueLayout.JAVA_LONG, rec);
            seg.memory().set(ValueLayout.JAVA_LONG, rec, 12345L);
            SegmentCorruptedException c = assertThrows(SegmentCorruptedException.class, r4::verify);
            MessageAssert.assertThat(c.getMessage()).contains("offset=12345").contains("slot 0");
            seg.memory().set(ValueLayout.JAVA_LONG, rec, recorded); // repaired, so close() frees the block
        }
    }
}
