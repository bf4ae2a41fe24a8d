package io.shmkit.sync;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.ChildJvm;
import io.shmkit.testing.TestNames;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The shared scaffold of the lock process tests (mutex, rwlock, condition), on {@link ChildJvm}:
 * a fresh POSIX segment per test, child JVMs running a {@link SyncChild} mode on it, the go
 * flag the counting modes wait for, and timing of a recovery. {@link #close()} removes the
 * segment; children are closed by the tests (try-with-resources), which kills any still running.
 */
final class LockProcesses implements AutoCloseable {

    /** How long a child may take to start and print READY or LOCKED. */
    static final Duration START = Duration.ofSeconds(60);
    /** How long a child may take to exit after it printed DONE. */
    static final Duration EXIT = Duration.ofSeconds(30);

    final String name;
    final Segment segment;
    final MemorySegment mem;
    /** The first data offset of the segment: where tests put their lock. */
    final long base;

    private LockProcesses(String tag) {
        this.name = TestNames.unique(tag);
        this.segment = Segment.create(SegmentName.posix(name), 64 * 1024);
        this.mem = segment.memory();
        this.base = segment.dataOffset();
    }

    /** A new 64 KiB segment named after {@code tag}. */
    static LockProcesses create(String tag) {
        return new LockProcesses(tag);
    }

    /** Starts a child running {@code SyncChild <mode> <segment> <args...>}. */
    ChildJvm start(String mode, Object... args) {
        List<String> a = new ArrayList<>();
        a.add(mode);
        a.add(name);
        for (Object o : args) {
            a.add(String.valueOf(o));
        }
        return ChildJvm.start(SyncChild.class, a.toArray(String[]::new));
    }

    /** Starts a child and waits until it printed READY. */
    ChildJvm startReady(String mode, Object... args) throws InterruptedException {
        ChildJvm c = start(mode, args);
        c.awaitLine("READY", START);
        return c;
    }

    /** Waits until each child printed READY (children started together, waited for together). */
    static void awaitReady(ChildJvm... children) throws InterruptedException {
        for (ChildJvm c : children) {
            c.awaitLine("READY", START);
        }
    }

    /** A child that took a lock ({@code hold-mutex}, {@code hold-write}, {@code hold-read}) and the line it printed. */
    record Holder(ChildJvm child, String line) implements AutoCloseable {
        @Override
        public void close() throws InterruptedException {
            child.close();
        }
    }

    /** Starts a child that takes the lock at {@code offset} and holds it until killed; waits for its LOCKED line. */
    Holder hold(String mode, long offset) throws InterruptedException {
        ChildJvm c = start(mode, offset);
        try {
            return new Holder(c, c.awaitLine("LOCKED", START));
        } catch (RuntimeException | Error | InterruptedException e) {
            c.close();
            throw e;
        }
    }

    /** Sets the go flag (data+16) that the counting modes ({@code count-mutex}, {@code rw-mix}) wait for. */
    void go(long data) {
        mem.set(ValueLayout.JAVA_LONG, data + 16, 1L);
    }

    /** The DONE line of each child, in order. */
    static List<String> awaitDone(Duration timeout, ChildJvm... children) throws InterruptedException {
        List<String> lines = new ArrayList<>();
        for (ChildJvm c : children) {
            lines.add(c.awaitLine("DONE", timeout));
        }
        return lines;
    }

    /** Asserts that every child exits with status 0. */
    static void assertExitClean(ChildJvm... children) throws InterruptedException {
        for (ChildJvm c : children) {
            assertEquals(0, c.waitFor(EXIT), "exit status of child " + c.pid());
        }
    }

    /** What a call returned and how long it took, in milliseconds. */
    record Timed<T>(T value, long millis) {
    }

    /** A call to measure: a lock acquisition, or a wait for a thread's result. */
    interface Call<T> {
        T call() throws Exception;
    }

    /** Runs {@code call} and measures it (for "recovered within so many ms" assertions). */
    static <T> Timed<T> timed(Call<T> call) throws Exception {
        long t0 = System.nanoTime();
        T v = call.call();
        return new Timed<>(v, (System.nanoTime() - t0) / 1_000_000);
    }

    long getLong(long at) {
        return mem.get(ValueLayout.JAVA_LONG, at);
    }

    @Override
    public void close() {
        segment.closeAndUnlink();
    }
}
