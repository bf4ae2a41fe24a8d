package io.shmkit.testing;

import java.util.concurrent.atomic.AtomicInteger;

/** Unique segment names and System V keys per test run, so parallel or leftover runs never collide. */
public final class TestNames {

    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final long PID = ProcessHandle.current().pid();

    private TestNames() {
    }

    /** A POSIX segment name like {@code shmkit-test-<pid>-<n>-<tag>}. */
    public static String unique(String tag) {
        return "shmkit-test-" + PID + "-" + COUNTER.incrementAndGet() + "-" + tag;
    }

    /** A System V key unlikely to be used by anything else: derived from pid and a counter. */
    public static int uniqueKey() {
        return 0x5A000000 | (int) ((PID & 0xFFFF) << 8) | (COUNTER.incrementAndGet() & 0xFF);
    }
}
