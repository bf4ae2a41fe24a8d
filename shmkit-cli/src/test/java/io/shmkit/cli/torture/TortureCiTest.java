package io.shmkit.cli.torture;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CI-sized torture run: 200 SIGKILLs of worker JVMs (mutex sections, table incr/set,
 * FixedPool LOCKED and THREAD_CACHED), some in fresh pid namespaces when this machine allows,
 * zero violations, no segment and no worker JVM left behind.
 */
class TortureCiTest {

    @Test
    void twoHundredKillsWithoutAViolation() throws Exception {
        StringWriter text = new StringWriter();
        long seed = 13;
        TortureEngine.Result r = new TortureEngine(200, 4, seed, 240_000, "auto", new PrintWriter(text, true)).run();
        System.out.print(text);
        assertThat(r.violations()).as(text.toString()).isZero();
        assertThat(r.kills()).isGreaterThanOrEqualTo(200);
        assertThat(r.checks()).isGreaterThan(r.kills());
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).count()).isZero();
        try (var shm = Files.list(Path.of("/dev/shm"))) {
            assertThat(shm.map(Path::toString).filter(n -> n.contains("shmkit-torture-" + ProcessHandle.current().pid())))
                    .isEmpty();
        }
    }
}
