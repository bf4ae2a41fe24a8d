package io.shmkit.pool;

import io.shmkit.LayoutMismatchException;
import io.shmkit.SegmentInUseException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static io.shmkit.pool.PoolFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PoolsTest {

    private final List<PoolConfig> made = new ArrayList<>();

    private PoolConfig config() {
        PoolConfig c = PoolFixtures.config("unit", 1 << 20, 2);
        made.add(c);
        return c;
    }

    @AfterEach
    void cleanUp() {
        for (PoolConfig c : made) {
            PoolStartup.removeAll(c, false);
        }
    }

    @Test
    void coldStartThenResumeKeepsObjectsHandlesAndKeys() {
        PoolConfig c = config();
        long h1, h2, item;
        try (Pools pools = Pools.start(c, List.of(players(1000), items(5000)))) {
            assertThat(pools.startMode()).isEqualTo(StartMode.COLD_START);
            Pool p = pools.pool(3);
            h1 = p.allocate(1001L);
            h2 = p.forceGet(1002L);
            GOLD.set(p.get(h1), 0L, 50L);
            GOLD.set(p.get(h2), 0L, 70L);
            item = pools.pool(4).allocate();
            ITEM_OWNER.set(pools.pool(4).get(item), 0L, h1);
            pools.verify();
        }
        try (Pools pools = Pools.start(c, List.of(players(1000), items(5000)))) {
            assertThat(pools.startMode()).isEqualTo(StartMode.RESUME);
            Pool p = pools.pool(3);
            assertThat(p.find(1001L)).isEqualTo(h1);
            assertThat(p.forceGet(1002L)).isEqualTo(h2);
            assertThat((long) GOLD.get(p.get(h1), 0L)).isEqualTo(50L);
            assertThat((long) ITEM_OWNER.get(pools.pool(4).get(item), 0L)).isEqualTo(h1);
            assertThat(p.used()).isEqualTo(2);
            pools.verify();
        }
    }

    @Test
    void staleHandleIsDetectedAfterFreeAndReuse() {
        try (Pools pools = Pools.start(config(), List.of(items(10)))) {
            Pool items = pools.pool(4);
            long h = items.allocate();
            items.free(h);
            assertThatThrownBy(() -> items.get(h)).isInstanceOf(StaleHandleException.class).hasMessageContaining("is free");
            long h2 = items.allocate();
            assertThat(Handles.slot(h2)).isEqualTo(Handles.slot(h));
            assertThatThrownBy(() -> items.get(h)).isInstanceOf(StaleHandleException.class)
                    .hasMessageContaining("now holds generation " + Handles.generation(h2));
            assertThatThrownBy(() -> items.free(h)).isInstanceOf(StaleHandleException.class);
            pools.verify();
        }
    }

    @Test
    void fullTypeReturnsNoneAndForEachVisitsLiveObjects() {
        try (Pools pools = Pools.start(config(), List.of(items(3)))) {
            Pool items = pools.pool(4);
            long a = items.allocate();
            long b = items.allocate();
            long c = items.allocate();
            assertThat(items.allocate()).isEqualTo(Handles.NONE);
            items.free(b);
            List<Long> seen = new ArrayList<>();
            items.forEach((h, rec) -> seen.add(h));
            assertThat(seen).containsExactly(a, c);
        }
    }

    @Test
    void transactionRollsBackWhenBodyThrows() {
        try (Pools pools = Pools.start(config(), List.of(players(10)))) {
            Pool p = pools.pool(3);
            long a = p.allocate(1);
            long b = p.allocate(2);
            GOLD.set(p.get(a), 0L, 100L);
            assertThatThrownBy(() -> pools.atomically(tx -> {
                GOLD.set(tx.write(a), 0L, 0L);
                GOLD.set(tx.write(b), 0L, 100L);
                p.allocate(3);
                throw new IllegalStateException("boom");
            })).hasMessage("boom");
            assertThat((long) GOLD.get(p.get(a), 0L)).isEqualTo(100L);
            assertThat((long) GOLD.get(p.get(b), 0L)).isEqualTo(0L);
            assertThat(p.find(3)).isEqualTo(Handles.NONE);
            pools.atomically(tx -> p.free(b));
            assertThat(p.isLive(b)).isFalse();
            pools.verify();
        }
    }

    @Test
    void secondOwnerIsRefusedWithPid() {
        PoolConfig c = config();
        try (Pools pools = Pools.start(c, List.of(items(10)))) {
            assertThatThrownBy(() -> Pools.start(c, List.of(items(10))))
                    .isInstanceOf(SegmentInUseException.class).hasMessageContaining("pid " + ProcessHandle.current().pid());
        }
    }

    @Test
    void transactionsOfSeveralThreadsAreSerialised() throws Exception {
        try (Pools pools = Pools.start(config(), List.of(players(10)))) {
            Pool p = pools.pool(3);
            long a = p.allocate(1);
            long b = p.allocate(2);
            GOLD.set(p.get(a), 0L, 10_000L);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < 2000; i++) {
                        pools.atomically(tx -> {
                            MemorySegment x = tx.write(a);
                            MemorySegment y = tx.write(b);
                            long ga = (long) GOLD.get(x, 0L);
                            Thread.yield(); // a lost update would show if transactions overlapped
                            GOLD.set(x, 0L, ga - 1);
                            GOLD.set(y, 0L, (long) GOLD.get(y, 0L) + 1);
                        });
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            assertThat((long) GOLD.get(p.get(a), 0L)).isEqualTo(10_000L - 8000);
            assertThat((long) GOLD.get(p.get(b), 0L)).isEqualTo(8000L);
            pools.verify();
        }
    }
}
