package io.shmkit.jcstress;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.alloc.FixedPool;
import io.shmkit.alloc.SyncMode;
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
 * FixedPool THREAD_CACHED: a cache hit commits with one store of the slice's state byte (the
 * byte names the cache while cached, "allocated" once handed out). While a thread frees a slice
 * into its cache and takes it back (two state-byte commits, no lock), another thread's
 * {@code verify()} (under the lock, reading every state byte) must pass, and a slice handed to
 * another thread after the commit (through a volatile) is seen allocated with its contents.
 */
@JCStressTest
@Outcome(id = "1, 7", expect = ACCEPTABLE, desc = "verify passed; the handed-over slice is allocated and holds 7")
@Outcome(id = "1, -1", expect = ACCEPTABLE, desc = "verify passed; the slice was not handed over yet")
@Outcome(id = "0, 7", expect = FORBIDDEN, desc = "verify reported corruption during a cache hit")
@Outcome(id = "0, -1", expect = FORBIDDEN, desc = "verify reported corruption during a cache free")
@Outcome(expect = FORBIDDEN, desc = "the handed-over slice was not seen allocated, or without its contents")
@State
public class ThreadCacheCommitTest {

    private final FixedPool pool;
    private final MemorySegment m;
    private volatile long handed;

    public ThreadCacheCommitTest() {
        long length = FixedPool.bytesNeeded(16, 64, 8, SyncMode.THREAD_CACHED);
        m = Arena.ofAuto().allocate(length, 64);
        pool = FixedPool.create(m, 0, length, 16, 64, 8, SyncMode.THREAD_CACHED);
    }

    @Actor
    public void owner() {
        long s = pool.allocate(16); // refills this thread's cache (locked), then a cache hit
        pool.free(s);               // into the cache: one state-byte store
        long t = pool.allocate(16); // a cache hit: one state-byte store
        m.set(ValueLayout.JAVA_LONG, t, 7L);
        handed = t;                 // volatile: hands the slice over
    }

    @Actor
    public void other(JJ_Result r) {
        try {
            pool.verify();
            r.r1 = 1;
        } catch (SegmentCorruptedException e) {
            r.r1 = 0;
        }
        long t = handed;
        if (t == 0) {
            r.r2 = -1;
        } else {
            r.r2 = pool.isAllocated(t) ? m.get(ValueLayout.JAVA_LONG, t) : -3;
        }
    }
}
