package io.shmkit.alloc;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.TestNames;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random allocate/free sequences of mixed sizes (8 bytes to several pages, random per-call
 * alignment) against a model; invariants and stats checked after every step.
 */
class SlabAllocatorModelTest {

    private static final long[] ALIGNS = {8, 8, 8, 16, 64, 256};

    @Property(tries = 200)
    void randomAllocateFreeSequencesMatchTheModel(
            @ForAll @Size(max = 250) List<@IntRange(min = 0, max = Integer.MAX_VALUE) Integer> ops,
            @ForAll @IntRange(min = 1, max = 24) int pages,
            @ForAll @IntRange(min = 8, max = 12) int pageShift,
            @ForAll SyncMode mode) {
        int pageSize = 1 << pageShift;
        Segment seg = Segment.create(SegmentName.posix(TestNames.unique("slabmodel")), 1 << 20);
        try {
            SlabAllocator slab = SlabAllocator.create(seg, "s", pages, pageSize, mode);
            LiveBlocks live = new LiveBlocks(seg.memory(), seg.dataOffset(), 4L * pageSize);
            Map<Long, Long> classOf = new HashMap<>(); // offset -> class size or -pages for large
            long requests = 0;
            long failures = 0;
            long[] classUsed = new long[slab.classStats().size()];
            long[] classReq = new long[classUsed.length];
            long largePages = 0;
            for (int op : ops) {
                if (op % 3 != 0 || live.size() == 0) {
                    int r = op >>> 2;
                    long size = (r & 7) == 0 ? 1 + (r >>> 3) % (3L * pageSize) : 1 + (r >>> 3) % (pageSize / 2);
                    long align = ALIGNS[(r >>> 20) % ALIGNS.length];
                    requests++;
                    long need = Math.max(size, align);
                    boolean small = need <= pageSize / 2;
                    int c = small ? Math.max(0, 64 - Long.numberOfLeadingZeros(need - 1) - 3) : -1;
                    if (small) {
                        classReq[c]++;
                    }
                    long off = slab.tryAllocate(size, align);
                    if (off == 0) {
                        failures++;
                        if (small) {
                            SlabClassStats cs = slab.classStats().get(c);
                            assertEquals(0, slab.freePages(), "small request failed with free pages");
                            assertEquals(cs.total(), cs.used(), "small request failed with free slots in its class");
                        } else {
                            assertTrue(slab.freePages() < (size + pageSize - 1) / pageSize || pages > 1,
                                    "large request failed though enough pages were free");
                        }
                    } else {
                        live.add(off, size, align);
                        if (small) {
                            classUsed[c]++;
                            classOf.put(off, (long) c);
                        } else {
                            long n = (size + pageSize - 1) / pageSize;
                            largePages += n;
                            classOf.put(off, -n);
                            assertEquals(0, off % pageSize, "large blocks are page aligned");
                        }
                    }
                } else {
                    var b = live.remove((op >>> 2) % live.size());
                    slab.free(b.offset());
                    long k = classOf.remove(b.offset());
                    if (k >= 0) {
                        classUsed[(int) k]--;
                    } else {
                        largePages += k;
                    }
                    long bo = b.offset();
                    assertThrows(IllegalArgumentException.class, () -> slab.free(bo), "double free accepted");
                }
                AllocatorStats s = slab.stats();
                long usedBytes = largePages * pageSize;
                List<SlabClassStats> cs = slab.classStats();
                for (int c = 0; c < classUsed.length; c++) {
                    assertEquals(8L << c, cs.get(c).size());
                    assertEquals(classUsed[c], cs.get(c).used(), "class " + (8L << c) + " used");
                    assertEquals(classReq[c], cs.get(c).requests(), "class " + (8L << c) + " requests");
                    assertTrue(cs.get(c).used() <= cs.get(c).total());
                    usedBytes += classUsed[c] << (c + 3);
                }
                assertEquals(live.size(), s.allocations());
                assertEquals(usedBytes, s.used());
                assertEquals((long) pages * pageSize, s.capacity());
                assertEquals(requests, s.requests());
                assertEquals(failures, s.failures());
                live.checkContents();
                slab.verify();
            }
            // empty again: everything but at most one kept page per class is back in free runs
            for (int i = live.size() - 1; i >= 0; i--) {
                slab.free(live.remove(i).offset());
            }
            slab.releaseThreadCache();
            assertEquals(0, slab.cachedBlocks());
            assertEquals(0, slab.stats().allocations());
            long kept = slab.classStats().stream().filter(c -> c.total() > 0).count();
            assertEquals(pages, slab.freePages() + kept);
            slab.verify();
        } finally {
            seg.closeAndUnlink();
        }
    }
}
