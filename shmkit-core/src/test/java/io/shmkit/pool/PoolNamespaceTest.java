package io.shmkit.pool;

import io.shmkit.testing.ChildJvm;
import io.shmkit.testing.Namespaces;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The container restart: the pools' owner runs as pid 1 of a pid namespace and is SIGKILLed;
 * its successor, pid 1 of a new pid namespace (the same pid), resumes every object. While the
 * first one lives, a second one (also pid 1, elsewhere) is refused with the owner's pid.
 */
class PoolNamespaceTest {

    @Test
    void resumesAsPid1InANewPidNamespaceAfterThePreviousPid1WasKilled() throws Exception {
        List<String> ns = Namespaces.newPidNamespace();
        PoolConfig config = PoolFixtures.config("ns", 1 << 20, 1);
        String arg = PoolFixtures.arg(config);
        int n = 500;
        try {
            try (ChildJvm first = ChildJvm.start(ns, PoolZoneChild.class, "create", arg, "" + n)) {
                assertThat(first.awaitLine("READY", Duration.ofSeconds(60))).startsWith("READY pid=1 mode=COLD_START");
                try (ChildJvm second = ChildJvm.start(ns, PoolZoneChild.class, "resume", arg, "" + n)) {
                    assertThat(second.awaitLine("REFUSED", Duration.ofSeconds(60)))
                            .contains("owned by live pid 1").contains("one live owner");
                }
                first.kill9(); // kills unshare; --kill-child takes the pid-1 JVM with it
            }
            try (ChildJvm next = ChildJvm.start(ns, PoolZoneChild.class, "resume", arg, "" + n)) {
                long gold = (long) n * (n - 1) / 2;
                assertThat(next.awaitLine("RESUMED", Duration.ofSeconds(60)))
                        .isEqualTo("RESUMED mode=RESUME found=" + n + " gold=" + gold + " pid=1");
            }
        } finally {
            PoolStartup.removeAll(config, false);
        }
    }
}
