package io.shmkit.alloc;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.ChildJvm;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A child JVM allocates (and, for the ring, frees) in a loop and is killed with SIGKILL after a
 * random 5..60 ms, again and again. After every kill this process opens the allocator, takes
 * its lock (which reports a dead owner if the child died inside it, and repairs), runs
 * {@code verify()}, and checks that every allocation the child recorded as returned is still
 * allocated with its contents intact. {@code -Dshmkit.long=true} multiplies the kills by 10.
 */
class BumpRingCrashTest {

    private static final int KILLS = Boolean.getBoolean("shmkit.long") ? 500 : 50;
    private String name;
    private Segment seg;
    private final Random random = new Random();

    @BeforeEach
    void setUp() {
        name = TestNames.unique("bumpringcrash");
        seg = Segment.create(SegmentName.posix(name), 8L << 20);
    }

    @AfterEach
    void tearDown() {
        seg.closeAndUnlink();
    }

    private void killAfterRandomDelay(String mode) throws Exception {
        try (ChildJvm child = ChildJvm.start(BumpRingChild.class, mode, name, "0", "0")) {
            child.awaitLine("READY", Duration.ofSeconds(30));
            Thread.sleep(5 + random.nextInt(56));
            assertTrue(child.process().isAlive(), "child died by itself: " + child.stderr());
            child.kill9();
        }
    }

    @Test
    void bumpKeepsEveryRecordedAllocationAcrossSigkills() throws Exception {
        BumpAllocator.create(seg, "b", 256 * 1024, 4096);
        long log = seg.reserve("log", 0x7F02, BumpRingChild.LOG_LENGTH, 64).offset();
        MemorySegment m = seg.memory();
        long checked = 0;
        for (int kill = 0; kill < KILLS; kill++) {
            killAfterRandomDelay("bump-crash");
            BumpAllocator bump = BumpAllocator.open(seg, "b");
            bump.verify();
            long count = (long) BumpRingChild.LONG.getAcquire(m, log);
            assertTrue(count >= 0 && count <= BumpRingChild.BUMP_SLOTS, "log count " + count);
            long prevEnd = 0;
            for (long i = 0; i < count; i++) {
                long off = (long) BumpRingChild.LONG.get(m, log + 16 + i * 16);
                long size = (long) BumpRingChild.LONG.get(m, log + 16 + i * 16 + 8);
                assertTrue(bump.isAllocated(off) && bump.isAllocated(off + size - 1),
                        "kill " + kill + ": recorded block " + off + " (+" + size + ") is no longer allocated");
                assertEquals(-1, BumpRingChild.mismatch(m, off, size), "kill " + kill + ": block " + off + " changed");
                assertTrue(off >= prevEnd, "kill " + kill + ": block " + off + " overlaps the previous one");
                prevEnd = off + size;
                checked++;
            }
        }
        assertTrue(checked > 0, "the children recorded allocations");
        BumpAllocator.open(seg, "b").verify();
    }

    @Test
    void ringKeepsEveryRecordedAllocationAndRepairsAfterSigkills() throws Exception {
        RingAllocator.create(seg, "r", RingAllocator.bytesNeeded(64 * 1024)); // power-of-two capacity: masked positions
        long slots = (long) BumpRingChild.RING_THREADS * BumpRingChild.RING_SLOTS;
        long log = seg.reserve("log", 0x7F03, slots * 16, 64).offset();
        MemorySegment m = seg.memory();
        long checked = 0;
        long leaked = 0;
        for (int kill = 0; kill < KILLS; kill++) {
            killAfterRandomDelay("ring-crash");
            RingAllocator ring = RingAllocator.open(seg, "r");
            ring.verify(); // takes the lock: a dead owner is reported and the chain is checked
            Set<Long> recorded = new HashSet<>();
            for (long i = 0; i < slots; i++) {
                long off = (long) BumpRingChild.LONG.getAcquire(m, log + i * 16);
                if (off == 0) {
                    continue;
                }
                long size = (long) BumpRingChild.LONG.get(m, log + i * 16 + 8);
                assertTrue(ring.isAllocated(off), "kill " + kill + ": recorded block " + off + " is no longer allocated");
                assertEquals(-1, BumpRingChild.mismatch(m, off, size), "kill " + kill + ": block " + off + " changed");
                assertTrue(recorded.add(off), "kill " + kill + ": block " + off + " recorded twice");
                checked++;
            }
            // blocks the child allocated but had not recorded yet (or had forgotten but not yet
            // freed) when it was killed: the test plays the application's recovery and frees them
            for (long off : ring.allocatedBlocks()) {
                if (!recorded.contains(off)) {
                    ring.free(off);
                    leaked++;
                }
            }
            ring.verify();
            assertEquals(recorded.size(), ring.stats().allocations(), "kill " + kill);
        }
        assertTrue(checked > 0, "the children recorded allocations");
        System.out.println("ring crash test: kills=" + KILLS + " recorded blocks checked=" + checked
                + " unrecorded blocks reclaimed=" + leaked + " lock takeovers=" + RingAllocator.open(seg, "r").lockTakeovers());
    }
}
