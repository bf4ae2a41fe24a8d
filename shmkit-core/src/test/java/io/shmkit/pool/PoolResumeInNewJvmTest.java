package io.shmkit.pool;

import io.shmkit.testing.ChildJvm;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Cold start in one JVM, resume in another: every object, handle and key lookup intact. */
class PoolResumeInNewJvmTest {

    @Test
    void everyObjectHandleAndKeyLookupSurvivesIntoANewJvm() throws Exception {
        PoolConfig config = PoolFixtures.config("newjvm", 1 << 20, 2);
        int n = 300;
        List<long[]> objects = new ArrayList<>(); // key, player handle, item handle
        List<Long> freed = new ArrayList<>();
        try {
            try (ChildJvm child = ChildJvm.start(PoolZoneChild.class, "populate", PoolFixtures.arg(config), "" + n)) {
                for (int i = 0; i < n; i++) {
                    String[] f = child.awaitLine("OBJ ", Duration.ofSeconds(60)).split(" ");
                    objects.add(new long[]{Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3])});
                }
                for (int i = 0; i < n; i += 3) {
                    freed.add(Long.parseLong(child.awaitLine("FREED ", Duration.ofSeconds(60)).substring(6)));
                }
                child.awaitLine("DONE", Duration.ofSeconds(60));
                assertThat(child.waitFor(Duration.ofSeconds(60))).isZero();
            }
            try (Pools pools = Pools.start(config, List.of(PoolFixtures.players(n), PoolFixtures.items(n)))) {
                assertThat(pools.startMode()).isEqualTo(StartMode.RESUME);
                Pool players = pools.pool(3);
                Pool items = pools.pool(4);
                assertThat(players.used()).isEqualTo(n - freed.size());
                assertThat(items.used()).isEqualTo(n);
                for (int i = 0; i < n; i++) {
                    long key = objects.get(i)[0];
                    long h = objects.get(i)[1];
                    long item = objects.get(i)[2];
                    assertThat((long) PoolFixtures.ITEM_OWNER.get(items.get(item), 0L)).isEqualTo(h);
                    if (freed.contains(h)) {
                        assertThat(players.find(key)).isEqualTo(Handles.NONE);
                        assertThatThrownBy(() -> players.get(h)).isInstanceOf(StaleHandleException.class);
                    } else {
                        assertThat(players.find(key)).isEqualTo(h);
                        assertThat(players.key(h)).isEqualTo(key);
                        assertThat((long) PoolFixtures.GOLD.get(players.get(h), 0L)).isEqualTo((long) i);
                    }
                }
                pools.verify();
            }
        } finally {
            PoolStartup.removeAll(config, false);
        }
    }
}
