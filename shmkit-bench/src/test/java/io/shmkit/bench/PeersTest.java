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

/** The peers' own machinery: the ReentrantLock side's wait policy and the shared size sequence. */
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
        Path src = Path.of("src/main/c/malloc_bench.c").toAbsolutePath();
        Path exe = dir.resolve("malloc_bench");
        Process cc;
        try {
            cc = new ProcessBuilder("cc", "-O2", "-o", exe.toString(), src.toString(), "-pthread").redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            assumeTrue(false, "no C compiler: " + e.getMessage());
            return;
        }
        String out = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(cc.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(cc.exitValue()).as(out).isZero();
        for (long[] range : List.of(new long[] {8, 1032}, new long[] {8, 2048})) {
            Process p = new ProcessBuilder(exe.toString(), "sizes", Long.toString(range[0]), Long.toString(range[1])).start();
            long[] fromC = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).lines().mapToLong(Long::parseLong).toArray();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(fromC).isEqualTo(SizeSequence.of(range[0], range[1]));
        }
    }
}
