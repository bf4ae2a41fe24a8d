package io.shmkit.bench;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.sync.ShmCondition;
import io.shmkit.sync.ShmMutex;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

/**
 * The shared ping-pong protocol of {@link LockBenchmark}, and the main of the child process
 * that plays "pong": {@code PingPong <segment-name> <base-offset>}.
 *
 * <p>Layout at {@code base}: mutex (64 bytes), condition (64), then {@code turn} (long: 1 =
 * ping sent, 0 = answered) and {@code stop} (long).
 */
public final class PingPong {

    static final long MUTEX = 0;
    static final long COND = 64;
    static final long TURN = 128;
    static final long STOP = 136;
    static final long BYTES = 192;

    private PingPong() {
    }

    /** One round trip: send a ping and wait for the answer. */
    static void ping(ShmMutex m, ShmCondition c, MemorySegment mem, long base) {
        m.lock();
        try {
            mem.set(ValueLayout.JAVA_LONG, base + TURN, 1L);
            c.signal(m);
            while (mem.get(ValueLayout.JAVA_LONG, base + TURN) != 0) {
                c.await(m);
            }
        } finally {
            m.unlock();
        }
    }

    /** Answers pings until the stop word is set. */
    static void pongLoop(ShmMutex m, ShmCondition c, MemorySegment mem, long base) {
        m.lock();
        try {
            while (mem.get(ValueLayout.JAVA_LONG, base + STOP) == 0) {
                if (mem.get(ValueLayout.JAVA_LONG, base + TURN) == 1) {
                    mem.set(ValueLayout.JAVA_LONG, base + TURN, 0L);
                    c.signal(m);
                }
                c.await(m, 100, TimeUnit.MILLISECONDS);
            }
        } finally {
            m.unlock();
        }
    }

    public static void main(String[] args) {
        try (Segment seg = Segment.open(SegmentName.posix(args[0]))) {
            MemorySegment mem = seg.memory();
            long base = Long.parseLong(args[1]);
            ShmMutex m = ShmMutex.open(mem, base + MUTEX);
            ShmCondition c = ShmCondition.open(mem, base + COND);
            System.out.println("READY");
            System.out.flush();
            pongLoop(m, c, mem, base);
        }
    }
}
