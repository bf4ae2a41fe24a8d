package io.shmkit.cli;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;

/** Child JVM for {@link RmAcrossNamespacesTest}: attaches the segment named by args[0], prints READY, sleeps. */
public final class AttachedHolder {

    private AttachedHolder() {
    }

    public static void main(String[] args) throws Exception {
        try (Segment s = Segment.open(SegmentName.parse(args[0]))) {
            System.out.println("READY pid=" + ProcessHandle.current().pid());
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
