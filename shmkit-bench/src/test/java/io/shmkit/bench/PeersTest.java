package io.shmkit.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** The peers' own machinery: the ReentrantLock side's wait policy, the shared size sequence, the native floors' inputs. */
class PeersTest {

    @Test
    void spinThenParkPingPongLosesNoWakeup() {
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            LockBenchmark.Threads s = new LockBenchmark.Threads();
            s.setUp();
            try {
                for (int i = 0; i < 20_000; i++) {
                    s.ping();
                }
            } finally {
                s.tearDown();
            }
            assertThat(s.pong.isAlive()).isFalse();
            assertThat(s.turn).isZero();
        });
    }

    @Test
    void sizeSequenceStaysInItsRange() {
        long[] s = SizeSequence.of("8-1032");
        assertThat(s).hasSize(SizeSequence.LENGTH);
        assertThat(Arrays.stream(s).min().orElseThrow()).isGreaterThanOrEqualTo(8);
        assertThat(Arrays.stream(s).max().orElseThrow()).isLessThanOrEqualTo(1032);
        assertThat(SizeSequence.of(64, 64)).containsOnly(64);
        assertThat(SizeSequence.of("8-1032")).isEqualTo(s);
        assertThatThrownBy(() -> SizeSequence.of("1032")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sizes=1032");
        assertThatThrownBy(() -> SizeSequence.of(9, 8)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lo=9");
    }

    @Test
    void nativeReferenceUsesTheSameSizesAsJava(@TempDir Path dir) throws Exception {
        Path exe = compile(dir, "malloc_bench");
        for (long[] range : List.of(new long[] {8, 1032}, new long[] {8, 2048})) {
            assertThat(output(exe, "sizes", Long.toString(range[0]), Long.toString(range[1])))
                    .isEqualTo(SizeSequence.of(range[0], range[1]));
        }
    }

    @Test
    void nativeTableFloorHashesAndPicksKeysAsTheJavaFloor(@TempDir Path dir) throws Exception {
        Path exe = compile(dir, "table_floor");
        for (int key : new int[] {0, 5, 999_999}) {
            int seed = 12345 + key;
            SharedTableBenchmark.Cursor c = new SharedTableBenchmark.Cursor();
            c.x = seed;
            long[] java = {SharedTableBenchmark.Floor.hash(SharedTableBenchmark.key(key)), c.next(), c.next(), c.next(), c.next()};
            assertThat(output(exe, "hash", Integer.toString(key), Integer.toString(seed))).isEqualTo(java);
        }
    }

    /** Compiles {@code src/main/c/NAME.c} into {@code dir} (skips the test without a C compiler). */
    private static Path compile(Path dir, String name) throws Exception {
        Path src = Path.of("src/main/c/" + name + ".c").toAbsolutePath();
        Path exe = dir.resolve(name);
        Process cc;
        try {
            cc = new ProcessBuilder("cc", "-O2", "-o", exe.toString(), src.toString(), "-pthread").redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            assumeTrue(false, "no C compiler: " + e.getMessage());
            return null;
        }
        String out = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(cc.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(cc.exitValue()).as(out).isZero();
        return exe;
    }

    /** The program's output lines as numbers. */
    private static long[] output(Path exe, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(exe.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).start();
        long[] lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).lines().mapToLong(Long::parseLong).toArray();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        return lines;
    }
}
