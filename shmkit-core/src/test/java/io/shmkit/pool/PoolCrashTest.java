package io.shmkit.pool;

import io.shmkit.testing.ChildJvm;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;

import static io.shmkit.pool.PoolFixtures.GOLD;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * SIGKILL at random moments while a child allocates, frees and runs transactions; after each
 * kill the pools resume, verify, keep the total gold, and hold every allocation the child
 * reported as done. Three streams in parallel, 36 kills each (108 in all).
 */
class PoolCrashTest {

    static final int STREAMS = Integer.getInteger("pool.crash.streams", 3);
    static final int KILLS_PER_STREAM = Integer.getInteger("pool.crash.kills", 36);

    @Test
    void resumesAfterSigkillDuringAllocateFreeAndTransactions() throws Exception {
        ExecutorService ex = Executors.newFixedThreadPool(3);
        try {
            List<Future<Integer>> streams = new java.util.ArrayList<>();
            for (int s = 0; s < STREAMS; s++) {
                String tag = "c" + s;
                streams.add(ex.submit(() -> stream(tag)));
            }
            int kills = 0;
            for (Future<Integer> f : streams) {
                kills += f.get();
            }
            assertThat(kills).isEqualTo(STREAMS * KILLS_PER_STREAM);
        } finally {
            ex.shutdownNow();
        }
    }

    private int stream(String tag) throws Exception {
        PoolConfig config = PoolFixtures.config(tag, 1 << 20, 2);
        Set<Long> mustExist = new HashSet<>();
        int kills = 0;
        boolean sawRollbackOrRecovery = false;
        try {
            for (int i = 0; i < KILLS_PER_STREAM; i++) {
                java.nio.file.Path facts = java.nio.file.Files.createTempFile("pool-crash-facts", ".txt");
                try (ChildJvm child = ChildJvm.start(PoolCrashChild.class, PoolFixtures.arg(config), facts.toString())) {
                    child.awaitLine("STARTED", Duration.ofSeconds(60));
                    Thread.sleep(ThreadLocalRandom.current().nextInt(20, 250));
                    child.kill9();
                    kills++;
                    List<String> out = java.nio.file.Files.readAllLines(facts);
                    for (String line : out) {
                        if (line.startsWith("ALLOC ")) {
                            mustExist.add(Long.parseLong(line.substring(6)));
                        } else if (line.startsWith("FREEING ")) {
                            mustExist.remove(Long.parseLong(line.substring(8))); // may be gone from now on
                        }
                    }
                } finally {
                    java.nio.file.Files.deleteIfExists(facts);
                }
                try (Pools pools = Pools.start(config, List.of(PoolFixtures.players(PoolCrashChild.CAPACITY),
                        PoolFixtures.items(PoolCrashChild.CAPACITY)))) {
                    assertThat(pools.startMode()).isEqualTo(StartMode.RESUME);
                    sawRollbackOrRecovery |= pools.startReport().stream().anyMatch(s -> s.contains("crash"));
                    pools.verify();
                    Pool players = pools.pool(3);
                    long[] total = {0};
                    players.forEach((h, r) -> total[0] += (long) GOLD.get(r, 0L));
                    assertThat(total[0]).as("total gold after kill %d of %s (%s)", kills, tag, pools.startReport())
                            .isEqualTo(PoolCrashChild.TOTAL);
                    for (long k : mustExist) {
                        assertThat(players.find(k)).as("committed allocation of key %d (%s)", k, pools.startReport())
                                .isNotEqualTo(Handles.NONE);
                    }
                }
            }
            assertThat(sawRollbackOrRecovery).as("some kill interrupted a change that resume repaired").isTrue();
        } finally {
            PoolStartup.removeAll(config, false);
        }
        return kills;
    }
}
