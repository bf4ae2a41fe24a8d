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
 * throws one of the documented exceptions (never the JDK's own, such as the
 * {@code IllegalArgumentException} of a misaligned access), none hangs, and no block is handed
 * out twice. The robust lock's own bytes are
 * left alone: a lock word forged to name a live thread of this process is, by design, a lock
 * that thread holds, and waiting for it is correct.
 */
class AllocatorDamageFuzzTest {

    /** Found by this test: a stray write into the calling thread's own registry entry freed its cached blocks. */
    @net.jqwik.api.Example
    void strayWriteIntoALiveCacheEntryNeverFreesItsBlocks() {
        damagedBytesAreReportedAndNeverHang(Kind.SLAB_CACHED, 2390715151L, 6);
    }

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
                case FIXED_LOCKED, FIXED_CACHED -> FixedPoolLayout.OFF_LOCK;
                case SLAB_LOCKED, SLAB_CACHED -> SlabLayout.OFF_LOCK;
                case RING -> RingLayout.OFF_LOCK;
                case BUMP -> -AllocLock.RESERVED; // lock-free: nothing to spare
            };
            long meta = switch (kind) {
                case FIXED_LOCKED, FIXED_CACHED -> seg.memory().get(ValueLayout.JAVA_LONG, e.offset() + FixedPoolLayout.OFF_SLICES_AT);
                case SLAB_LOCKED, SLAB_CACHED -> seg.memory().get(ValueLayout.JAVA_LONG, e.offset() + SlabLayout.OFF_PAGES_AT);
                case RING, BUMP -> e.length();
            };
            List<long[]> truth = sourceOfTruth(kind, seg.memory(), e.offset());
            SplittableRandom r = new SplittableRandom(seed);
            List<Long> live = new ArrayList<>();
            boolean[] checkTwice = {true};
            // Everything runs in one thread (the thread caches are per thread), stopped after 10 s.
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                work(a, r, live, 60, true);
                MemorySegment m = seg.memory();
                for (int i = 0; i < damages; i++) {
                    long at = e.offset() + r.nextLong(r.nextInt(5) == 0 ? e.length() : meta);
                    if (at >= lock && at < lock + AllocLock.RESERVED) {
                        continue;
                    }
                    m.set(ValueLayout.JAVA_BYTE, at, (byte) r.nextInt(256));
                    for (long[] t : truth) {
                        // a stray write into the source of truth (a state byte, a bitmap bit) can
                        // free a live block as surely as free() does: nothing can tell them apart
                        checkTwice[0] &= at < t[0] || at >= t[1];
                    }
                }
                try {
                    a.verify();
                } catch (SegmentCorruptedException reported) {
                    assertTrue(reported.getMessage().contains("offset"), "says where: " + reported.getMessage());
                }
                work(a, r, live, 200, checkTwice[0]);
            });
        } finally {
            seg.closeAndUnlink();
        }
    }

    /**
     * Random allocations and frees; only the documented exceptions are tolerated, and no block
     * is ever handed out while it (or any byte of it) is still handed out.
     */
    private static void work(SharedAllocator a, SplittableRandom r, List<Long> live, int ops, boolean checkTwice) {
        for (int i = 0; i < ops; i++) {
            try {
                if (live.isEmpty() || r.nextInt(3) != 0) {
                    long size = 1 + r.nextInt(48);
                    long off = a.tryAllocate(size);
                    if (off != 0) {
                        if (checkTwice) {
                            assertNotHandedOut(live, off, size);
                        }
                        live.add(off);
                        live.add(size);
                    }
                } else if (a instanceof BumpAllocator bump) {
                    live.clear();
                    bump.reset();
                } else {
                    int k = r.nextInt(live.size() / 2) * 2;
                    long off = live.remove(k);
                    live.remove(k); // its size
                    a.free(off);
                }
                if (r.nextInt(16) == 0) {
                    a.stats();
                }
            } catch (SegmentCorruptedException | OutOfSharedMemoryException expected) {
                // damage found: the call changed nothing it could not check
            } catch (IllegalArgumentException e) {
                // documented for a free of something not allocated (a damaged structure refusing a
                // free): thrown by shmkit itself, never the JDK's "misaligned access" or the like
                assertTrue(e.getStackTrace().length > 0 && e.getStackTrace()[0].getClassName().startsWith("io.shmkit."),
                        () -> "undocumented exception escaped: " + stackTrace(e));
            }
        }
    }

    /**
     * The byte ranges that are a structure's source of truth: damage anywhere else (free lists,
     * counters, descriptors' links, registry entries) must never make it hand a block out twice.
     */
    private static List<long[]> sourceOfTruth(Kind kind, MemorySegment m, long base) {
        List<long[]> out = new ArrayList<>();
        switch (kind) {
            case FIXED_LOCKED, FIXED_CACHED -> {
                long state = base + m.get(ValueLayout.JAVA_LONG, base + FixedPoolLayout.OFF_STATE_AT);
                out.add(new long[]{state, state + FixedPoolLayout.stateBytes(m.get(ValueLayout.JAVA_LONG,
                        base + FixedPoolLayout.OFF_SLICE_COUNT))});
            }
            case SLAB_LOCKED, SLAB_CACHED -> {
                long desc = base + m.get(ValueLayout.JAVA_LONG, base + SlabLayout.OFF_DESC_AT);
                long size = m.get(ValueLayout.JAVA_LONG, base + SlabLayout.OFF_DESC_SIZE);
                long pages = m.get(ValueLayout.JAVA_LONG, base + SlabLayout.OFF_PAGE_COUNT);
                for (long p = 0; p < pages; p++) {
                    long d = desc + p * size;
                    out.add(new long[]{d, d + 8}); // kind and info (large-head page count)
                    out.add(new long[]{d + SlabLayout.Descriptor.OFF_BITMAP, d + size});
                }
            }
            case RING, BUMP -> out.add(new long[]{base, Long.MAX_VALUE}); // headers among the data: all of it
        }
        return out;
    }

    /** Fails if {@code [off, off + size)} overlaps a block still handed out ({@code live}: offset, size pairs). */
    private static void assertNotHandedOut(List<Long> live, long off, long size) {
        for (int k = 0; k < live.size(); k += 2) {
            long o = live.get(k);
            long s = live.get(k + 1);
            if (off < o + s && o < off + size) {
                fail("block offset=" + off + " size=" + size + " handed out while offset=" + o + " size=" + s
                        + " is still allocated");
            }
        }
    }

    private static String stackTrace(Throwable e) {
        java.io.StringWriter w = new java.io.StringWriter();
        e.printStackTrace(new java.io.PrintWriter(w));
        return w.toString();
    }
}
