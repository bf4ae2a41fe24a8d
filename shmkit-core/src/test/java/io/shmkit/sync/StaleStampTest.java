package io.shmkit.sync;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.ChildJvm;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 8, finding 4: format 1 wrote the owner's stamp (pid, start time) after its CAS, so a
 * waiter reading between the two, while the old stamp named an earlier process with the same
 * pid, took a live lock. Format 2 words name their owner completely; offset 8 (the old stamp)
 * is never read, whatever it holds.
 */
class StaleStampTest {

    /** Where format 1 kept the stamp. */
    private static final long OLD_STAMP = 8;

    private String name;
    private Segment segment;
    private MemorySegment mem;
    private long mutexOff;
    private long dataOff;
    private ShmMutex mutex;

    @BeforeEach
    void setUp() {
        name = TestNames.unique("stamp");
        segment = Segment.create(SegmentName.posix(name), 64 * 1024);
        mem = segment.memory();
        mutexOff = segment.dataOffset();
        dataOff = mutexOff + 128;
        mutex = ShmMutex.create(mem, mutexOff);
    }

    @AfterEach
    void tearDown() {
        segment.closeAndUnlink();
    }

    /** A format 1 stamp naming {@code pid} with a start time no running process has. */
    private static long staleStamp(long pid) {
        return (pid << 40) | 1;
    }

    @Test
    void aFormat1WordWithAStaleStampIsNeverTakenOver() {
        // format 1 read this as "pid reused" (live pid, other start time) and took the lock
        long pid = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(1L);
        mem.set(ValueLayout.JAVA_LONG, mutexOff + MutexLayout.OFF_WORD, (pid << 32) | (4L << 2));
        mem.set(ValueLayout.JAVA_LONG, mutexOff + OLD_STAMP, staleStamp(pid));
        assertEquals(LockResult.TIMED_OUT, mutex.lock(100, TimeUnit.MILLISECONDS));
        assertEquals(LockResult.BUSY, mutex.tryLock());
        assertEquals(0, mutex.takeovers());
        mem.set(ValueLayout.JAVA_LONG, mutexOff + MutexLayout.OFF_WORD, 0L);
    }

    @Test
    void contendingProcessesNeverTakeALiveLockWhateverTheOldStampSays() throws Exception {
        int perThread = 100_000;
        try (ChildJvm a = ChildJvm.start(SyncChild.class, "count-mutex", name, "" + mutexOff, "" + dataOff, "2", "" + perThread);
             ChildJvm b = ChildJvm.start(SyncChild.class, "count-mutex", name, "" + mutexOff, "" + dataOff, "2", "" + perThread)) {
            a.awaitLine("READY", Duration.ofSeconds(60));
            b.awaitLine("READY", Duration.ofSeconds(60));
            // the worst interleaving of format 1, all the time: the stamp names the current
            // owner's pid with a start time of "an earlier process with the same pid"
            AtomicBoolean stop = new AtomicBoolean();
            Thread hostile = new Thread(() -> {
                long[] stamps = {staleStamp(a.pid()), staleStamp(b.pid())};
                for (int i = 0; !stop.get(); i++) {
                    mem.set(ValueLayout.JAVA_LONG, mutexOff + OLD_STAMP, stamps[i & 1]);
                    Thread.onSpinWait();
                }
            });
            hostile.start();
            mem.set(ValueLayout.JAVA_LONG, dataOff + 16, 1L); // go
            try {
                assertEquals("DONE torn=0", a.awaitLine("DONE", Duration.ofSeconds(300)));
                assertEquals("DONE torn=0", b.awaitLine("DONE", Duration.ofSeconds(300)));
            } finally {
                stop.set(true);
                hostile.join();
            }
            assertEquals(0, a.waitFor(Duration.ofSeconds(30)));
            assertEquals(0, b.waitFor(Duration.ofSeconds(30)));
        }
        assertEquals(4L * perThread, mem.get(ValueLayout.JAVA_LONG, dataOff));
        assertEquals(0, mutex.takeovers(), "a live owner was taken over");
        assertTrue(mutex.isConsistent());
    }
}
