package io.shmkit.alloc;

import io.shmkit.LayoutMismatchException;
import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.RingLayout;
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
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

import static io.shmkit.alloc.MessageAssert.assertThat;
import static org.junit.jupiter.api.Assertions.*;

class RingAllocatorTest {

    private Arena arena;
    private MemorySegment mem;
    private static final long LEN = RingLayout.OFF_DATA + 1024;

    @BeforeEach
    void setUp() {
        arena = Arena.ofShared();
        mem = arena.allocate(1 << 20, 4096);
    }

    @AfterEach
    void tearDown() {
        arena.close();
    }

    private RingAllocator ring(long length) {
        return RingAllocator.create(mem, 0, length, SyncMode.LOCKED);
    }

    @Test
    void emptyRingHoldsExactlyItsLargestRequestAndOneByteMoreFails() {
        RingAllocator r = ring(LEN);
        assertEquals(1024, r.capacity());
        assertEquals(1024 - 16, r.maxAllocation());
        OutOfSharedMemoryException e = assertThrows(OutOfSharedMemoryException.class, () -> r.allocate(r.maxAllocation() + 1));
        assertThat(e.getMessage()).contains("size=" + (r.maxAllocation() + 1)).contains(r.name()).contains("free=1024");
        long off = r.allocate(r.maxAllocation());
        assertEquals(RingLayout.OFF_DATA + RingLayout.Block.BYTES, off);
        assertEquals(0, r.tryAllocate(1));
        r.free(off);
        assertEquals(off, r.allocate(r.maxAllocation()), "freed space is collected lazily on the next allocation");
        r.verify();
    }

    @Test
    void refusesThreadCachedModeWhichOnlyPoolsAndSlabsHave() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RingAllocator.create(mem, 0, LEN, SyncMode.THREAD_CACHED));
        MessageAssert.assertThat(e.getMessage()).contains("ring allocator has no thread caches");
    }

    @Test
    void bytesNeededGivesExactlyTheAskedCapacity() {
        assertEquals(4096, ring(RingAllocator.bytesNeeded(4096)).capacity());
        assertEquals(1008, RingAllocator.create(mem, 8192, RingAllocator.bytesNeeded(1008), SyncMode.LOCKED).capacity());
        assertThrows(IllegalArgumentException.class, () -> RingAllocator.bytesNeeded(1000));
        assertThrows(IllegalArgumentException.class, () -> RingAllocator.bytesNeeded(32));
    }

    @Test
    void wrapsAroundWithAPaddingBlock() {
        RingAllocator r = ring(LEN);
        long a = r.allocate(300 - 16); // 16-byte header + 284 = 300, rounded to a 304-byte block
        long b = r.allocate(300 - 16);
        long c = r.allocate(300 - 16);
        assertEquals(3 * 304, r.stats().used());
        r.free(a);
        r.free(b);
        // 1024 - 912 = 112 bytes left at the end: too short for 200, so it wraps to the start
        long d = r.allocate(200);
        assertEquals(RingLayout.OFF_DATA + RingLayout.Block.BYTES, d);
        assertTrue(r.isAllocated(c));
        assertTrue(r.isAllocated(d));
        assertEquals(a, d, "d reuses a's place");
        assertFalse(r.isAllocated(b));
        r.verify();
        AllocatorStats s = r.stats();
        assertEquals(2, s.allocations());
        assertEquals(304 + 224, s.used());
    }

    @Test
    void collectsOnlyFromTheHeadSoAnOldBlockHoldsSpaceBack() {
        RingAllocator r = ring(LEN);
        long a = r.allocate(240); // 256-byte blocks
        long b = r.allocate(240);
        long c = r.allocate(240);
        long d = r.allocate(240);
        assertEquals(0, r.tryAllocate(8));
        r.free(b);
        r.free(c);
        assertEquals(0, r.tryAllocate(8), "a is still live at the head: b and c cannot be collected yet");
        r.free(a);
        long e = r.allocate(700);
        assertEquals(RingLayout.OFF_DATA + 16, e);
        r.free(d);
        r.free(e);
        r.verify();
        assertEquals(0, r.stats().allocations());
    }

    @Test
    void rejectsDoubleFreeAndForeignOffsetsLeavingTheRingIntact() {
        RingAllocator r = ring(LEN);
        long a = r.allocate(40);
        long b = r.allocate(40);
        r.free(a);
        IllegalArgumentException e1 = assertThrows(IllegalArgumentException.class, () -> r.free(a));
        assertThat(e1.getMessage()).contains("double free").contains("offset=" + a);
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> r.free(b + 8));
        assertThat(e2.getMessage()).contains("offset=" + (b + 8));
        IllegalArgumentException e3 = assertThrows(IllegalArgumentException.class, () -> r.free(b + 16));
        assertThat(e3.getMessage()).contains("offset=" + (b + 16));
        IllegalArgumentException e4 = assertThrows(IllegalArgumentException.class, () -> r.free(b + 64 + 16));
        assertThat(e4.getMessage()).contains("not allocated");
        assertThrows(IllegalArgumentException.class, () -> r.free(12345678));
        assertThrows(IllegalArgumentException.class, () -> r.free(0));
        r.verify();
        assertTrue(r.isAllocated(b));
        r.free(b);
        r.allocate(8); // collects a and b
        assertThrows(IllegalArgumentException.class, () -> r.free(b), "freeing after collection is detected");
        r.verify();
    }

    @Test
    void honoursPerCallAlignment() {
        RingAllocator r = ring(RingLayout.OFF_DATA + 64 * 1024);
        List<Long> got = new ArrayList<>();
        for (long align : new long[]{8, 16, 32, 64, 256, 4096, 8}) {
            long off = r.allocate(24, align);
            assertEquals(0, off % align, "align=" + align);
            got.add(off);
        }
        r.verify();
        assertEquals(got.size(), r.stats().allocations());
        for (long off : got) {
            r.free(off);
        }
        r.allocate(8);
        r.verify();
    }

    @Test
    void everyRequestUpToHalfTheRingSucceedsOnceEverythingIsFreed() {
        RingAllocator r = ring(LEN);
        Random rnd = new Random(7);
        for (int round = 0; round < 200; round++) {
            List<Long> live = new ArrayList<>();
            long off;
            while ((off = r.tryAllocate(1 + rnd.nextInt(200))) != 0) {
                live.add(off);
            }
            for (long o : live) {
                r.free(o);
            }
            long big = r.capacity() / 2 - 16;
            long x = r.tryAllocate(big);
            assertNotEquals(0, x, "round " + round);
            r.free(x);
        }
        r.verify();
    }

    @Test
    void verifyNamesACorruptedBlockHeaderAndAllocateDoesNotLoop() {
        RingAllocator r = ring(LEN);
        long a = r.allocate(40);
        r.allocate(40);
        r.free(a);
        long sizeField = a - 16 + RingLayout.Block.OFF_SIZE;
        mem.set(ValueLayout.JAVA_LONG, sizeField, 0L); // a zero-length block would make a naive walk spin
        SegmentCorruptedException e = assertThrows(SegmentCorruptedException.class, r::verify);
        assertThat(e.getMessage()).contains("SIZE=0").contains("offset " + sizeField);
        assertThrows(SegmentCorruptedException.class, () -> r.allocate(2000 - 1024 + 900));
    }

    @Test
    void verifyNamesABadTag() {
        RingAllocator r = ring(LEN);
        r.allocate(40);
        long b = r.allocate(40);
        long tagField = b - 16 + RingLayout.Block.OFF_TAG;
        mem.set(ValueLayout.JAVA_LONG, tagField, 0xDEADL);
        SegmentCorruptedException e = assertThrows(SegmentCorruptedException.class, r::verify);
        assertThat(e.getMessage()).contains("bad tag").contains("offset " + tagField);
    }

    @Test
    void verifyRejectsImpossibleHeadAndTail() {
        RingAllocator r = ring(LEN);
        r.allocate(40);
        mem.set(ValueLayout.JAVA_LONG, RingLayout.OFF_TAIL, 5000L);
        SegmentCorruptedException e = assertThrows(SegmentCorruptedException.class, r::verify);
        assertThat(e.getMessage()).contains("TAIL=5000");
        assertThrows(SegmentCorruptedException.class, () -> r.allocate(8), "allocate refuses to write anywhere");
        mem.set(ValueLayout.JAVA_LONG, RingLayout.OFF_TAIL, -4096L);
        assertThrows(SegmentCorruptedException.class, () -> r.allocate(8));
    }

    @Test
    void openRefusesTheFormatBeforeTheVersionScheme() {
        RingAllocator.create(mem, 0, LEN, SyncMode.LOCKED);
        mem.set(ValueLayout.JAVA_LONG, 0, 0x3147_4E49_524D_4853L); // 'SHMRING1': format 1
        io.shmkit.UnsupportedFormatException e = assertThrows(io.shmkit.UnsupportedFormatException.class,
                () -> RingAllocator.open(mem, 0, LEN));
        assertThat(e.getMessage()).contains("SHMRING1").contains("SHMKRING").contains("recreate");
        mem.set(ValueLayout.JAVA_LONG, 0, 0x1234L);
        SegmentCorruptedException bad = assertThrows(SegmentCorruptedException.class, () -> RingAllocator.open(mem, 0, LEN));
        assertThat(bad.getMessage()).contains("magic is").contains("offset 0");
    }

    @Test
    void isReopenedByNameFromTheSegmentDirectory() {
        SegmentName name = SegmentName.posix(TestNames.unique("ring"));
        try (Segment s = Segment.create(name, 1 << 20)) {
            try {
                RingAllocator a = RingAllocator.create(s, "msgs", 64 * 1024);
                long off = a.allocate(100);
                s.reserve("other", 0x7777, 64, 64);
                try (Segment s2 = Segment.open(name)) {
                    RingAllocator b = RingAllocator.open(s2, "msgs");
                    assertTrue(b.isAllocated(off));
                    b.free(off);
                    assertFalse(a.isAllocated(off));
                    assertThrows(LayoutMismatchException.class, () -> RingAllocator.open(s2, "other"));
                    assertThrows(io.shmkit.StructureNotFoundException.class, () -> RingAllocator.open(s2, "missing"));
                }
            } finally {
                s.closeAndUnlink();
            }
        }
    }

    @Test
    void singleThreadedModeBehavesTheSame() {
        RingAllocator r = RingAllocator.create(mem, 0, LEN, SyncMode.SINGLE_THREADED);
        long a = r.allocate(100);
        r.free(a);
        assertThrows(IllegalArgumentException.class, () -> r.free(a));
        assertEquals(0, RingAllocator.open(mem, 0, LEN).stats().allocations());
        r.verify();
    }

    @Test
    void threadsAllocateAndFreeWithoutCorruption() throws Exception {
        RingAllocator r = ring(RingLayout.OFF_DATA + 256 * 1024);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int id = t;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    Random rnd = new Random(id);
                    long[] live = new long[16];
                    long[] sizes = new long[16];
                    for (int i = 0; i < 20_000; i++) {
                        int slot = rnd.nextInt(live.length);
                        if (live[slot] != 0) {
                            for (long k = 0; k < sizes[slot]; k++) {
                                if (mem.get(ValueLayout.JAVA_BYTE, live[slot] + k) != (byte) (id * 31 + live[slot] + k)) {
                                    throw new AssertionError("corrupted block " + live[slot]);
                                }
                            }
                            r.free(live[slot]);
                            live[slot] = 0;
                        } else {
                            long size = 1 + rnd.nextInt(300);
                            long off = r.tryAllocate(size);
                            if (off != 0) {
                                for (long k = 0; k < size; k++) {
                                    mem.set(ValueLayout.JAVA_BYTE, off + k, (byte) (id * 31 + off + k));
                                }
                                live[slot] = off;
                                sizes[slot] = size;
                            }
                        }
                    }
                    for (long off : live) {
                        if (off != 0) {
                            r.free(off);
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        r.verify();
        assertEquals(0, r.stats().allocations());
    }
}
