package io.shmkit.sync;

import io.shmkit.internal.Libc;
import io.shmkit.internal.Mem;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Shared (not process-private) futex wait and wake, with the {@code struct timespec} for the
 * timeout in a per-thread off-heap buffer. Slow paths only. Package-private.
 */
final class Futex {

    private Futex() {
    }

    /** Longest a waiter sleeps before it re-checks whether the owner still lives. */
    static final long CHECK_INTERVAL_NANOS = 5_000_000L;

    private static final ThreadLocal<MemorySegment> TIMESPEC =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(16, 8));

    /**
     * Sleeps while the int at {@code address} equals {@code expected}, at most {@code nanos}
     * (clamped to at least 1 µs). Returns on wake, timeout, value change or signal; callers
     * always re-check their condition.
     */
    static void await(long address, int expected, long nanos) {
        long n = Math.max(1_000L, nanos);
        MemorySegment ts = TIMESPEC.get();
        Mem.setLong(ts, 0, n / 1_000_000_000L);
        Mem.setLong(ts, 8, n % 1_000_000_000L);
        Libc.futexWait(address, expected, ts.address());
    }

    /** Sleeps without a timeout while the int at {@code address} equals {@code expected}. */
    static void await(long address, int expected) {
        Libc.futexWait(address, expected, 0L);
    }

    static void wake(long address, int count) {
        Libc.futexWake(address, count);
    }
}
