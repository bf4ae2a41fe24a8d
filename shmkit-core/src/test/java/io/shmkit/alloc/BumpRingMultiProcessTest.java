package io.shmkit.alloc;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.ChildJvm;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Two child JVMs with two threads each allocate, write a pattern, check it and (ring) free, at
 * the same time, on one allocator; afterwards no block was corrupted (so none overlapped) and
 * the structure verifies.
 */
class BumpRingMultiProcessTest {

    private String name;
    private Segment seg;

    @BeforeEach
    void setUp() {
        name = TestNames.unique("bumpringmp");
        seg = Segment.create(SegmentName.posix(name), 40L << 20);
        seg.reserve("go", 0x7F01, 64, 64);
    }

    @AfterEach
    void tearDown() {
        seg.closeAndUnlink();
    }

    private void go() {
        long go = seg.lookup("go").orElseThrow().offset();
        BumpRingChild.LONG.setRelease(seg.memory(), go, 1L);
    }

    private static long field(String line, String key) {
        for (String part : line.split(" ")) {
            if (part.startsWith(key + "=")) {
                return Long.parseLong(part.substring(key.length() + 1));
            }
        }
        throw new AssertionError("no " + key + " in " + line);
    }

    @Test
    void bumpTwoProcessesTwoThreadsEachNeverShareABlock() throws Exception {
        BumpAllocator bump = BumpAllocator.create(seg, "b", 32L << 20, 64 * 1024);
        String[] done = runTwoChildren("bump-stress", "5");
        long blocks = field(done[0], "blocks") + field(done[1], "blocks");
        assertTrue(blocks > 1000, "children allocated " + blocks + " blocks");
        bump.verify();
        AllocatorStats s = bump.stats();
        assertEquals(blocks, s.allocations(), "every successful CAS is one block a child holds");
    }

    /**
     * Starts two children in {@code mode} for {@code seconds}, lets them go together, and
     * returns their DONE lines after checking that both exited cleanly and saw no corruption.
     */
    private String[] runTwoChildren(String mode, String seconds) throws Exception {
        try (ChildJvm a = ChildJvm.start(BumpRingChild.class, mode, name, "1", seconds);
             ChildJvm b = ChildJvm.start(BumpRingChild.class, mode, name, "2", seconds)) {
            a.awaitLine("READY", Duration.ofSeconds(30));
            b.awaitLine("READY", Duration.ofSeconds(30));
            go();
            String da = a.awaitLine("DONE", Duration.ofSeconds(60));
            String db = b.awaitLine("DONE", Duration.ofSeconds(60));
            assertEquals(0, a.waitFor(Duration.ofSeconds(30)), a.stderr());
            assertEquals(0, b.waitFor(Duration.ofSeconds(30)), b.stderr());
            assertEquals(0, field(da, "corrupt"), da);
            assertEquals(0, field(db, "corrupt"), db);
            return new String[]{da, db};
        }
    }

    @Test
    void ringTwoProcessesTwoThreadsEachAllocateAndFreeWithoutCorruption() throws Exception {
        RingAllocator ring = RingAllocator.create(seg, "r", 256 * 1024);
        String[] done = runTwoChildren("ring-stress", "3");
        assertTrue(field(done[0], "ops") + field(done[1], "ops") > 10_000, done[0] + " / " + done[1]);
        ring.verify();
        assertEquals(0, ring.stats().allocations(), "every block was freed");
    }
}
