package io.shmkit.alloc;

import io.shmkit.LayoutMismatchException;
import io.shmkit.StructureNotFoundException;
import io.shmkit.UnsupportedFormatException;
import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.BumpLayout;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

import static io.shmkit.alloc.MessageAssert.assertThat;
import static org.junit.jupiter.api.Assertions.*;

class BumpAllocatorTest {

    private static final long PAGE = 4096;
    private Arena arena;
    private MemorySegment mem;

    @BeforeEach
    void setUp() {
        arena = Arena.ofShared();
        mem = arena.allocate(64 * PAGE, 4096);
    }

    @AfterEach
    void tearDown() {
        arena.close();
    }

    @Test
    void firstPageHoldsExactlyItsUsableSizeAndHeadersAreAccounted() {
        BumpAllocator single = BumpAllocator.create(mem, 0, PAGE, PAGE, SyncMode.LOCKED);
        long usable0 = single.maxAllocation(0);
        assertEquals(PAGE - BumpLayout.OFF_PAGE0_DATA, usable0);
        assertTrue(usable0 < PAGE - BumpLayout.Page.BYTES, "first page must account for the allocator header");
        // one byte more than the first page can hold: fails clearly, naming the limit
        OutOfSharedMemoryException e = assertThrows(OutOfSharedMemoryException.class, () -> single.allocate(usable0 + 1));
        assertThat(e.getMessage()).contains("size=" + (usable0 + 1)).contains(single.name()).contains("usable size=" + usable0);
        assertEquals(0, single.tryAllocate(usable0 + 1));
        long off = single.allocate(usable0);
        assertEquals(BumpLayout.OFF_PAGE0_DATA, off);
        assertEquals(PAGE, off + usable0, "the block ends exactly at the page end");
        assertEquals(0, single.tryAllocate(1));
        single.verify();
    }

    @Test
    void firstPageUsableSizeFitsThereOneMoreMovesToTheNextPage() {
        BumpAllocator bump = BumpAllocator.create(mem, 0, 3 * PAGE, PAGE, SyncMode.LOCKED);
        long off = bump.allocate(bump.maxAllocation(0));
        assertEquals(BumpLayout.OFF_PAGE0_DATA, off);
        assertEquals(1, bump.chainedPages());
        bump.reset();
        long off2 = bump.allocate(bump.maxAllocation(0) + 1);
        assertEquals(PAGE + BumpLayout.Page.BYTES, off2, "does not fit page 0, lands at page 1's data start");
        assertEquals(2, bump.chainedPages());
        bump.verify();
    }

    @Test
    void laterPageHoldsExactlyItsUsableSizeAndOneByteMoreFails() {
        BumpAllocator bump = BumpAllocator.create(mem, 0, 3 * PAGE, PAGE, SyncMode.LOCKED);
        long usable1 = bump.maxAllocation(1);
        assertEquals(PAGE - BumpLayout.Page.BYTES, usable1);
        bump.allocate(8); // page 0 is now partly used
        long off = bump.allocate(usable1);
        assertEquals(PAGE + BumpLayout.Page.BYTES, off);
        assertEquals(2 * PAGE, off + usable1);
        OutOfSharedMemoryException e = assertThrows(OutOfSharedMemoryException.class, () -> bump.allocate(usable1 + 1));
        assertThat(e.getMessage()).contains("exceeds the largest page's usable size=" + usable1);
        // the over-size request did not consume page 2
        assertEquals(2, bump.chainedPages());
        long off3 = bump.allocate(usable1);
        assertEquals(2 * PAGE + BumpLayout.Page.BYTES, off3);
        assertThrows(OutOfSharedMemoryException.class, () -> bump.allocate(8));
        bump.verify();
    }

    @Test
    void outOfMemoryMessageNamesRequestAndWhatIsLeft() {
        BumpAllocator bump = BumpAllocator.create(mem, 0, 2 * PAGE, PAGE, SyncMode.LOCKED);
        bump.allocate(bump.maxAllocation(0));
        bump.allocate(bump.maxAllocation(1) - 64);
        OutOfSharedMemoryException e = assertThrows(OutOfSharedMemoryException.class, () -> bump.allocate(100));
        assertThat(e.getMessage()).contains("size=100").contains("left=64").contains(bump.name());
        AllocatorStats s = bump.stats();
        assertEquals(64, s.free());
        assertEquals(3, s.requests());
        assertEquals(1, s.failures());
        assertEquals(2, s.allocations());
    }

    @Test
    void honoursPerCallAlignment() {
        BumpAllocator bump = BumpAllocator.create(mem, 0, 4 * PAGE, PAGE, SyncMode.LOCKED);
        bump.allocate(8);
        for (long align : new long[]{16, 64, 256, 1024}) {
            long off = bump.allocate(24, align);
            assertEquals(0, off % align, "align=" + align);
        }
        long a = bump.allocate(5);
        long b = bump.allocate(1);
        assertEquals(8, b - a, "sizes are rounded up to 8");
    }

    @Test
    void resetGivesEverythingBack() {
        BumpAllocator bump = BumpAllocator.create(mem, 0, 4 * PAGE, PAGE, SyncMode.LOCKED);
        long first = bump.allocate(100);
        for (int i = 0; i < 40; i++) { // 12 + 13 + 13 + 2 blocks of 304 bytes
            bump.allocate(300);
        }
        assertEquals(4, bump.chainedPages());
        bump.reset();
        bump.verify();
        assertEquals(1, bump.chainedPages());
        AllocatorStats s = bump.stats();
        assertEquals(0, s.used());
        assertEquals(0, s.allocations(), "reset gives every block back");
        assertEquals(41, s.requests(), "requests count since creation");
        assertEquals(first, bump.allocate(100));
    }

    @Test
    void freeIsUnsupported() {
        BumpAllocator bump = BumpAllocator.create(mem, 0, PAGE, PAGE, SyncMode.LOCKED);
        long off = bump.allocate(16);
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> bump.free(off));
        assertThat(e.getMessage()).contains("offset=" + off).contains("reset()");
    }

    @Test
    void rejectsBadArguments() {
        BumpAllocator bump = BumpAllocator.create(mem, 0, PAGE, PAGE, SyncMode.LOCKED);
        assertThrows(IllegalArgumentException.class, () -> bump.allocate(0));
        assertThrows(IllegalArgumentException.class, () -> bump.allocate(8, 12));
        assertThrows(IllegalArgumentException.class, () -> BumpAllocator.create(mem, 0, PAGE, 1000, SyncMode.LOCKED));
        assertThrows(IllegalArgumentException.class, () -> BumpAllocator.create(mem, 0, 1L << 27, 1L << 27, SyncMode.LOCKED));
        assertThrows(IllegalArgumentException.class, () -> BumpAllocator.create(mem, 0, 100, 512, SyncMode.LOCKED));
        assertThrows(IllegalArgumentException.class, () -> BumpAllocator.create(mem, 8, PAGE, 512, SyncMode.LOCKED));
    }

    @Test
    void refusesThreadCachedModeWhichOnlyPoolsAndSlabsHave() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BumpAllocator.create(mem, 0, PAGE, PAGE, SyncMode.THREAD_CACHED));
        assertThat(e.getMessage()).contains("bump allocator has no thread caches").contains("SINGLE_THREADED");
        assertEquals(0L, mem.get(java.lang.foreign.ValueLayout.JAVA_LONG, 0), "nothing was written");
    }

    @Test
    void verifyNamesACorruptedNextLinkAndAllocateDoesNotLoop() {
        BumpAllocator bump = BumpAllocator.create(mem, 0, 4 * PAGE, PAGE, SyncMode.LOCKED);
        bump.allocate(bump.maxAllocation(0));
        bump.allocate(64);
        long nextField = PAGE + BumpLayout.Page.OFF_NEXT; // page 1's NEXT
        mem.set(ValueLayout.JAVA_LONG, nextField, 1L); // a self-loop
        SegmentCorruptedException e = assertThrows(SegmentCorruptedException.class, bump::verify);
        assertThat(e.getMessage()).contains("page 1").contains("NEXT=1").contains("offset " + nextField);
        assertThrows(SegmentCorruptedException.class, () -> bump.allocate(bump.maxAllocation(1)),
                "allocation that walks the chain reports the loop instead of spinning");
    }

    @Test
    void verifyNamesACorruptedUsedWordAndAllocateRefusesIt() {
        BumpAllocator bump = BumpAllocator.create(mem, 0, 4 * PAGE, PAGE, SyncMode.LOCKED);
        bump.allocate(64);
        long usedField = BumpLayout.HEADER_BYTES + BumpLayout.Page.OFF_USED;
        mem.set(ValueLayout.JAVA_LONG, usedField, 0x7FFF_0000_0000L);
        SegmentCorruptedException e = assertThrows(SegmentCorruptedException.class, bump::verify);
        assertThat(e.getMessage()).contains("page 0").contains("offset " + usedField);
        assertThrows(SegmentCorruptedException.class, () -> bump.allocate(8));
    }

    @Test
    void verifyFindsABlockCountThatCannotBe() {
        BumpAllocator bump = BumpAllocator.create(mem, 0, 4 * PAGE, PAGE, SyncMode.LOCKED);
        bump.allocate(64);
        long usedField = BumpLayout.HEADER_BYTES + BumpLayout.Page.OFF_USED;
        mem.set(ValueLayout.JAVA_LONG, usedField, (100L << BumpLayout.USED_BYTES_BITS) | 64); // 100 blocks in 64 bytes
        SegmentCorruptedException e = assertThrows(SegmentCorruptedException.class, bump::verify);
        assertThat(e.getMessage()).contains("count=100").contains("offset " + usedField);
    }

    @Test
    void aCurrentHintPointingOutsideTheChainIsReportedNotUsed() {
        BumpAllocator bump = BumpAllocator.create(mem, 0, 4 * PAGE, PAGE, SyncMode.LOCKED);
        bump.allocate(64);
        mem.set(ValueLayout.JAVA_LONG, BumpLayout.OFF_CURRENT, 3L); // page 3 is not linked
        SegmentCorruptedException e = assertThrows(SegmentCorruptedException.class, () -> bump.allocate(8));
        assertThat(e.getMessage()).contains("CURRENT page index 3").contains("offset " + BumpLayout.OFF_CURRENT);
        assertThrows(SegmentCorruptedException.class, bump::verify);
        assertEquals(0, mem.get(ValueLayout.JAVA_LONG, 3 * PAGE + BumpLayout.Page.OFF_USED), "nothing was carved from page 3");
    }

    @Test
    void verifyFindsUsedBytesInAPageOutsideTheChain() {
        BumpAllocator bump = BumpAllocator.create(mem, 0, 4 * PAGE, PAGE, SyncMode.LOCKED);
        bump.allocate(64);
        long usedField = 3 * PAGE + BumpLayout.Page.OFF_USED;
        mem.set(ValueLayout.JAVA_LONG, usedField, 128L);
        SegmentCorruptedException e = assertThrows(SegmentCorruptedException.class, bump::verify);
        assertThat(e.getMessage()).contains("page 3").contains("not in the chain").contains("offset " + usedField);
    }

    @Test
    void openRejectsBadMagicAndWrongKind() {
        BumpAllocator.create(mem, 0, PAGE, PAGE, SyncMode.LOCKED);
        mem.set(ValueLayout.JAVA_LONG, 0, 0x1234L);
        SegmentCorruptedException e = assertThrows(SegmentCorruptedException.class, () -> BumpAllocator.open(mem, 0, PAGE));
        assertThat(e.getMessage()).contains("magic is").contains("offset 0");
    }

    @Test
    void openRefusesTheFormatBeforeTheVersionScheme() {
        BumpAllocator.create(mem, 0, PAGE, PAGE, SyncMode.LOCKED);
        mem.set(ValueLayout.JAVA_LONG, 0, 0x3150_4D55_424D_4853L); // 'SHMBUMP1': format 1
        UnsupportedFormatException e = assertThrows(UnsupportedFormatException.class, () -> BumpAllocator.open(mem, 0, PAGE));
        assertThat(e.getMessage()).contains("SHMBUMP1").contains("SHMKBUMP").contains("recreate");
        mem.set(ValueLayout.JAVA_LONG, 0, io.shmkit.internal.BumpLayout.MAGIC);
        mem.set(ValueLayout.JAVA_INT, io.shmkit.internal.BumpLayout.OFF_FORMAT, 3);
        e = assertThrows(UnsupportedFormatException.class, () -> BumpAllocator.open(mem, 0, PAGE));
        assertThat(e.getMessage()).contains("format 3").contains("newer");
    }

    @Test
    void isReopenedByNameFromTheSegmentDirectory() {
        SegmentName name = SegmentName.posix(TestNames.unique("bump"));
        try (Segment s = Segment.create(name, 1 << 20)) {
            try {
                BumpAllocator a = BumpAllocator.create(s, "globals", 8 * PAGE, PAGE);
                long off = a.allocate(40);
                s.memory().set(ValueLayout.JAVA_LONG, off, 77L);
                s.reserve("other", 0x7777, 64, 64);
                try (Segment s2 = Segment.open(name)) {
                    BumpAllocator b = BumpAllocator.open(s2, "globals");
                    assertEquals(77L, s2.memory().get(ValueLayout.JAVA_LONG, off));
                    long off2 = b.allocate(40);
                    assertEquals(off + 40, off2);
                    assertEquals(2, a.stats().allocations());
                    assertThrows(LayoutMismatchException.class, () -> BumpAllocator.open(s2, "other"));
                    assertThrows(StructureNotFoundException.class, () -> BumpAllocator.open(s2, "missing"));
                }
            } finally {
                s.closeAndUnlink();
            }
        }
    }

    @Test
    void singleThreadedModeIsStoredAndBehavesTheSame() {
        BumpAllocator st = BumpAllocator.create(mem, 0, 2 * PAGE, PAGE, SyncMode.SINGLE_THREADED);
        long a = st.allocate(st.maxAllocation(0));
        long b = st.allocate(st.maxAllocation(1));
        assertEquals(BumpLayout.OFF_PAGE0_DATA, a);
        assertEquals(PAGE + BumpLayout.Page.BYTES, b);
        assertEquals(0, st.tryAllocate(8));
        BumpAllocator reopened = BumpAllocator.open(mem, 0, 2 * PAGE);
        reopened.verify();
        assertEquals(st.stats(), reopened.stats());
    }

    @Test
    void threadsNeverReceiveOverlappingBlocks() throws Exception {
        BumpAllocator bump = BumpAllocator.create(mem, 0, 64 * PAGE, PAGE, SyncMode.LOCKED);
        ConcurrentLinkedQueue<long[]> got = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int seed = t;
            threads.add(Thread.ofPlatform().start(() -> {
                java.util.Random r = new java.util.Random(seed);
                while (true) {
                    long size = 1 + r.nextInt(200);
                    long off = bump.tryAllocate(size);
                    if (off == 0) {
                        return;
                    }
                    got.add(new long[]{off, size});
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        List<long[]> all = new ArrayList<>(got);
        Collections.sort(all, (x, y) -> Long.compare(x[0], y[0]));
        for (int i = 1; i < all.size(); i++) {
            assertTrue(all.get(i - 1)[0] + all.get(i - 1)[1] <= all.get(i)[0], "overlap at " + all.get(i)[0]);
        }
        bump.verify();
        assertEquals(all.size(), bump.stats().allocations());
        assertEquals(64, bump.chainedPages());
    }
}
