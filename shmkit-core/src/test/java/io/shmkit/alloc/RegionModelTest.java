package io.shmkit.alloc;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.TestNames;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random sequences of small and large allocations, frees of large ones and resets, on an
 * off-heap region, one over a ring in a shared segment, or one over the same ring recorded in a
 * {@link RegionRegistry}, against a model of live blocks.
 * After every step: no overlap, alignment, contents of live blocks unchanged, allocation
 * counts equal the model's, and used bytes lie between the requested bytes and the capacity.
 */
class RegionModelTest {

    private static final long[] ALIGNS = {1, 8, 8, 16, 64, 256};

    @Property(tries = 120)
    void randomSequencesMatchTheModel(
            @ForAll @Size(max = 250) List<@IntRange(min = 0, max = Integer.MAX_VALUE) Integer> ops,
            @ForAll @IntRange(min = 6, max = 12) int blockShift,
            @ForAll @IntRange(min = 0, max = 2) int home) {
        boolean inSegment = home > 0;
        long blockSize = 1L << blockShift;
        Segment seg = inSegment ? Segment.create(SegmentName.posix(TestNames.unique("regionmodel")), 4 << 20) : null;
        try {
            RingAllocator ring = inSegment ? RingAllocator.create(seg, "r", 3 << 20) : null;
            RegionRegistry registry = home == 2 ? RegionRegistry.create(seg, "regions", ring, 2, 512) : null;
            MemorySegment view = inSegment ? seg.memory() : MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
            try (Region region = home == 2 ? Region.create(registry, blockSize)
                    : inSegment ? Region.create(ring, blockSize) : Region.create(blockSize)) {
                LiveBlocks live = new LiveBlocks(view, inSegment ? seg.dataOffset() : 0, 64 * 1024);
                List<Boolean> isLarge = new ArrayList<>();
                List<MemorySegment> slices = new ArrayList<>();
                long smallBytes = 0;
                long largeBytes = 0;
                int small = 0;
                for (int op : ops) {
                    int kind = op % 20;
                    int r = op >>> 5;
                    if (kind == 0) {
                        region.reset();
                        while (live.size() > 0) {
                            live.remove(0);
                        }
                        isLarge.clear();
                        slices.clear();
                        smallBytes = 0;
                        largeBytes = 0;
                        small = 0;
                    } else if (kind < 5 && isLarge.contains(true)) {
                        int i = isLarge.indexOf(true) + r % (isLarge.size() - isLarge.indexOf(true));
                        if (!isLarge.get(i)) {
                            i = isLarge.indexOf(true);
                        }
                        MemorySegment s = slices.get(i);
                        region.free(s);
                        // keep the three lists in step with LiveBlocks.remove's swap-with-last
                        live.remove(i);
                        largeBytes -= s.byteSize();
                        int last = slices.size() - 1;
                        slices.set(i, slices.get(last));
                        slices.remove(last);
                        isLarge.set(i, isLarge.get(last));
                        isLarge.remove(last);
                    } else {
                        long size = kind < 8 ? 1 + r % 60_000 : 1 + r % Math.max(1, blockSize / 2);
                        long align = ALIGNS[(r >>> 16) % ALIGNS.length];
                        MemorySegment s = region.allocate(size, align);
                        assertEquals(size, s.byteSize());
                        long at = inSegment ? region.offsetOf(s) : s.address();
                        live.add(at, size, align);
                        boolean large = size > region.largeThreshold() || align > Region.BLOCK_ALIGN;
                        isLarge.add(large);
                        slices.add(s);
                        if (large) {
                            largeBytes += size;
                        } else {
                            smallBytes += size;
                            small++;
                        }
                    }
                    live.checkContents();
                    AllocatorStats st = region.stats();
                    assertEquals(small + (int) isLarge.stream().filter(b -> b).count(), st.allocations());
                    assertTrue(st.used() >= smallBytes + largeBytes, "used covers the requests");
                    assertTrue(st.used() <= st.capacity(), "used within capacity");
                    assertEquals(region.blockCount() * blockSize + largeBytes, st.capacity());
                    if (registry != null) {
                        registry.verify();
                        assertEquals(region.blockCount() + region.largeCount(), recorded(seg, registry),
                                "the registry records exactly the blocks and large allocations the region holds");
                    }
                }
            }
            if (inSegment) {
                assertEquals(0, ring.stats().allocations(), "close gave every block back");
                ring.verify();
            }
            if (registry != null) {
                assertEquals(0, registry.registeredRegions(), "close gave the slot back");
            }
        } finally {
            if (seg != null) {
                seg.closeAndUnlink();
            }
        }
    }

    /** Non-zero offsets recorded in the registry's slots. */
    private static long recorded(Segment seg, RegionRegistry registry) {
        long base = seg.lookup(registry.name()).orElseThrow().offset();
        long slotBytes = io.shmkit.internal.RegionRegistryLayout.slotBytes(registry.maxBlocks());
        long n = 0;
        for (int slot = 0; slot < registry.slots(); slot++) {
            long at = base + io.shmkit.internal.RegionRegistryLayout.OFF_SLOT_TABLE + slot * slotBytes;
            long count = seg.memory().get(java.lang.foreign.ValueLayout.JAVA_LONG,
                    at + io.shmkit.internal.RegionRegistryLayout.Slot.OFF_COUNT);
            for (long i = 0; i < count; i++) {
                if (seg.memory().get(java.lang.foreign.ValueLayout.JAVA_LONG,
                        at + io.shmkit.internal.RegionRegistryLayout.Slot.OFF_OFFSETS + 8 * i) != 0) {
                    n++;
                }
            }
        }
        return n;
    }
}
