package io.shmkit.bench;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.sync.ShmCondition;
import io.shmkit.sync.ShmMutex;
import io.shmkit.sync.ShmRwLock;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Locks side by side: uncontended {@link ShmMutex} against {@link ReentrantLock}, and a
 * cross-process ping-pong through {@link ShmMutex} + {@link ShmCondition} against two threads
 * ping-ponging with {@link ReentrantLock} + {@link java.util.concurrent.locks.Condition}.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -jar shmkit-bench/target/shmkit-benchmarks.jar LockBenchmark -f 1 -wi 3 -i 5 -w 1 -r 1
 * </pre>
 *
 * <p>Ping-pong runs under two wait policies, the same on both sides: {@code _park} forks set
 * {@code -Dshmkit.sync.spins=0 -Dshmkit.sync.awaitSpins=0} (passed on to the pong process), so
 * every waiter sleeps at once; {@code _spin} forks keep the defaults, and the ReentrantLock side
 * spins the same budget through {@link SpinThenPark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(jvmArgsAppend = LockBenchmark.NATIVE)
public class LockBenchmark {

    static final String NATIVE = "--enable-native-access=ALL-UNNAMED";
    /** Wait policy "park at once": no spinning in ShmMutex, ShmCondition and {@link SpinThenPark}. */
    static final String NO_SPIN = "-Dshmkit.sync.spins=0";
    static final String NO_AWAIT_SPIN = "-Dshmkit.sync.awaitSpins=0";

    // ---------------------------------------------------------------- uncontended

    @State(Scope.Thread)
    public static class Uncontended {
        Segment segment;
        ShmMutex shm;
        ShmRwLock rw;
        ReentrantLock juc;

        @Setup(Level.Trial)
        public void setUp() {
            segment = Segment.create(SegmentName.posix("shmkit-bench-lock-" + ProcessHandle.current().pid()), 64 * 1024);
            shm = ShmMutex.create(segment.memory(), segment.dataOffset());
            rw = ShmRwLock.create(segment.memory(), segment.dataOffset() + 4096);
            juc = new ReentrantLock();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            segment.closeAndUnlink();
        }
    }

    @Benchmark
    public void uncontendedShmMutex(Uncontended s) {
        ShmMutex m = s.shm;
        m.lock();
        m.unlock();
    }

    /** Uncontended read lock + read unlock of a {@link ShmRwLock} (this process's reader slot already claimed). */
    @Benchmark
    public void uncontendedShmRwLockRead(Uncontended s) {
        ShmRwLock l = s.rw;
        l.readLock();
        l.readUnlock();
    }

    @Benchmark
    public void uncontendedReentrantLock(Uncontended s) {
        ReentrantLock l = s.juc;
        l.lock();
        l.unlock();
    }

    // ---------------------------------------------------------------- two threads, one lock

    /** One lock shared by the benchmark's threads, guarding a counter (in the segment for ShmMutex). */
    @State(Scope.Benchmark)
    public static class Contended {
        Segment segment;
        java.lang.foreign.MemorySegment memory;
        long counterAt;
        ShmMutex shm;
        ReentrantLock juc;
        long jucCounter;

        @Setup(Level.Trial)
        public void setUp() {
            segment = Segment.create(SegmentName.posix("shmkit-bench-lock2-" + ProcessHandle.current().pid()), 64 * 1024);
            memory = segment.memory();
            shm = ShmMutex.create(memory, segment.dataOffset());
            counterAt = segment.dataOffset() + 128;
            juc = new ReentrantLock();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            segment.closeAndUnlink();
        }
    }

    /** Two threads taking one ShmMutex around a counter increment (time per lock+increment+unlock per thread). */
    @Benchmark
    @org.openjdk.jmh.annotations.Threads(2)
    public void contendedShmMutex_2t(Contended s) {
        ShmMutex m = s.shm;
        m.lock();
        try {
            s.memory.set(java.lang.foreign.ValueLayout.JAVA_LONG, s.counterAt,
                    s.memory.get(java.lang.foreign.ValueLayout.JAVA_LONG, s.counterAt) + 1);
        } finally {
            m.unlock();
        }
    }

    /** The same with a ReentrantLock around a field. */
    @Benchmark
    @org.openjdk.jmh.annotations.Threads(2)
    public void contendedReentrantLock_2t(Contended s) {
        ReentrantLock l = s.juc;
        l.lock();
        try {
            s.jucCounter++;
        } finally {
            l.unlock();
        }
    }

    // ---------------------------------------------------------------- ping-pong across processes

    @State(Scope.Benchmark)
    public static class CrossProcess {
        Segment segment;
        MemorySegment mem;
        long base;
        ShmMutex mutex;
        ShmCondition cond;
        Process child;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            String name = "shmkit-bench-pingpong-" + ProcessHandle.current().pid();
            Segment.unlink(SegmentName.posix(name));
            segment = Segment.create(SegmentName.posix(name), 64 * 1024);
            mem = segment.memory();
            base = segment.dataOffset();
            mutex = ShmMutex.create(mem, base + PingPong.MUTEX);
            cond = ShmCondition.create(mem, base + PingPong.COND);
            String java = ProcessHandle.current().info().command().orElse("java");
            List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
            // pass spin settings (-Dshmkit.sync.awaitSpins=..., -Dshmkit.sync.spins=...) on to the pong process
            for (String key : System.getProperties().stringPropertyNames()) {
                if (key.startsWith("shmkit.sync.")) {
                    cmd.add("-D" + key + "=" + System.getProperty(key));
                }
            }
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), PingPong.class.getName(), name, Long.toString(base)));
            child = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String line = r.readLine();
            if (!"READY".equals(line)) {
                child.destroyForcibly();
                throw new IllegalStateException("pong process said " + line);
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            mutex.lock();
            mem.set(ValueLayout.JAVA_LONG, base + PingPong.STOP, 1L);
            cond.signalAll();
            mutex.unlock();
            if (!child.waitFor(5, TimeUnit.SECONDS)) {
                child.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            segment.closeAndUnlink();
        }
    }

    /** One round trip (ping, then the answer from the other process), both sides sleep at once. */
    @Benchmark
    @Fork(jvmArgsAppend = {NATIVE, NO_SPIN, NO_AWAIT_SPIN})
    public void pingPongShm2Processes_park(CrossProcess s) {
        PingPong.ping(s.mutex, s.cond, s.mem, s.base);
    }

    /** The same with the default policy: spin (adaptive budget), then sleep on the futex. */
    @Benchmark
    @Fork(jvmArgsAppend = NATIVE)
    public void pingPongShm2Processes_spin(CrossProcess s) {
        PingPong.ping(s.mutex, s.cond, s.mem, s.base);
    }

    // ---------------------------------------------------------------- ping-pong between threads

    /**
     * Two threads of this JVM ping-ponging with ReentrantLock + Condition under the wait policy
     * of the fork ({@link SpinThenPark}: the same spin limits as ShmMutex and ShmCondition).
     */
    @State(Scope.Benchmark)
    public static class Threads {
        final SpinThenPark sync = new SpinThenPark();
        int turn;
        boolean stop;
        Thread pong;

        @Setup(Level.Trial)
        public void setUp() {
            pong = new Thread(() -> {
                sync.lock();
                try {
                    while (!stop) {
                        if (turn == 1) {
                            turn = 0;
                            sync.signal();
                        }
                        sync.await(TimeUnit.MILLISECONDS.toNanos(100));
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    sync.unlock();
                }
            }, "pong");
            pong.setDaemon(true);
            pong.start();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException {
            sync.lock();
            stop = true;
            sync.signalAll();
            sync.unlock();
            pong.join(5000);
        }

        void ping() throws InterruptedException {
            sync.lock();
            try {
                turn = 1;
                sync.signal();
                while (turn != 0) {
                    sync.await(0);
                }
            } finally {
                sync.unlock();
            }
        }
    }

    /** One round trip between two threads, ReentrantLock + Condition, both sides park at once. */
    @Benchmark
    @Fork(jvmArgsAppend = {NATIVE, NO_SPIN, NO_AWAIT_SPIN})
    public void pingPongJuc2Threads_park(Threads s) throws InterruptedException {
        s.ping();
    }

    /** The same, both sides spinning ShmMutex's and ShmCondition's budget before they park. */
    @Benchmark
    @Fork(jvmArgsAppend = NATIVE)
    public void pingPongJuc2Threads_spin(Threads s) throws InterruptedException {
        s.ping();
    }

    // ---------------------------------------------------------------- ping-pong, shm locks, threads

    @State(Scope.Benchmark)
    public static class ShmThreads {
        Segment segment;
        MemorySegment mem;
        long base;
        ShmMutex mutex;
        ShmCondition cond;
        Thread pong;

        @Setup(Level.Trial)
        public void setUp() {
            String name = "shmkit-bench-pingpong-t-" + ProcessHandle.current().pid();
            Segment.unlink(SegmentName.posix(name));
            segment = Segment.create(SegmentName.posix(name), 64 * 1024);
            mem = segment.memory();
            base = segment.dataOffset();
            mutex = ShmMutex.create(mem, base + PingPong.MUTEX);
            cond = ShmCondition.create(mem, base + PingPong.COND);
            pong = new Thread(() -> PingPong.pongLoop(mutex, cond, mem, base), "shm-pong");
            pong.setDaemon(true);
            pong.start();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException {
            mutex.lock();
            mem.set(ValueLayout.JAVA_LONG, base + PingPong.STOP, 1L);
            cond.signalAll();
            mutex.unlock();
            pong.join(5000);
            segment.closeAndUnlink();
        }
    }

    /** For reference: the shm ping-pong between two threads of one JVM, sleeping at once. */
    @Benchmark
    @Fork(jvmArgsAppend = {NATIVE, NO_SPIN, NO_AWAIT_SPIN})
    public void pingPongShm2Threads_park(ShmThreads s) {
        PingPong.ping(s.mutex, s.cond, s.mem, s.base);
    }

    /** For reference: the shm ping-pong between two threads of one JVM, default policy. */
    @Benchmark
    @Fork(jvmArgsAppend = NATIVE)
    public void pingPongShm2Threads_spin(ShmThreads s) {
        PingPong.ping(s.mutex, s.cond, s.mem, s.base);
    }
}
