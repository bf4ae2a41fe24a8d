package io.shmkit.sync;

import io.shmkit.testing.ChildJvm;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link ShmCondition} between two processes: ping-pong through a mutex and a condition. */
class ShmConditionProcessTest {

    /** The ping side: {@code rounds} times, set turn=1, signal (handing over to the mutex), wait for turn=0. */
    static void ping(ShmMutex m, ShmCondition c, MemorySegment mem, long data, long rounds) {
        for (long i = 0; i < rounds; i++) {
            m.lock();
            try {
                mem.set(ValueLayout.JAVA_LONG, data, 1L);
                c.signal(m);
                while (mem.get(ValueLayout.JAVA_LONG, data) != 0) {
                    c.await(m);
                }
            } finally {
                m.unlock();
            }
        }
    }

    /** The pong side: {@code rounds} times, wait for turn=1, count, set turn=0, signal (plain wake). */
    static void pong(ShmMutex m, ShmCondition c, MemorySegment mem, long data, long rounds) {
        for (long i = 0; i < rounds; i++) {
            m.lock();
            try {
                while (mem.get(ValueLayout.JAVA_LONG, data) != 1) {
                    c.await(m);
                }
                mem.set(ValueLayout.JAVA_LONG, data + 8, mem.get(ValueLayout.JAVA_LONG, data + 8) + 1);
                mem.set(ValueLayout.JAVA_LONG, data, 0L);
                c.signal();
            } finally {
                m.unlock();
            }
        }
    }

    @Test
    void twoProcessesPingPongWithoutLosingASignal() throws Exception {
        try (LockProcesses procs = LockProcesses.create("cond")) {
            MemorySegment mem = procs.mem;
            long base = procs.base;
            ShmMutex m = ShmMutex.create(mem, base);
            ShmCondition c = ShmCondition.create(mem, base + 64);
            long data = base + 128;
            int rounds = 20_000;
            try (ChildJvm child = procs.startReady("pong", base, base + 64, data, rounds)) {
                ping(m, c, mem, data, rounds);
                LockProcesses.awaitDone(Duration.ofSeconds(60), child);
                LockProcesses.assertExitClean(child);
            }
            assertEquals(rounds, mem.get(ValueLayout.JAVA_LONG, data + 8));
        }
    }
}
