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

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The segment header's magic publication: HeaderCodec.init (what Segment.create runs) stores
 * every field, then the magic with release; an opener whose HeaderCodec.awaitMagic (acquire)
 * sees the magic sees the size and the carve top. In package io.shmkit.segment to call the
 * package-private codec itself.
 */
@JCStressTest
@Outcome(id = "0, -1", expect = ACCEPTABLE, desc = "not published yet")
@Outcome(id = "1, 8192", expect = ACCEPTABLE, desc = "published: size (and carve top) seen")
@Outcome(expect = FORBIDDEN, desc = "the magic was seen before the fields stored before it")
@State
public class HeaderPublicationTest {

    private static final SegmentName NAME = SegmentName.posix("shmkit-jcstress-header");
    private final MemorySegment m = Arena.ofAuto().allocate(SegmentHeader.HEADER_SIZE, 4096);

    @Actor
    public void creator() {
        HeaderCodec.init(m, NAME, 8192, SegmentOptions.defaults());
    }

    @Actor
    public void opener(JJ_Result r) {
        if (HeaderCodec.awaitMagic(m, Long.MIN_VALUE)) {
            r.r1 = 1;
            long size = Mem.getLong(m, SegmentHeader.OFF_SIZE);
            long carve = Mem.getLong(m, SegmentHeader.OFF_CARVE_TOP);
            r.r2 = carve == SegmentHeader.HEADER_SIZE ? size : -2;
        } else {
            r.r1 = 0;
            r.r2 = -1;
        }
    }
}
