package io.shmkit.segment;

import io.shmkit.internal.Mem;
import io.shmkit.internal.SegmentHeader;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.shmkit.internal.SegmentHeader.OFF_RESIZE_GENERATION;
import static io.shmkit.internal.SegmentHeader.OFF_SIZE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Grow's size-before-generation order: Segment.grow stores the new size (release), then adds
 * one to the resize generation (release); Segment.refresh reads the generation (acquire), then
 * the size (acquire). A reader that sees the new generation must see the new size. grow itself
 * resizes and maps a file, too heavy for an actor: this test runs the same accesses, with the
 * same header VarHandle and offsets, on a header in memory (keep it in step with Segment).
 */
@JCStressTest
@Outcome(id = {"0, 4096", "0, 8192"}, expect = ACCEPTABLE, desc = "old generation (the size may already be new)")
@Outcome(id = "1, 8192", expect = ACCEPTABLE, desc = "new generation, new size")
@Outcome(id = "1, 4096", expect = FORBIDDEN, desc = "new generation seen with the old size: refresh would not remap")
@State
public class GrowOrderTest {

    private final MemorySegment m = Arena.ofAuto().allocate(SegmentHeader.HEADER_SIZE, 4096);

    public GrowOrderTest() {
        Mem.setLong(m, OFF_SIZE, 4096L);
    }

    @Actor
    public void grower() {
        // as in Segment.grow, under the header lock
        Mem.setLongRelease(m, OFF_SIZE, 8192L);
        Mem.getAndAddLongRelease(m, OFF_RESIZE_GENERATION, 1L);
    }

    @Actor
    public void refresher(JJ_Result r) {
        // as in Segment.refresh
        r.r1 = Mem.getLongAcquire(m, OFF_RESIZE_GENERATION);
        r.r2 = Mem.getLongAcquire(m, OFF_SIZE);
    }
}
