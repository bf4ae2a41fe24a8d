package io.shmkit.pool;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.shmkit.pool.PoolFixtures.GOLD;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random sequences of allocate, forceGet, free, transactions (committed or thrown out) and
 * restarts (close, resume) on a keyed and a plain type, against a model map. After every step:
 * counts, every key lookup (the shared key index), every object's gold, stale handles of freed
 * objects, and {@code verify()}.
 */
class PoolsModelTest {

    private static final int CAPACITY = 24;

    @Property(tries = 60)
    void randomOperationsMatchTheModel(@ForAll @Size(max = 120) List<@IntRange(min = 0, max = 1 << 20) Integer> ops) {
        PoolConfig config = PoolFixtures.config("model", 1 << 20, 1);
        List<TypeDef> types = List.of(PoolFixtures.players(CAPACITY), PoolFixtures.items(CAPACITY));
        Map<Long, Long> gold = new HashMap<>();     // key -> gold
        Map<Long, Long> handles = new HashMap<>();  // key -> handle
        List<Long> items = new ArrayList<>();
        List<Long> freed = new ArrayList<>();
        Pools pools = Pools.start(config, types);
        try {
            for (int op : ops) {
                Pool players = pools.pool(3);
                Pool it = pools.pool(4);
                long key = (op >>> 4) % 40;
                switch (op % 8) {
                    case 0, 1 -> {
                        long h = players.forceGet(key);
                        if (handles.containsKey(key)) {
                            assertEquals(handles.get(key), h);
                        } else if (handles.size() == CAPACITY) {
                            assertEquals(Handles.NONE, h);
                        } else {
                            assertTrue(h != Handles.NONE);
                            handles.put(key, h);
                            gold.put(key, 0L);
                        }
                    }
                    case 2 -> {
                        if (handles.containsKey(key)) {
                            long h = handles.remove(key);
                            gold.remove(key);
                            players.free(h);
                            freed.add(h);
                        }
                    }
                    case 3, 4 -> {
                        boolean abort = op % 8 == 4;
                        List<Long> keys = new ArrayList<>(handles.keySet());
                        if (keys.size() >= 2) {
                            long a = keys.get((op >>> 8) % keys.size());
                            long b = keys.get((op >>> 12) % keys.size());
                            long amount = op % 13;
                            try {
                                pools.atomically(tx -> {
                                    GOLD.set(tx.write(handles.get(a)), 0L, (long) GOLD.get(players.get(handles.get(a)), 0L) - amount);
                                    GOLD.set(tx.write(handles.get(b)), 0L, (long) GOLD.get(players.get(handles.get(b)), 0L) + amount);
                                    if (abort) {
                                        throw new IllegalStateException("abort");
                                    }
                                });
                                gold.put(a, gold.get(a) - amount);
                                gold.put(b, gold.get(b) + amount);
                            } catch (IllegalStateException expected) {
                                assertTrue(abort);
                            }
                        }
                    }
                    case 5 -> {
                        long h = it.allocate();
                        if (items.size() == CAPACITY) {
                            assertEquals(Handles.NONE, h);
                        } else {
                            items.add(h);
                        }
                    }
                    case 6 -> {
                        if (!items.isEmpty()) {
                            long h = items.remove((op >>> 4) % items.size());
                            it.free(h);
                            freed.add(h);
                        }
                    }
                    default -> {
                        pools.close();
                        pools = Pools.start(config, types);
                        assertEquals(StartMode.RESUME, pools.startMode());
                    }
                }
                check(pools, handles, gold, items, freed);
            }
        } finally {
            pools.close();
            PoolStartup.removeAll(config, false);
        }
    }

    private static void check(Pools pools, Map<Long, Long> handles, Map<Long, Long> gold, List<Long> items, List<Long> freed) {
        Pool players = pools.pool(3);
        Pool it = pools.pool(4);
        assertEquals(handles.size(), players.used());
        assertEquals(items.size(), it.used());
        for (long key = 0; key < 40; key++) {
            Long h = handles.get(key);
            assertEquals(h == null ? Handles.NONE : h, players.find(key), "find(" + key + ")");
            if (h != null) {
                assertEquals(gold.get(key), (long) GOLD.get(players.get(h), 0L));
            }
        }
        for (long h : items) {
            assertTrue(it.isLive(h));
        }
        for (long h : freed) {
            Pool p = pools.pool(Handles.type(h));
            if (!handles.containsValue(h) && !items.contains(h)) {
                assertFalse(p.isLive(h));
                assertThrows(StaleHandleException.class, () -> p.get(h));
            }
        }
        pools.verify();
    }
}
