package io.shmkit.alloc;

import io.shmkit.internal.FixedPoolLayout;
import io.shmkit.internal.SlabLayout;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.sync.ShmMutex;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Child JVM that takes an allocator's lock, scribbles over the allocator's derived data (free
 * lists and counters) as a process killed in the middle of an operation could leave them,
 * prints {@code HELD} and waits to be killed. Arguments: {@code <segment> <allocator> <fixed|slab>}.
 */
public final class LockHolderChild {

    public static void main(String[] args) throws Exception {
        Segment seg = Segment.open(SegmentName.posix(args[0]));
        long base = seg.lookup(args[1]).orElseThrow().offset();
        MemorySegment m = seg.memory();
        boolean fixed = args[2].equals("fixed");
        ShmMutex mutex = ShmMutex.open(m, base + (fixed ? FixedPoolLayout.OFF_LOCK : SlabLayout.OFF_LOCK));
        mutex.lock();
        if (fixed) {
            m.set(ValueLayout.JAVA_INT, base + FixedPoolLayout.OFF_HEAD, FixedPoolLayout.LINK_NONE); // list looks empty
            m.set(ValueLayout.JAVA_LONG, base + FixedPoolLayout.OFF_USED, 12345L);
        } else {
            m.set(ValueLayout.JAVA_INT, base + SlabLayout.OFF_FREE_HEAD, SlabLayout.LINK_NONE);
            m.set(ValueLayout.JAVA_LONG, base + SlabLayout.OFF_FREE_PAGES, 999L);
            m.set(ValueLayout.JAVA_LONG, base + SlabLayout.OFF_LARGE_PAGES, 77L);
            int classes = SlabLayout.classCount(m.get(ValueLayout.JAVA_LONG, base + SlabLayout.OFF_PAGE_SIZE));
            for (int c = 0; c < classes; c++) {
                long ca = base + SlabLayout.OFF_CLASSES + c * SlabLayout.SizeClass.BYTES;
                m.set(ValueLayout.JAVA_INT, ca + SlabLayout.SizeClass.OFF_PARTIAL, SlabLayout.LINK_NONE);
                m.set(ValueLayout.JAVA_LONG, ca + SlabLayout.SizeClass.OFF_USED, 555L);
            }
        }
        System.out.println("HELD");
        System.out.flush();
        Thread.sleep(600_000);
    }
}
