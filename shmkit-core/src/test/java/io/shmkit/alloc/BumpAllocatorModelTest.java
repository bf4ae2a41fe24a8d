package io.shmkit.alloc;

import io.shmkit.internal.BumpLayout;
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
 * Random allocation sequences (random sizes up to more than a page, random per-call alignment,
 * occasional reset) against a model of pages that only records how much of each page is used.
 * After every step: the allocator returned the model's offset (or failed when the model does),
 * blocks do not overlap, stay inside the allocator's range, are aligned, keep their contents,
 * stats equal the model's, and verify() passes.
 */
class BumpAllocatorModelTest {

    private static final long[] ALIGNS = {8, 8, 8, 16, 64, 256};

    @Property(tries = 150)
    void randomAllocationSequencesMatchTheModel(
            @ForAll @Size(max = 300) List<@IntRange(min = 0, max = Integer.MAX_VALUE) Integer> ops,
            @ForAll @IntRange(min = 1, max = 12) int pages,
            @ForAll @IntRange(min = 9, max = 12) int pageShift,
            @ForAll boolean singleThreaded) {
        long pageSize = 1L << pageShift;
        Segment seg = Segment.create(SegmentName.posix(TestNames.unique("bumpmodel")), 1 << 20);
        try {
            BumpAllocator bump = BumpAllocator.create(seg, "b", pages * pageSize, pageSize, singleThreaded ? SyncMode.SINGLE_THREADED : SyncMode.LOCKED);
            long base = bump.rangeOffset();
            LiveBlocks live = new LiveBlocks(seg.memory(), base, 2 * pageSize);
            long[] used = new long[pages];
            int current = 0;
            int chained = 1;
            long requests = 0;
            long failures = 0;
            long sinceReset = 0;
            for (int op : ops) {
                if (op % 50 == 0) {
                    bump.reset();
                    java.util.Arrays.fill(used, 0);
                    current = 0;
                    chained = 1;
                    sinceReset = 0;
                    while (live.size() > 0) {
                        live.remove(0);
                    }
                } else {
                    int r = op >>> 6;
                    long size = (r & 7) == 0 ? 1 + (r >>> 3) % (pageSize + 64) : 1 + (r >>> 3) % (pageSize / 8);
                    long align = ALIGNS[(r >>> 16) % ALIGNS.length];
                    requests++;
                    // the model: bump within the current page, else move to the next one
                    long need = (size + 7) & -8L;
                    long expected = 0;
                    long largest = pages > 1 ? pageSize - BumpLayout.Page.BYTES : pageSize - BumpLayout.OFF_PAGE0_DATA;
                    if (need <= largest) {
                        for (int p = current; p < pages; p++) {
                            long data = base + BumpLayout.pageData(pageSize, p);
                            long cap = BumpLayout.usable(pageSize, p);
                            long at = (data + used[p] + align - 1) & -align;
                            if (at + need - data <= cap) {
                                expected = at;
                                used[p] = at + need - data;
                                current = p;
                                chained = Math.max(chained, p + 1);
                                break;
                            }
                            if (p + 1 < pages) {
                                current = p + 1;
                                chained = Math.max(chained, p + 2);
                            }
                        }
                    }
                    long off = bump.tryAllocate(size, align);
                    assertEquals(expected, off, "size=" + size + " align=" + align);
                    if (off == 0) {
                        failures++;
                    } else {
                        sinceReset++;
                        live.add(off, size, align);
                        assertTrue(off + size <= base + pages * pageSize, "inside the range");
                    }
                }
                live.checkContents();
                bump.verify();
                AllocatorStats s = bump.stats();
                long modelUsed = 0;
                for (long u : used) {
                    modelUsed += u;
                }
                assertEquals(modelUsed, s.used());
                assertEquals(requests, s.requests());
                assertEquals(failures, s.failures());
                assertEquals(sinceReset, s.allocations(), "blocks handed out since the last reset");
                assertEquals(chained, bump.chainedPages());
            }
        } finally {
            seg.closeAndUnlink();
        }
    }
}
