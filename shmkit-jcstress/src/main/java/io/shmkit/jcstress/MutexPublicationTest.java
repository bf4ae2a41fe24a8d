package io.shmkit.jcstress;

import io.shmkit.sync.ShmMutex;
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
 * ShmMutex publication: everything written before {@code unlock} is seen after the next
 * {@code lock}, and a section never sees half of another section's plain writes.
 */
@JCStressTest
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the reader's section ran first")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "the writer's section ran first: both writes seen")
@Outcome(id = "1, 0", expect = FORBIDDEN, desc = "saw the second write but not the first")
@Outcome(id = "0, 1", expect = FORBIDDEN, desc = "saw the first write but not the second (sections overlapped)")
@State
public class MutexPublicationTest {

    private final MemorySegment m = Arena.ofAuto().allocate(128, 64);
    private final ShmMutex mutex = ShmMutex.create(m, 0);

    @Actor
    public void writer() {
        mutex.lock();
        m.set(ValueLayout.JAVA_LONG, 64, 1L);
        m.set(ValueLayout.JAVA_LONG, 72, 1L);
        mutex.unlock();
    }

    @Actor
    public void reader(JJ_Result r) {
        mutex.lock();
        r.r1 = m.get(ValueLayout.JAVA_LONG, 72);
        r.r2 = m.get(ValueLayout.JAVA_LONG, 64);
        mutex.unlock();
    }
}
