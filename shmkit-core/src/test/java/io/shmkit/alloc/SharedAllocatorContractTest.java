package io.shmkit.alloc;

import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The common contract of {@link SharedAllocator}, run over every allocator and mode listed in
 * {@link #allocators()}.
 *
 * <p>To add an allocator (or a mode), add one {@link Allocator} line: how to create a
 * <em>small</em> one under a name in a segment (small enough that filling it takes well under a
 * second, e.g. a few hundred blocks of its block size) and how to re-open it by name, then the
 * ways it differs:
 * <ul>
 *   <li>{@code supportsFree}: {@code false} for allocators without individual free (bump): the
 *       free-related tests run over {@link #freeingAllocators()} only, and {@code release} (e.g. {@code reset()}) empties the
 *       allocator instead;</li>
 *   <li>{@code blockSize}: a request size the allocator always serves (a fixed pool's slice
 *       size);</li>
 *   <li>{@code maxAlign}: the largest per-call alignment the allocator supports.</li>
 * </ul>
 * A fresh 1 MiB segment with a unique name is created before each test and unlinked after it.
 */
class SharedAllocatorContractTest {

    /** Upper bound on the blocks a test allocates while filling the allocator. */
    private static final int MAX_BLOCKS = 200_000;

    /** One allocator configuration under test. */
    record Allocator(String label, BiFunction<Segment, String, SharedAllocator> create,
                     BiFunction<Segment, String, SharedAllocator> open, boolean supportsFree,
                     Consumer<SharedAllocator> release, long blockSize, long maxAlign) {

        static Allocator freeing(String label, BiFunction<Segment, String, SharedAllocator> create,
                                 BiFunction<Segment, String, SharedAllocator> open, long blockSize, long maxAlign) {
            return new Allocator(label, create, open, true, a -> {
                throw new UnsupportedOperationException("release() is only for allocators without free");
            }, blockSize, maxAlign);
        }

        SharedAllocator create(Segment segment, String name) {
            return create.apply(segment, name);
        }

        SharedAllocator open(Segment segment, String name) {
            return open.apply(segment, name);
        }

        void release(SharedAllocator a) {
            release.accept(a);
        }

        @Override
        public String toString() {
            return label;
        }
    }

    static Stream<Allocator> allocators() {
        return Stream.of(
                new Allocator("bump", (s, n) -> BumpAllocator.create(s, n, 16 * 4096, 4096), BumpAllocator::open,
                        false, a -> ((BumpAllocator) a).reset(), 64,
                        2048), // page data starts 64 bytes into a 4096-byte page
                Allocator.freeing("ring LOCKED", (s, n) -> RingAllocator.create(s, n, 32 * 1024),
                        RingAllocator::open, 64, 4096),
                Allocator.freeing("ring SINGLE_THREADED",
                        (s, n) -> RingAllocator.create(s, n, 32 * 1024, SyncMode.SINGLE_THREADED),
                        RingAllocator::open, 64, 64),
                Allocator.freeing("fixed pool LOCKED", (s, n) -> FixedPool.create(s, n, 64, 300, 64, SyncMode.LOCKED),
                        FixedPool::open, 64, 64),
                Allocator.freeing("fixed pool SINGLE_THREADED",
                        (s, n) -> FixedPool.create(s, n, 64, 300, 64, SyncMode.SINGLE_THREADED), FixedPool::open, 64, 64),
                Allocator.freeing("fixed pool THREAD_CACHED",
                        (s, n) -> FixedPool.create(s, n, 64, 300, 64, SyncMode.THREAD_CACHED), FixedPool::open, 64, 64),
                Allocator.freeing("slab LOCKED", (s, n) -> SlabAllocator.create(s, n, 16, 4096, SyncMode.LOCKED),
                        SlabAllocator::open, 64, 4096),
                Allocator.freeing("slab THREAD_CACHED",
                        (s, n) -> SlabAllocator.create(s, n, 16, 4096, SyncMode.THREAD_CACHED), SlabAllocator::open,
                        64, 4096),
                // whole-page blocks (two and a half pages each), in single-threaded mode
                Allocator.freeing("slab SINGLE_THREADED large blocks",
                        (s, n) -> SlabAllocator.create(s, n, 40, 1024, SyncMode.SINGLE_THREADED), SlabAllocator::open,
                        2560, 64));
    }

    /** The configurations with individual free: the free-related tests run over these only. */
    static Stream<Allocator> freeingAllocators() {
        return allocators().filter(Allocator::supportsFree);
    }

    private Segment segment;
    private final List<Long> noOffsets = List.of();

    @BeforeEach
    void createSegment() {
        segment = Segment.create(SegmentName.posix(TestNames.unique("contract")), 1 << 20);
    }

    @AfterEach
    void unlinkSegment() {
        if (segment != null) {
            segment.closeAndUnlink();
        }
    }

    private List<Long> fill(Allocator k, SharedAllocator a) {
        List<Long> offsets = new ArrayList<>();
        for (int i = 0; i < MAX_BLOCKS; i++) {
            long off = a.tryAllocate(k.blockSize());
            if (off == 0) {
                return offsets;
            }
            offsets.add(off);
        }
        fail("allocator never became full after " + MAX_BLOCKS + " blocks of " + k.blockSize() + " bytes");
        return noOffsets;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allocators")
    void allocatesDistinctAlignedBlocksInsideTheSegment(Allocator k) {
        SharedAllocator a = k.create(segment, "a");
        assertEquals(segment.memory().address(), a.memory().address(), "memory() is the whole segment");
        assertEquals(segment.memory().byteSize(), a.memory().byteSize(), "memory() is the whole segment");
        List<Long> offsets = fill(k, a);
        assertFalse(offsets.isEmpty());
        long size = k.blockSize();
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

    @ParameterizedTest(name = "{0}")
    @MethodSource("allocators")
    void honoursPerCallAlignment(Allocator k) {
        SharedAllocator a = k.create(segment, "a");
        for (long align = 8; align <= k.maxAlign(); align <<= 1) {
            long off = a.allocate(Math.min(k.blockSize(), 8), align);
            assertEquals(0, off % align, "offset " + off + " not aligned to " + align);
        }
        a.verify();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allocators")
    void keepsContentsOfLiveBlocksWhileOthersChange(Allocator k) {
        SharedAllocator a = k.create(segment, "a");
        MemorySegment m = a.memory();
        List<Long> offsets = fill(k, a);
        for (int i = 0; i < offsets.size(); i++) {
            m.asSlice(offsets.get(i), k.blockSize()).fill((byte) (i * 31 + 7));
        }
        if (k.supportsFree()) {
            for (int i = 0; i < offsets.size(); i += 2) {
                a.free(offsets.get(i));
            }
            List<Long> again = fill(k, a);
            for (long off : again) {
                m.asSlice(off, k.blockSize()).fill((byte) 0x5A);
            }
        }
        for (int i = k.supportsFree() ? 1 : 0; i < offsets.size(); i += k.supportsFree() ? 2 : 1) {
            byte expected = (byte) (i * 31 + 7);
            MemorySegment b = m.asSlice(offsets.get(i), k.blockSize());
            for (long j = 0; j < k.blockSize(); j++) {
                assertEquals(expected, b.get(ValueLayout.JAVA_BYTE, j), "block " + i + " byte " + j + " changed");
            }
        }
        a.verify();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("freeingAllocators")
    void allocateFreeRoundtripRestoresStats(Allocator k) {
        SharedAllocator a = k.create(segment, "a");
        AllocatorStats before = a.stats();
        long off = a.allocate(k.blockSize());
        AllocatorStats during = a.stats();
        assertEquals(before.allocations() + 1, during.allocations());
        assertTrue(during.used() >= before.used() + k.blockSize(), "used grows by at least the request");
        assertEquals(before.requests() + 1, during.requests());
        a.free(off);
        AllocatorStats after = a.stats();
        assertEquals(before.allocations(), after.allocations());
        assertEquals(before.used(), after.used());
        assertEquals(before.capacity(), after.capacity());
        long again = a.allocate(k.blockSize());
        assertNotEquals(0, again);
        a.free(again);
        a.verify();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allocators")
    void tryAllocateReturnsZeroWhenFullAndCountsTheFailure(Allocator k) {
        SharedAllocator a = k.create(segment, "a");
        List<Long> offsets = fill(k, a);
        AllocatorStats full = a.stats();
        assertEquals(0, a.tryAllocate(k.blockSize()));
        AllocatorStats after = a.stats();
        assertEquals(full.failures() + 1, after.failures());
        assertEquals(full.requests() + 1, after.requests());
        assertEquals(offsets.size(), after.allocations());
        a.verify();
        if (k.supportsFree()) {
            a.free(offsets.get(0));
            assertNotEquals(0, a.tryAllocate(k.blockSize()), "room again after a free");
        } else {
            k.release(a);
            assertNotEquals(0, a.tryAllocate(k.blockSize()), "room again after release");
        }
        a.verify();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allocators")
    void allocateWhenFullThrowsNamingAllocatorRequestAndWhatIsLeft(Allocator k) {
        SharedAllocator a = k.create(segment, "roomy-pool");
        fill(k, a);
        long request = k.blockSize();
        OutOfSharedMemoryException e = assertThrows(OutOfSharedMemoryException.class, () -> a.allocate(request));
        String msg = e.getMessage();
        assertTrue(msg.contains("roomy-pool"), "names the allocator: " + msg);
        assertTrue(msg.contains("size=" + request), "names the request: " + msg);
        assertTrue(msg.contains("free"), "says what is left: " + msg);
        a.verify();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("freeingAllocators")
    void rejectsDoubleFreeNamingTheOffset(Allocator k) {
        SharedAllocator a = k.create(segment, "a");
        long keep = a.allocate(k.blockSize());
        long off = a.allocate(k.blockSize());
        a.free(off);
        AllocatorStats before = a.stats();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.free(off));
        assertTrue(e.getMessage().contains(Long.toString(off)), "names the offset: " + e.getMessage());
        assertEquals(before.allocations(), a.stats().allocations());
        a.verify();
        a.free(keep);
        a.verify();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("freeingAllocators")
    void rejectsFreeOfOffsetsNeverHandedOut(Allocator k) {
        SharedAllocator a = k.create(segment, "a");
        long off = a.allocate(k.blockSize());
        for (long bad : new long[]{off + 8, off + 1, segment.size() - 8, 0, 8, segment.size() + 4096, -8}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.free(bad),
                    "free(" + bad + ")");
            assertTrue(e.getMessage().contains(Long.toString(bad)), "names the offset: " + e.getMessage());
            a.verify();
        }
        a.free(off);
        a.verify();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allocators")
    void reopenByNameSeesTheSameState(Allocator k) {
        SharedAllocator a = k.create(segment, "shared");
        long off = a.allocate(k.blockSize());
        a.memory().set(ValueLayout.JAVA_LONG, off, 0x1234_5678_9ABCL);
        SharedAllocator b = k.open(segment, "shared");
        assertEquals("shared", b.name());
        AllocatorStats sa = a.stats();
        AllocatorStats sb = b.stats();
        assertEquals(sa, sb);
        long off2 = b.allocate(k.blockSize());
        assertNotEquals(off, off2);
        assertEquals(sa.allocations() + 1, a.stats().allocations(), "a sees b's allocation");
        assertEquals(0x1234_5678_9ABCL, b.memory().get(ValueLayout.JAVA_LONG, off));
        if (k.supportsFree()) {
            b.free(off);
            a.free(off2);
            assertEquals(sa.allocations() - 1, b.stats().allocations());
        }
        a.verify();
        b.verify();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allocators")
    void severalAllocatorsShareOneSegment(Allocator k) {
        SharedAllocator a = k.create(segment, "first");
        SharedAllocator b = k.create(segment, "second");
        List<Long> fa = fill(k, a);
        List<Long> fb = fill(k, b);
        for (long x : fa) {
            for (long y : fb) {
                assertTrue(x + k.blockSize() <= y || y + k.blockSize() <= x, "blocks of two allocators overlap: " + x + " " + y);
            }
        }
        a.verify();
        b.verify();
    }
}
