package io.shmkit.sync;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.ChildJvm;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Issue 8, finding 8 (sync part): a timed wait re-checks a dead owner as often as an untimed one. */
class BoundedWaitTest {

    private Segment segment;
    private ShmMutex mutex;
    private ShmCondition cond;
    private long mutexOff;
    private long condOff;

    @BeforeEach
    void setUp() {
        segment = Segment.create(SegmentName.posix(TestNames.unique("bounded")), 1 << 16);
        mutexOff = segment.reserve("mutex", 0x7F05, 128, 64).offset();
        condOff = mutexOff + 64;
        mutex = ShmMutex.create(segment.memory(), mutexOff);
        cond = ShmCondition.create(segment.memory(), condOff);
    }

    @AfterEach
    void tearDown() {
        segment.closeAndUnlink();
    }

    @Test
    void timedAwaitWhoseSignallerDiesHoldingTheMutexReturnsLongBeforeItsTimeout() throws Exception {
        long timeoutSeconds = 120;
        CompletableFuture<LockResult> waiter = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                mutex.lock();
                LockResult r = cond.await(mutex, timeoutSeconds, TimeUnit.SECONDS);
                if (r == LockResult.OWNER_DIED) {
                    mutex.markConsistent();
                }
                mutex.unlock();
                waiter.complete(r);
            } catch (Throwable e) {
                waiter.completeExceptionally(e);
            }
        });
        t.start();
        long killedAt;
        try (ChildJvm child = ChildJvm.start(LivenessChild.class, "signal-hold", segment.name().value(),
                "" + mutexOff, "" + condOff)) {
            child.awaitLine("SIGNALLED", Duration.ofSeconds(90)); // the waiter now sleeps on the mutex futex
            child.kill9();
            killedAt = System.nanoTime();
        }
        // format 1 slept the whole timeout here (one futex sleep of 'left'); now it re-checks every 50 ms.
        // The bound is a quarter of the timeout: generous for two loaded cores, far below "slept it all".
        LockResult r = waiter.get(timeoutSeconds + 60, TimeUnit.SECONDS);
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - killedAt);
        assertEquals(LockResult.OWNER_DIED, r);
        assertThat(seconds).as("seconds from the signaller's death to the waiter's return").isLessThan(timeoutSeconds / 4);
        t.join();
    }
}
