package io.shmkit.alloc;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * Child JVM using regions over a {@link RegionRegistry}. Arguments:
 * {@code hold <segment> <registry>}: opens a region, makes 3 blocks and 2 large allocations,
 * prints {@code READY} and waits to be killed;
 * {@code churn <segment> <registry> <seed>}: prints {@code READY}, then opens, fills and closes
 * regions without end (some left to the kill).
 */
public final class RegionChild {

    public static void main(String[] args) throws Exception {
        Segment seg = Segment.open(SegmentName.posix(args[1]));
        RegionRegistry registry = RegionRegistry.open(seg, args[2]);
        if (args[0].equals("hold")) {
            Region r = Region.create(registry, 1024, 1024);
            for (int i = 0; i < 3; i++) {
                r.allocate(1000); // each needs a block of its own
            }
            r.allocate(5000);
            r.allocate(3000);
            System.out.println("READY blocks=" + r.blockCount() + " large=" + r.largeCount());
            System.out.flush();
            Thread.sleep(600_000);
            return;
        }
        SplittableRandom rnd = new SplittableRandom(Long.parseLong(args[3]));
        System.out.println("READY");
        System.out.flush();
        while (true) {
            try (Region r = Region.create(registry, 1024, 256)) {
                int ops = 1 + rnd.nextInt(40);
                MemorySegment lastLarge = null;
                for (int i = 0; i < ops; i++) {
                    int k = rnd.nextInt(10);
                    if (k < 6) {
                        r.allocate(1 + rnd.nextInt(256)).fill((byte) i);
                    } else if (k < 9) {
                        lastLarge = r.allocate(300 + rnd.nextInt(3000));
                    } else if (lastLarge != null) {
                        r.free(lastLarge);
                        lastLarge = null;
                    }
                }
            } catch (io.shmkit.OutOfSharedMemoryException full) {
                Thread.onSpinWait(); // the parent reclaims between kills; try again
            }
        }
    }
}
