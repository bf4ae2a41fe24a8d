package io.shmkit.jcstress;

import io.shmkit.internal.Formats;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * A structure's magic publication (Formats.publish / published, what every structure's create
 * and open use): an opener that sees the magic sees every header field stored before it, and
 * the format field.
 */
@JCStressTest
@Outcome(id = "0, -1", expect = ACCEPTABLE, desc = "not published yet")
@Outcome(id = "1, 42", expect = ACCEPTABLE, desc = "published: the field is there")
@Outcome(expect = FORBIDDEN, desc = "the magic was seen without the field or the format stored before it")
@State
public class FormatPublicationTest {

    private static final long MAGIC = Formats.magic("SHMKTEST");
    private final MemorySegment m = Arena.ofAuto().allocate(64, 64);

    @Actor
    public void creator() {
        m.set(ValueLayout.JAVA_LONG, 16, 42L);
        Formats.publish(m, 0, MAGIC, 8, 7);
    }

    @Actor
    public void opener(JJ_Result r) {
        if (Formats.published(m, 0)) {
            r.r1 = 1;
            long field = m.get(ValueLayout.JAVA_LONG, 16);
            r.r2 = m.get(ValueLayout.JAVA_INT, 8) == 7 ? field : -2;
        } else {
            r.r1 = 0;
            r.r2 = -1;
        }
    }
}
