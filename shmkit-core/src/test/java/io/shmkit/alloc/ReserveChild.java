package io.shmkit.alloc;

import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;

/**
 * Child JVM that reserves a structure's range and never publishes it, as a creator killed
 * in the middle of {@code create} leaves it: prints {@code RESERVED offset=...} and waits to be
 * killed. Arguments: {@code <segment> <structure> <kind> <length>}.
 */
public final class ReserveChild {

    private ReserveChild() {
    }

    public static void main(String[] args) throws Exception {
        Segment seg = Segment.open(SegmentName.parse(args[0]));
        DirectoryEntry e = seg.reserve(args[1], Integer.decode(args[2]), Long.parseLong(args[3]), 64);
        seg.memory().set(java.lang.foreign.ValueLayout.JAVA_LONG, e.offset() + 64, 0xDEADL); // half-initialised
        System.out.println("RESERVED offset=" + e.offset());
        System.out.flush();
        Thread.sleep(600_000);
    }
}
