package io.shmkit.bench.report;

import jdk.jfr.Recording;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ProfilesTest {

    private static volatile long sink;

    @Test
    void summarisesExecutionSamplesByTopFrame(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("x").resolve("profile.jfr");
        java.nio.file.Files.createDirectories(file.getParent());
        try (Recording r = new Recording()) {
            r.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(10));
            r.start();
            long end = System.nanoTime() + 400_000_000L;
            while (System.nanoTime() < end) {
                spin();
            }
            r.stop();
            r.dump(file);
        }
        assertThat(Profiles.find(dir)).isEqualTo(file);
        Map<String, Object> s = Profiles.summarise("X.m", file);
        assertThat(s.get("benchmark")).isEqualTo("X.m");
        assertThat(Json.num(s.get("samples"))).isPositive();
        assertThat(Json.list(s.get("top"))).isNotEmpty().hasSizeLessThanOrEqualTo(Profiles.TOP);
    }

    private static void spin() {
        long x = sink;
        for (int i = 0; i < 10_000; i++) {
            x = x * 31 + i;
        }
        sink = x;
    }
}
