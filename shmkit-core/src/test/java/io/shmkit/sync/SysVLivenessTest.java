package io.shmkit.sync;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.ChildJvm;
import io.shmkit.testing.Namespaces;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * System V segments have no file to hold a liveness lock: owners are recognised as dead from
 * pid evidence within the same pid namespace only, and never taken over from another one
 * (fail closed: such a dead owner wedges the lock, timed calls still return).
 */
class SysVLivenessTest {

    private SegmentName name;
    private Segment segment;
    private long mutexOff;
    private ShmMutex mutex;

    @BeforeEach
    void setUp() {
        name = SegmentName.sysv(TestNames.uniqueKey());
        segment = Segment.create(name, 1 << 16);
        mutexOff = segment.reserve("mutex", 0x7F06, ShmMutex.SIZE, 64).offset();
        mutex = ShmMutex.create(segment.memory(), mutexOff);
    }

    @AfterEach
    void tearDown() {
        segment.closeAndUnlink();
    }

    private ChildJvm holder(List<String> prefix) throws InterruptedException {
        ChildJvm child = ChildJvm.start(prefix, LivenessChild.class, "hold-mutex", name.toString(), "" + mutexOff);
        assertThat(child.awaitLine("LOCKED", Duration.ofSeconds(90))).startsWith("LOCKED ACQUIRED");
        return child;
    }

    @Test
    void deadOwnerInTheSamePidNamespaceIsDetected() throws Exception {
        try (ChildJvm child = holder(List.of())) {
            assertEquals(LockResult.TIMED_OUT, mutex.lock(200, TimeUnit.MILLISECONDS));
            child.kill9();
        }
        assertEquals(LockResult.OWNER_DIED, mutex.lock(60, TimeUnit.SECONDS));
        assertThat(mutex.lastRecovery()).contains("no longer exists");
        mutex.markConsistent();
        mutex.unlock();
    }

    @Test
    void ownerInAnotherPidNamespaceIsNeverTakenOverAliveOrDead() throws Exception {
        List<String> ns = Namespaces.newPidNamespace();
        try (ChildJvm child = holder(ns)) {
            assertEquals(LockResult.TIMED_OUT, mutex.lock(300, TimeUnit.MILLISECONDS));
            child.kill9();
        }
        // dead now, but nothing here can prove it: fail closed, and the timed call returns
        assertEquals(LockResult.TIMED_OUT, mutex.lock(300, TimeUnit.MILLISECONDS));
        assertEquals(io.shmkit.segment.Liveness.UNKNOWN, mutex.ownerLiveness());
        assertEquals(0, mutex.takeovers());
    }
}
