package io.shmkit.pool;

import io.shmkit.testing.ChildJvm;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A read-only reader in another process than the owner: it never blocks the owner, and every
 * copy it reports as consistent is one the owner committed (gold and level written together
 * in one transaction always agree in such a copy).
 */
class PoolReaderTest {

    @Test
    void readerInAnotherProcessSeesOnlyConsistentObjects() throws Exception {
        PoolConfig config = PoolFixtures.config("reader", 1 << 20, 1);
        int n = 8;
        try (ChildJvm owner = ChildJvm.start(PoolWriterChild.class, PoolFixtures.arg(config), "" + n)) {
            owner.awaitLine("READY", Duration.ofSeconds(60));
            try (PoolReader reader = PoolReader.open(config)) {
                PoolReader.Info info = reader.info();
                assertThat(info.types()).singleElement().satisfies(t -> assertThat(t.used()).isEqualTo(n));
                assertThat(info.owner().label()).isEqualTo("alive");
                MemorySegment view = MemorySegment.ofArray(new long[(int) PoolFixtures.PLAYER.byteSize() / 8]);
                long consistent = 0;
                long refused = 0;
                long seenCommits = info.commits();
                long start = System.nanoTime();
                long giveUp = start + Duration.ofSeconds(60).toNanos(); // bound: never hang on a loaded machine
                while ((System.nanoTime() - start < Duration.ofSeconds(2).toNanos() || consistent < 1000)
                        && System.nanoTime() - giveUp < 0) {
                    for (int slot = 0; slot < n; slot++) {
                        if (reader.readObject(Handles.of(3, slot, 1), view)) {
                            consistent++;
                            long gold = (long) PoolFixtures.GOLD.get(view, 0L);
                            int level = (int) PoolFixtures.LEVEL.get(view, 0L);
                            assertThat(level).as("torn object at slot %d", slot).isEqualTo((int) gold);
                        } else {
                            refused++;
                        }
                    }
                }
                assertThat(consistent).isPositive();
                assertThat(reader.info().commits()).as("the owner kept committing while read").isGreaterThan(seenCommits);
                System.out.println("reader: " + consistent + " consistent copies, " + refused + " retried out (being written)");
            }
        } finally {
            PoolStartup.removeAll(config, false);
        }
    }
}
