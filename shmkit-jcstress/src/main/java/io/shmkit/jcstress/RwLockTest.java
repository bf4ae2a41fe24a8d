package io.shmkit.jcstress;

import io.shmkit.sync.ShmRwLock;
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
 * ShmRwLock: a write section's plain writes are seen whole by every later read section, and
 * no read section sees half of a write section. (Two actors: jcstress skips tests with more
 * actors than CPUs, and the reference machine has two.)
 */
@JCStressTest
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the read section ran first")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "the write section ran first: both writes seen")
@Outcome(expect = FORBIDDEN, desc = "a reader saw half of the write section")
@State
public class RwLockTest {

    private final MemorySegment m = Arena.ofAuto().allocate(ShmRwLock.SIZE + 64, 64);
    private final ShmRwLock lock = ShmRwLock.create(m, 0);
    private final long data = ShmRwLock.SIZE;

    @Actor
    public void writer() {
        lock.writeLock();
        m.set(ValueLayout.JAVA_LONG, data, 1L);
        m.set(ValueLayout.JAVA_LONG, data + 8, 1L);
        lock.writeUnlock();
    }

    @Actor
    public void reader(JJ_Result r) {
        lock.readLock();
        r.r1 = m.get(ValueLayout.JAVA_LONG, data + 8);
        r.r2 = m.get(ValueLayout.JAVA_LONG, data);
        lock.readUnlock();
    }
}
