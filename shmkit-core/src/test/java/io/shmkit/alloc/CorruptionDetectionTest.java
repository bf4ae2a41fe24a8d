package io.shmkit.alloc;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.FixedPoolLayout;
import io.shmkit.internal.SlabLayout;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Bytes of a free list, bitmap or descriptor overwritten in the segment: {@code verify()}
 * names what is wrong and where, and allocation fails with {@link SegmentCorruptedException}
 * (or still succeeds correctly) instead of looping.
 */
class CorruptionDetectionTest {

    private Segment seg;
    private MemorySegment m;

    @BeforeEach
    void create() {
        seg = Segment.create(SegmentName.posix(TestNames.unique("corrupt")), 1 << 20);
        m = seg.memory();
    }

    @AfterEach
    void unlink() {
        seg.closeAndUnlink();
    }

    private long base(String name) {
        return seg.lookup(name).orElseThrow().offset();
    }

    private static void assertCorrupt(Executable e, String... mustContain) {
        SegmentCorruptedException ex = assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> assertThrows(SegmentCorruptedException.class, e));
        for (String s : mustContain) {
            assertTrue(ex.getMessage().contains(s), "message should contain '" + s + "': " + ex.getMessage());
        }
    }

    /** Allocates until full or corrupt, bounded in time; never an infinite loop. */
    private static void allocateUntilStopped(SharedAllocator a, long size) {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            try {
                for (int i = 0; i < 1_000_000 && a.tryAllocate(size) != 0; i++) {
                    // keep going
                }
            } catch (SegmentCorruptedException expected) {
                // reported, not looped on
            }
        });
    }

    // ------------------------------------------------------------------ fixed pool

    @Test
    void fixedPoolReportsFreeListHeadOutOfRange() {
        FixedPool p = FixedPool.create(seg, "fp", 32, 10);
        long head = base("fp") + FixedPoolLayout.OFF_HEAD;
        m.set(ValueLayout.JAVA_INT, head, 12345);
        assertCorrupt(p::verify, "offset=" + head, "12345");
        assertCorrupt(() -> p.allocate(32), "12345");
    }

    @Test
    void fixedPoolReportsFreeListCycleAndDoesNotLoop() {
        FixedPool p = FixedPool.create(seg, "fp", 32, 10);
        long next3 = base("fp") + FixedPoolLayout.nextArray(0) + 4 * 3;
        m.set(ValueLayout.JAVA_INT, next3, 1); // 0 -> 1 -> 2 -> 3 -> 1 ...
        assertCorrupt(p::verify, "cycle", "offset=" + next3);
        allocateUntilStopped(p, 32);
    }

    @Test
    void fixedPoolReportsGarbageStateByte() {
        FixedPool p = FixedPool.create(seg, "fp", 32, 10);
        long state7 = base("fp") + FixedPoolLayout.stateArray(0, 10) + FixedPoolLayout.statePosition(10, 7);
        m.set(ValueLayout.JAVA_BYTE, state7, (byte) 9);
        assertCorrupt(p::verify, "slice 7", "offset=" + state7);
    }

    @Test
    void fixedPoolReportsUsedSliceOnTheFreeList() {
        FixedPool p = FixedPool.create(seg, "fp", 32, 10);
        long a = p.allocate(32);
        long b = p.allocate(32);
        p.free(a); // free list: 0 -> 2 -> ...; slice 1 (b) used
        long next0 = base("fp") + FixedPoolLayout.nextArray(0);
        m.set(ValueLayout.JAVA_INT, next0, 1);
        assertCorrupt(p::verify, "slice 1", "state byte says used");
        p.allocate(32); // takes slice 0
        assertCorrupt(() -> p.allocate(32), "not free");
        assertTrue(p.isAllocated(b));
    }

    @Test
    void fixedPoolReportsUsedCounterMismatch() {
        FixedPool p = FixedPool.create(seg, "fp", 32, 10);
        p.allocate(32);
        m.set(ValueLayout.JAVA_LONG, base("fp") + FixedPoolLayout.OFF_USED, 5L);
        assertCorrupt(p::verify, "used counter", "offset=" + (base("fp") + FixedPoolLayout.OFF_USED));
    }

    // ------------------------------------------------------------------ slab

    private long desc(String name, int page) {
        long b = base(name);
        return b + SlabLayout.descStart(4096, 0) + SlabLayout.descSize(4096) * page;
    }

    @Test
    void slabReportsFlippedBitmapBit() {
        SlabAllocator s = SlabAllocator.create(seg, "slab", 8);
        long off = s.allocate(64);
        int page = 0;
        long bitmap = desc("slab", page) + SlabLayout.Descriptor.OFF_BITMAP;
        assertEquals(1L, m.get(ValueLayout.JAVA_LONG, bitmap), "first slot of first page");
        m.set(ValueLayout.JAVA_LONG, bitmap, 0b111L);
        assertCorrupt(s::verify, "small page 0", "bitmap at offset=" + bitmap);
        s.free(off); // still works on what it can check
    }

    @Test
    void slabReportsBitsBeyondTheSlots() {
        SlabAllocator s = SlabAllocator.create(seg, "slab", 8);
        s.allocate(2048); // 2 slots per page
        long bitmap = desc("slab", 0) + SlabLayout.Descriptor.OFF_BITMAP;
        m.set(ValueLayout.JAVA_LONG, bitmap, m.get(ValueLayout.JAVA_LONG, bitmap) | (1L << 40));
        assertCorrupt(s::verify, "beyond the page's 2 slots", "offset=" + bitmap);
    }

    @Test
    void slabReportsGarbageDescriptorKind() {
        SlabAllocator s = SlabAllocator.create(seg, "slab", 8);
        long d5 = desc("slab", 5);
        m.set(ValueLayout.JAVA_INT, d5 + SlabLayout.Descriptor.OFF_KIND, 77);
        assertCorrupt(s::verify, "page 5", "offset=" + d5, "unknown kind=77");
    }

    @Test
    void slabReportsFreeListPointingAtAUsedPage() {
        SlabAllocator s = SlabAllocator.create(seg, "slab", 8);
        long large = s.allocate(3 * 4096); // pages 0..2
        long head = base("slab") + SlabLayout.OFF_FREE_HEAD;
        m.set(ValueLayout.JAVA_INT, head, 0);
        assertCorrupt(s::verify, "offset=" + head, "page 0");
        assertCorrupt(() -> s.allocate(5000), "page 0");
        assertCorrupt(() -> s.allocate(8), "page 0");
        assertTrue(large > 0);
    }

    @Test
    void slabReportsFreeListCycleAndDoesNotLoop() {
        SlabAllocator s = SlabAllocator.create(seg, "slab", 16);
        long[] l = new long[8];
        for (int i = 0; i < 8; i++) {
            l[i] = s.allocate(2 * 4096); // pages 0..15 in 8 runs
        }
        s.free(l[0]);
        s.free(l[2]);
        s.free(l[4]); // three separate free runs: 4 -> 2 -> 0 (pushed at the front)
        long d0next = desc("slab", 0) + SlabLayout.Descriptor.OFF_NEXT;
        m.set(ValueLayout.JAVA_INT, d0next, 8); // 0 -> 8 (head of run 4): a cycle
        assertCorrupt(s::verify, "cycle");
        assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> assertThrows(SegmentCorruptedException.class, () -> s.allocate(3 * 4096)));
    }

    @Test
    void slabReportsPartialListCycleAndCounterMismatch() {
        SlabAllocator s = SlabAllocator.create(seg, "slab", 8);
        long a = s.allocate(1024);
        s.allocate(1024);
        s.allocate(1024);
        s.allocate(1024); // page 0 full (4 slots)
        s.allocate(1024); // page 1 partial
        long d1next = desc("slab", 1) + SlabLayout.Descriptor.OFF_NEXT;
        m.set(ValueLayout.JAVA_INT, d1next, 1);
        assertCorrupt(s::verify, "partial list of class 1024");
        long cls1024 = base("slab") + SlabLayout.OFF_CLASSES + SlabLayout.SizeClass.BYTES * 7 + SlabLayout.SizeClass.OFF_USED;
        m.set(ValueLayout.JAVA_INT, d1next, -1);
        s.verify();
        m.set(ValueLayout.JAVA_LONG, cls1024, 99L);
        assertCorrupt(s::verify, "class 1024 counters", "used=99");
        m.set(ValueLayout.JAVA_LONG, cls1024, 5L);
        s.free(a);
        s.verify();
    }

    @Test
    void slabReportsBrokenLargeBlock() {
        SlabAllocator s = SlabAllocator.create(seg, "slab", 8);
        s.allocate(4 * 4096);
        long d2 = desc("slab", 2);
        m.set(ValueLayout.JAVA_INT, d2 + SlabLayout.Descriptor.OFF_KIND, SlabLayout.KIND_FREE);
        assertCorrupt(s::verify, "page 2", "offset=" + d2, "large block at page 0");
    }
}
