package io.shmkit.cli.torture;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CI-sized torture run: 200 SIGKILLs of worker JVMs that work every structure kind at once
 * (mutex and condition sections, rwlock, table incr/set/delete, FixedPool in three modes, slab
 * in two, bump in two, ring, regions over a registry, object pools with transactions, segment
 * grow), some in fresh pid namespaces when this machine allows; zero violations, kills landing
 * inside sections and transactions, recoveries of several kinds, and no segment and no worker
 * JVM left behind.
 */
class TortureCiTest {

    @Test
    void twoHundredKillsAcrossEveryStructureWithoutAViolation() throws Exception {
        StringWriter text = new StringWriter();
        long seed = 13;
        TortureEngine.Result r = new TortureEngine(200, 4, seed, 600_000, "auto", new PrintWriter(text, true)).run();
        System.out.print(text);
        assertThat(r.violations()).as(text.toString()).isZero();
        assertThat(r.kills()).isGreaterThanOrEqualTo(200);
        assertThat(r.checks()).isGreaterThan(r.kills() * Exercisers.all().size());
        assertThat(r.killsByPlace().keySet()).as("kills landed inside sections and transactions")
                .contains("pool transaction").hasSizeGreaterThanOrEqualTo(8);
        assertThat(text.toString()).contains("pool sections resumed after their owner was killed",
                "dead workers' regions reclaimed");
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).count()).isZero();
        try (var shm = Files.list(Path.of("/dev/shm"))) {
            assertThat(shm.map(Path::toString).filter(n -> n.contains("shmkit-torture-" + ProcessHandle.current().pid())))
                    .isEmpty();
        }
    }
}
