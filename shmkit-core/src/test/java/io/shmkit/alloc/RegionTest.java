package io.shmkit.alloc;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import static io.shmkit.alloc.MessageAssert.assertThat;
import static org.junit.jupiter.api.Assertions.*;

class RegionTest {

    @Test
    void smallRequestsAreBumpAllocatedFromOneBlock() {
        try (Region r = Region.create(4096)) {
            MemorySegment a = r.allocate(10);
            MemorySegment b = r.allocate(10);
            MemorySegment c = r.allocate(24, 64);
            assertEquals(1, r.blockCount());
            assertEquals(a.address() + 16, b.address(), "8-byte alignment after a 10-byte request");
            assertEquals(0, c.address() % 64);
            assertEquals(10, a.byteSize());
            AllocatorStats s = r.stats();
            assertEquals(3, s.allocations());
            assertEquals(c.address() + 24 - a.address(), s.used());
            assertEquals(4096, s.capacity());
        }
    }

    @Test
    void chainsANewBlockWhenTheCurrentOneIsFull() {
        try (Region r = Region.create(1024)) { // threshold 256
            for (int i = 0; i < 8; i++) {
                r.allocate(200);
            }
            assertEquals(2, r.blockCount(), "5 x 200 fit in a 1024-byte block");
        }
    }

    @Test
    void skipsABlockAfterItFailedMoreThanMaxFailuresTimes() {
        try (Region r = Region.create(1024, 1024)) {
            MemorySegment first = r.allocate(1000); // block 0 has 24 bytes left
            for (int i = 0; i < Region.MAX_FAILURES; i++) {
                r.allocate(1000); // fails on every earlier block, each one a new block
                assertEquals(0, r.currentBlock(), "block 0 is still tried after " + (i + 1) + " failures");
            }
            r.allocate(1000); // the 5th failure of block 0
            assertEquals(1, r.currentBlock(), "block 0 is skipped from now on");
            // a request that would fit block 0's tail now goes elsewhere
            long before = r.stats().used();
            MemorySegment s = r.allocate(16);
            assertEquals(before + 16, r.stats().used());
            assertEquals(6, r.blockCount(), "it fits the 24-byte tail of block 1");
            assertFalse(s.address() >= first.address() && s.address() < first.address() + 1024, "not from block 0");
            r.reset();
            assertEquals(0, r.currentBlock(), "reset makes every block eligible again");
        }
    }

    @Test
    void largeRequestsAreSeparateAndFreeableOneByOne() {
        try (Region r = Region.create(4096)) {
            MemorySegment small = r.allocate(100);
            MemorySegment big1 = r.allocate(100_000);
            MemorySegment big2 = r.allocate(5000, 4096);
            assertEquals(0, big2.address() % 4096);
            assertEquals(2, r.largeCount());
            assertEquals(1, r.blockCount());
            big1.fill((byte) 1);
            r.free(big1);
            assertEquals(1, r.largeCount());
            assertThrows(IllegalStateException.class, () -> big1.get(ValueLayout.JAVA_BYTE, 0),
                    "freed off-heap memory is inaccessible");
            IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> r.free(big1));
            assertThat(twice.getMessage()).contains("freed already");
            IllegalArgumentException smallFree = assertThrows(IllegalArgumentException.class, () -> r.free(small));
            assertThat(smallFree.getMessage()).contains("small allocation");
            try (Arena other = Arena.ofConfined()) {
                MemorySegment foreign = other.allocate(100_000);
                assertThrows(IllegalArgumentException.class, () -> r.free(foreign));
            }
            assertEquals(5000 + 100, r.stats().used());
        }
    }

    @Test
    void cleanupsRunInReverseOrderAndOneFailureDoesNotStopTheOthers() {
        List<String> ran = new ArrayList<>();
        Region r = Region.create();
        r.onClose(() -> ran.add("a"));
        r.onClose(() -> {
            ran.add("b");
            throw new IllegalStateException("b failed");
        });
        r.onClose(() -> ran.add("c"));
        r.onClose(() -> {
            ran.add("d");
            throw new IllegalArgumentException("d failed");
        });
        RuntimeException e = assertThrows(RuntimeException.class, r::close);
        assertEquals(List.of("d", "c", "b", "a"), ran);
        assertEquals("d failed", e.getMessage());
        assertEquals(1, e.getSuppressed().length);
        assertEquals("b failed", e.getSuppressed()[0].getMessage());
        r.close(); // idempotent, cleanups do not run twice
        assertEquals(4, ran.size());
    }

    @Test
    void resetKeepsBlocksFreesLargeAndRunsCleanups() {
        List<String> ran = new ArrayList<>();
        try (Region r = Region.create(1024)) {
            MemorySegment a = r.allocate(100);
            for (int i = 0; i < 20; i++) {
                r.allocate(200);
            }
            MemorySegment big = r.allocate(10_000);
            r.onClose(() -> ran.add("x"));
            int blocks = r.blockCount();
            r.reset();
            assertEquals(List.of("x"), ran);
            assertEquals(blocks, r.blockCount(), "blocks are kept");
            assertEquals(0, r.largeCount());
            assertThrows(IllegalStateException.class, () -> big.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(0, r.stats().used());
            assertEquals(0, r.stats().allocations());
            assertEquals(a.address(), r.allocate(100).address(), "the first block is reused");
        }
        assertEquals(List.of("x"), ran, "reset ran the cleanup once; close had none left");
    }

    @Test
    void closedRegionRefusesUseAndItsMemoryIsInaccessible() {
        Region r = Region.create();
        MemorySegment s = r.allocate(64);
        r.close();
        assertThrows(IllegalStateException.class, () -> s.get(ValueLayout.JAVA_LONG, 0));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> r.allocate(8));
        assertThat(e.getMessage()).contains("closed");
    }

    @Test
    void belongsToTheThreadThatCreatedIt() throws Exception {
        try (Region r = Region.create()) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> CompletableFuture.runAsync(() -> r.allocate(8)).get());
            assertInstanceOf(WrongThreadException.class, e.getCause());
        }
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> Region.create(100));
        assertThrows(IllegalArgumentException.class, () -> Region.create(1024, 2048));
        try (Region r = Region.create()) {
            assertThrows(IllegalArgumentException.class, () -> r.allocate(0));
            assertThrows(IllegalArgumentException.class, () -> r.allocate(8, 3));
        }
    }

    @Test
    void livesInASharedSegmentOverARingAndGivesEverythingBackOnClose() {
        SegmentName name = SegmentName.posix(TestNames.unique("region"));
        try (Segment seg = Segment.create(name, 1 << 20)) {
            try {
                RingAllocator ring = RingAllocator.create(seg, "requests", 256 * 1024);
                Region r = Region.create(ring, 8192);
                MemorySegment small = r.allocate(100);
                MemorySegment big = r.allocate(20_000);
                long off = r.offsetOf(small);
                small.set(ValueLayout.JAVA_LONG, 0, 42L);
                assertEquals(42L, seg.memory().get(ValueLayout.JAVA_LONG, off), "the slice is segment memory");
                assertTrue(ring.isAllocated(r.offsetOf(big)));
                assertEquals(2, ring.stats().allocations(), "one block and one large allocation");
                r.free(big);
                assertEquals(1, ring.stats().allocations());
                r.close();
                assertEquals(0, ring.stats().allocations());
                ring.verify();
            } finally {
                seg.closeAndUnlink();
            }
        }
    }

    @Test
    void livesInARawRange() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mem = arena.allocate(128 * 1024, 4096);
            try (Region r = Region.create(mem, 4096, 64 * 1024, 4096)) {
                MemorySegment a = r.allocate(300);
                MemorySegment b = r.allocate(30_000);
                long oa = r.offsetOf(a);
                long ob = r.offsetOf(b);
                assertTrue(oa >= 4096 && oa + 300 <= 4096 + 64 * 1024);
                assertTrue(ob >= 4096 && ob + 30_000 <= 4096 + 64 * 1024);
                assertThrows(io.shmkit.OutOfSharedMemoryException.class, () -> r.allocate(40_000));
                assertEquals(1, r.stats().failures());
            }
        }
    }
}
