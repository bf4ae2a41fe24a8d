package io.shmkit.cli.torture;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** What the torture passes on from a namespaced worker's error output. */
class WorkersTest {

    /**
     * A SIGKILLed child of {@code unshare -f --kill-child} makes util-linux 2.38's unshare print
     * "sigprocmask unblock failed" (it cannot re-raise SIGKILL on itself): one line per kill in a
     * 2,000-kill run. That line is dropped; everything else the worker says is passed on.
     */
    @Test
    void theUnshareReraiseLineIsDroppedAndTheWorkersOwnLinesPassOn() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("unshare", "-p", "-f", "--mount-proc", "--kill-child",
                "sh", "-c", "echo worker-says-this >&2; exec sleep 60");
        Process p;
        try {
            p = pb.redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (java.io.IOException e) {
            Assumptions.abort("unshare is not installed: " + e.getMessage());
            return;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Thread pump = Workers.passErrorsOn(p, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (p.descendants().findAny().isEmpty() && p.isAlive() && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        Thread.sleep(200); // the line is written before the exec
        p.descendants().forEach(ProcessHandle::destroyForcibly); // SIGKILL from outside, as the torture kills
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        pump.join(10_000);
        String passed = bytes.toString(StandardCharsets.UTF_8);
        Assumptions.assumeTrue(passed.contains("worker-says-this"),
                "unshare -p refused here (" + passed.strip() + "): the namespace workers do not run on this machine");
        assertThat(passed).doesNotContain("sigprocmask");
        assertThat(passed.lines()).containsExactly("worker-says-this");
    }
}
