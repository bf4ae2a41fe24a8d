package io.shmkit.alloc;

import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.FixedPoolLayout;
import io.shmkit.internal.RingLayout;
import io.shmkit.internal.SlabLayout;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.TestNames;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Stray writes into a fixed pool's or a slab's bytes (free lists, state bytes, bitmaps,
 * descriptors, counters, registry entries), then more work on it: every call either works or
 * throws one of the documented exceptions, and none hangs. The robust lock's own bytes are
 * left alone: a lock word forged to name a live thread of this process is, by design, a lock
 * that thread holds, and waiting for it is correct.
 */
class AllocatorDamageFuzzTest {

    enum Kind { FIXED_LOCKED, FIXED_CACHED, SLAB_LOCKED, SLAB_CACHED, RING, BUMP }

    @Property(tries = 2000)
    void damagedBytesAreReportedAndNeverHang(@ForAll Kind kind, @ForAll long seed,
                                             @ForAll @IntRange(min = 1, max = 12) int damages) {
        Segment seg = Segment.create(SegmentName.posix(TestNames.unique("damage")), 2 << 20);
        try {
            SharedAllocator a = switch (kind) {
                case FIXED_LOCKED -> FixedPool.create(seg, "a", 48, 200, 8, SyncMode.LOCKED);
                case FIXED_CACHED -> FixedPool.create(seg, "a", 48, 200, 8, SyncMode.THREAD_CACHED);
                case SLAB_LOCKED -> SlabAllocator.create(seg, "a", 32, 1024, SyncMode.LOCKED);
                case SLAB_CACHED -> SlabAllocator.create(seg, "a", 32, 1024, SyncMode.THREAD_CACHED);
                case RING -> RingAllocator.create(seg, "a", 8 * 1024);
                case BUMP -> BumpAllocator.create(seg, "a", 8 * 1024, 1024);
            };
            DirectoryEntry e = seg.lookup("a").orElseThrow();
            // The lock's bytes, and where the bookkeeping ends (most damage goes before that).
            // Ring and bump keep block and page headers among the data: all of it counts.
            long lock = e.offset() + switch (kind) {
                case FIXED_LOCKED, FIXED_CACHED -> FixedPoolLayout.LOCK;
                case SLAB_LOCKED, SLAB_CACHED -> SlabLayout.LOCK;
                case RING -> RingLayout.LOCK;
                case BUMP -> -AllocLock.RESERVED; // lock-free: nothing to spare
            };
            long meta = switch (kind) {
                case FIXED_LOCKED, FIXED_CACHED -> seg.memory().get(ValueLayout.JAVA_LONG, e.offset() + FixedPoolLayout.SLICES_AT);
                case SLAB_LOCKED, SLAB_CACHED -> seg.memory().get(ValueLayout.JAVA_LONG, e.offset() + SlabLayout.PAGES_AT);
                case RING, BUMP -> e.length();
            };
            SplittableRandom r = new SplittableRandom(seed);
            List<Long> live = new ArrayList<>();
            // Everything runs in one thread (the thread caches are per thread), stopped after 10 s.
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                work(a, r, live, 60);
                MemorySegment m = seg.memory();
                for (int i = 0; i < damages; i++) {
                    long at = e.offset() + r.nextLong(r.nextInt(5) == 0 ? e.length() : meta);
                    if (at >= lock && at < lock + AllocLock.RESERVED) {
                        continue;
                    }
                    m.set(ValueLayout.JAVA_BYTE, at, (byte) r.nextInt(256));
                }
                try {
                    a.verify();
                } catch (SegmentCorruptedException reported) {
                    assertTrue(reported.getMessage().contains("offset"), "says where: " + reported.getMessage());
                }
                work(a, r, live, 200);
            });
        } finally {
            seg.closeAndUnlink();
        }
    }

    /** Random allocations and frees; only the documented exceptions are tolerated. */
    private static void work(SharedAllocator a, SplittableRandom r, List<Long> live, int ops) {
        for (int i = 0; i < ops; i++) {
            try {
                if (live.isEmpty() || r.nextInt(3) != 0) {
                    long off = a.tryAllocate(1 + r.nextInt(48));
                    if (off != 0) {
                        live.add(off);
                    }
                } else if (a instanceof BumpAllocator bump) {
                    live.clear();
                    bump.reset();
                } else {
                    a.free(live.remove(r.nextInt(live.size())));
                }
                if (r.nextInt(16) == 0) {
                    a.stats();
                }
            } catch (SegmentCorruptedException | IllegalArgumentException | OutOfSharedMemoryException expected) {
                // damage found (or a damaged structure refusing a free): the call changed nothing it could not check
            }
        }
    }
}
