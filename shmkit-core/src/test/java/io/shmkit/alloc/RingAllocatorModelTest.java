package io.shmkit.alloc;

import io.shmkit.internal.RingLayout;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.TestNames;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random allocate/free sequences (random sizes, random per-call alignment, frees in random
 * order) against a model of the live blocks. After every step: no overlap, blocks inside the
 * ring's data area, aligned, contents of live blocks unchanged, stats (live blocks, bytes in
 * use, requests, failures) equal the model's, verify() passes, a second free of the same
 * offset is rejected, and once everything is freed any request up to half the ring succeeds.
 */
class RingAllocatorModelTest {

    private static final long[] ALIGNS = {8, 8, 8, 16, 64, 256};

    @Property(tries = 150)
    void randomAllocateFreeSequencesMatchTheModel(
            @ForAll @Size(max = 300) List<@IntRange(min = 0, max = Integer.MAX_VALUE) Integer> ops,
            @ForAll @IntRange(min = 2, max = 64) int kib,
            @ForAll boolean powerOfTwo,
            @ForAll boolean singleThreaded) {
        Segment seg = Segment.create(SegmentName.posix(TestNames.unique("ringmodel")), 1 << 20);
        try {
            // a power-of-two capacity masks positions, any other divides: test both
            long length = powerOfTwo ? RingAllocator.bytesNeeded(Integer.highestOneBit(kib) * 1024L)
                    : RingLayout.OFF_DATA + kib * 1024L + 48;
            RingAllocator ring = RingAllocator.create(seg, "r", length, singleThreaded ? SyncMode.SINGLE_THREADED : SyncMode.LOCKED);
            long data = ring.name().isEmpty() ? 0 : seg.lookup("r").orElseThrow().offset() + RingLayout.OFF_DATA;
            long cap = ring.capacity();
            assertEquals(powerOfTwo, Long.bitCount(cap) == 1, "capacity=" + cap);
            LiveBlocks live = new LiveBlocks(seg.memory(), data, cap);
            long requests = 0;
            long failures = 0;
            long modelUsed = 0;
            for (int op : ops) {
                if (op % 3 != 0 || live.size() == 0) {
                    int r = op >>> 2;
                    long size = (r & 15) == 0 ? 1 + (r >>> 4) % cap : 1 + (r >>> 4) % 512;
                    long align = ALIGNS[(r >>> 20) % ALIGNS.length];
                    requests++;
                    boolean empty = live.size() == 0;
                    long off = ring.tryAllocate(size, align);
                    if (off == 0) {
                        failures++;
                        assertFalse(empty && align <= 16 && size <= cap / 2 - 16,
                                "an empty ring refused size=" + size + " of capacity=" + cap);
                    } else {
                        live.add(off, size, align);
                        assertTrue(off >= data && off + size <= data + cap, "inside the data area");
                        modelUsed += (16 + size + 15) & -16L;
                    }
                } else {
                    var b = live.remove((op >>> 2) % live.size());
                    ring.free(b.offset());
                    modelUsed -= (16 + b.size() + 15) & -16L;
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ring.free(b.offset()));
                    assertTrue(e.getMessage().contains(Long.toString(b.offset())));
                }
                live.checkContents();
                ring.verify();
                AllocatorStats s = ring.stats();
                assertEquals(live.size(), s.allocations());
                assertEquals(modelUsed, s.used());
                assertEquals(requests, s.requests());
                assertEquals(failures, s.failures());
                for (var b : live.blocks()) {
                    assertTrue(ring.isAllocated(b.offset()));
                }
            }
        } finally {
            seg.closeAndUnlink();
        }
    }
}
