package io.shmkit.cli;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.sync.ShmMutex;

/**
 * Child JVM for the CLI tests: attaches to a segment, takes the lock of the structure named in
 * the arguments (robust allocators keep it 64 bytes into their range), prints {@code HELD} and
 * waits to be stopped or killed. Arguments: {@code <segment> <structure>}.
 */
public final class LockHolder {

    private LockHolder() {
    }

    public static void main(String[] args) throws Exception {
        Segment seg = Segment.open(SegmentName.parse(args[0]));
        long base = seg.lookup(args[1]).orElseThrow().offset();
        ShmMutex.open(seg.memory(), base + 64).lock();
        System.out.println("HELD pid=" + ProcessHandle.current().pid());
        System.out.flush();
        Thread.sleep(600_000);
    }
}
