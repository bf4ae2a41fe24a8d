package io.shmkit.alloc;

import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The common contract of {@link SharedAllocator}, run once per implementation.
 *
 * <p>How to subclass: implement {@link #create(Segment, String)} to create a <em>small</em>
 * allocator of your kind under the given name in the given segment (small enough that filling
 * it takes well under a second, e.g. a few hundred blocks of {@link #blockSize()}), and
 * {@link #open(Segment, String)} to re-open it by name. Override the hooks where your
 * allocator differs:
 * <ul>
 *   <li>{@link #supportsFree()}: {@code false} for allocators without individual free
 *       (bump): the free-related tests are skipped, and {@link #release(SharedAllocator)}
 *       (e.g. {@code reset()}) is used to empty the allocator instead;</li>
 *   <li>{@link #blockSize()}: a request size the allocator always serves (a fixed pool's
 *       slice size);</li>
 *   <li>{@link #maxAlign()}: the largest per-call alignment the allocator supports;</li>
 *   <li>{@link #segmentSize()}: size of the segment created for each test.</li>
 * </ul>
 * A fresh segment with a unique name is created before each test and unlinked after it.
 */
public abstract class SharedAllocatorContract {

    protected Segment segment;
    private final List<Long> noOffsets = List.of();

    /** Creates a small allocator named {@code name} in {@code segment}. */
    protected abstract SharedAllocator create(Segment segment, String name);

    /** Opens the allocator named {@code name} in {@code segment} (as another process would). */
    protected abstract SharedAllocator open(Segment segment, String name);

    /** Whether {@link SharedAllocator#free} is supported. */
    protected boolean supportsFree() {
        return true;
    }

    /** Empties an allocator that does not support free (e.g. {@code reset()}); unused otherwise. */
    protected void release(SharedAllocator allocator) {
        throw new UnsupportedOperationException("override release() when supportsFree() is false");
    }

    /** A request size the allocator always serves. */
    protected long blockSize() {
        return 64;
    }

    /** The largest per-call alignment to test. */
    protected long maxAlign() {
        return 64;
    }

    /** Segment size for each test. */
    protected long segmentSize() {
        return 1 << 20;
    }

    /** Upper bound on the blocks a test allocates while filling the allocator. */
    protected int maxBlocks() {
        return 200_000;
    }

    @BeforeEach
    void createSegment() {
        segment = Segment.create(SegmentName.posix(TestNames.unique("contract")), segmentSize());
    }

    @AfterEach
    void unlinkSegment() {
        if (segment != null) {
            segment.closeAndUnlink();
        }
    }

    private List<Long> fill(SharedAllocator a) {
        List<Long> offsets = new ArrayList<>();
        for (int i = 0; i < maxBlocks(); i++) {
            long off = a.tryAllocate(blockSize());
            if (off == 0) {
                return offsets;
            }
            offsets.add(off);
        }
        fail("allocator never became full after " + maxBlocks() + " blocks of " + blockSize() + " bytes");
        return noOffsets;
    }

    @Test
    void allocatesDistinctAlignedBlocksInsideTheSegment() {
        SharedAllocator a = create(segment, "a");
        assertEquals(segment.memory().address(), a.memory().address(), "memory() is the whole segment");
        assertEquals(segment.memory().byteSize(), a.memory().byteSize(), "memory() is the whole segment");
        List<Long> offsets = fill(a);
        assertFalse(offsets.isEmpty());
        long size = blockSize();
        List<long[]> ranges = new ArrayList<>();
        for (long off : offsets) {
            assertNotEquals(0, off);
            assertEquals(0, off % SharedAllocator.DEFAULT_ALIGN, "offset " + off + " is not 8-byte aligned");
            assertTrue(off >= segment.dataOffset() && off + size <= segment.size(), "block outside segment: " + off);
            ranges.add(new long[]{off, off + size});
        }
        ranges.sort((x, y) -> Long.compare(x[0], y[0]));
        for (int i = 1; i < ranges.size(); i++) {
            assertTrue(ranges.get(i)[0] >= ranges.get(i - 1)[1],
                    "blocks overlap: " + ranges.get(i - 1)[0] + " and " + ranges.get(i)[0]);
        }
        a.verify();
    }

    @Test
    void honoursPerCallAlignment() {
        SharedAllocator a = create(segment, "a");
        for (long align = 8; align <= maxAlign(); align <<= 1) {
            long off = a.allocate(Math.min(blockSize(), 8), align);
            assertEquals(0, off % align, "offset " + off + " not aligned to " + align);
        }
        a.verify();
    }

    @Test
    void keepsContentsOfLiveBlocksWhileOthersChange() {
        SharedAllocator a = create(segment, "a");
        MemorySegment m = a.memory();
        List<Long> offsets = fill(a);
        for (int i = 0; i < offsets.size(); i++) {
            m.asSlice(offsets.get(i), blockSize()).fill((byte) (i * 31 + 7));
        }
        if (supportsFree()) {
            for (int i = 0; i < offsets.size(); i += 2) {
                a.free(offsets.get(i));
            }
            List<Long> again = fill(a);
            for (long off : again) {
                m.asSlice(off, blockSize()).fill((byte) 0x5A);
            }
        }
        for (int i = supportsFree() ? 1 : 0; i < offsets.size(); i += supportsFree() ? 2 : 1) {
            byte expected = (byte) (i * 31 + 7);
            MemorySegment b = m.asSlice(offsets.get(i), blockSize());
            for (long j = 0; j < blockSize(); j++) {
                assertEquals(expected, b.get(ValueLayout.JAVA_BYTE, j), "block " + i + " byte " + j + " changed");
            }
        }
        a.verify();
    }

    @Test
    void allocateFreeRoundtripRestoresStats() {
        assumeTrue(supportsFree(), "allocator has no individual free");
        SharedAllocator a = create(segment, "a");
        AllocatorStats before = a.stats();
        long off = a.allocate(blockSize());
        AllocatorStats during = a.stats();
        assertEquals(before.allocations() + 1, during.allocations());
        assertTrue(during.used() >= before.used() + blockSize(), "used grows by at least the request");
        assertEquals(before.requests() + 1, during.requests());
        a.free(off);
        AllocatorStats after = a.stats();
        assertEquals(before.allocations(), after.allocations());
        assertEquals(before.used(), after.used());
        assertEquals(before.capacity(), after.capacity());
        long again = a.allocate(blockSize());
        assertNotEquals(0, again);
        a.free(again);
        a.verify();
    }

    @Test
    void tryAllocateReturnsZeroWhenFullAndCountsTheFailure() {
        SharedAllocator a = create(segment, "a");
        List<Long> offsets = fill(a);
        AllocatorStats full = a.stats();
        assertEquals(0, a.tryAllocate(blockSize()));
        AllocatorStats after = a.stats();
        assertEquals(full.failures() + 1, after.failures());
        assertEquals(full.requests() + 1, after.requests());
        assertEquals(offsets.size(), after.allocations());
        a.verify();
        if (supportsFree()) {
            a.free(offsets.get(0));
            assertNotEquals(0, a.tryAllocate(blockSize()), "room again after a free");
        } else {
            release(a);
            assertNotEquals(0, a.tryAllocate(blockSize()), "room again after release");
        }
        a.verify();
    }

    @Test
    void allocateWhenFullThrowsNamingAllocatorRequestAndWhatIsLeft() {
        SharedAllocator a = create(segment, "roomy-pool");
        fill(a);
        long request = blockSize();
        OutOfSharedMemoryException e = assertThrows(OutOfSharedMemoryException.class, () -> a.allocate(request));
        String msg = e.getMessage();
        assertTrue(msg.contains("roomy-pool"), "names the allocator: " + msg);
        assertTrue(msg.contains("size=" + request), "names the request: " + msg);
        assertTrue(msg.contains("free"), "says what is left: " + msg);
        a.verify();
    }

    @Test
    void rejectsDoubleFreeNamingTheOffset() {
        assumeTrue(supportsFree(), "allocator has no individual free");
        SharedAllocator a = create(segment, "a");
        long keep = a.allocate(blockSize());
        long off = a.allocate(blockSize());
        a.free(off);
        AllocatorStats before = a.stats();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.free(off));
        assertTrue(e.getMessage().contains(Long.toString(off)), "names the offset: " + e.getMessage());
        assertEquals(before.allocations(), a.stats().allocations());
        a.verify();
        a.free(keep);
        a.verify();
    }

    @Test
    void rejectsFreeOfOffsetsNeverHandedOut() {
        assumeTrue(supportsFree(), "allocator has no individual free");
        SharedAllocator a = create(segment, "a");
        long off = a.allocate(blockSize());
        for (long bad : new long[]{off + 8, off + 1, segment.size() - 8, 0, 8, segment.size() + 4096, -8}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.free(bad),
                    "free(" + bad + ")");
            assertTrue(e.getMessage().contains(Long.toString(bad)), "names the offset: " + e.getMessage());
            a.verify();
        }
        a.free(off);
        a.verify();
    }

    @Test
    void reopenByNameSeesTheSameState() {
        SharedAllocator a = create(segment, "shared");
        long off = a.allocate(blockSize());
        a.memory().set(ValueLayout.JAVA_LONG, off, 0x1234_5678_9ABCL);
        SharedAllocator b = open(segment, "shared");
        assertEquals("shared", b.name());
        AllocatorStats sa = a.stats();
        AllocatorStats sb = b.stats();
        assertEquals(sa, sb);
        long off2 = b.allocate(blockSize());
        assertNotEquals(off, off2);
        assertEquals(sa.allocations() + 1, a.stats().allocations(), "a sees b's allocation");
        assertEquals(0x1234_5678_9ABCL, b.memory().get(ValueLayout.JAVA_LONG, off));
        if (supportsFree()) {
            b.free(off);
            a.free(off2);
            assertEquals(sa.allocations() - 1, b.stats().allocations());
        }
        a.verify();
        b.verify();
    }

    @Test
    void severalAllocatorsShareOneSegment() {
        SharedAllocator a = create(segment, "first");
        SharedAllocator b = create(segment, "second");
        List<Long> fa = fill(a);
        List<Long> fb = fill(b);
        for (long x : fa) {
            for (long y : fb) {
                assertTrue(x + blockSize() <= y || y + blockSize() <= x, "blocks of two allocators overlap: " + x + " " + y);
            }
        }
        a.verify();
        b.verify();
    }
}
