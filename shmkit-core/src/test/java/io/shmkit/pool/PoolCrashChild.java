package io.shmkit.pool;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static io.shmkit.pool.PoolFixtures.GOLD;
import static io.shmkit.pool.PoolFixtures.ID;

/**
 * Child JVM of {@link PoolCrashTest}: resumes (or cold-starts) the pools, then allocates,
 * frees and transfers gold in transactions until it is killed. Prints {@code ALLOC key} after
 * an allocation returned and {@code FREEING key} before a free starts, so the parent knows
 * which keys must exist. Total gold stays {@link #TOTAL}: new players get their gold from the
 * bank player (key 0) inside the transaction that allocates them, and a freed player's gold
 * goes back to the bank in the transaction that frees it.
 */
public final class PoolCrashChild {

    static final long TOTAL = 1_000_000;
    static final long CAPACITY = 400;

    public static void main(String[] args) throws java.io.IOException {
        PoolConfig config = PoolFixtures.parseArg(args[0]);
        // facts go to a file with one write(2) each: what a SIGKILL leaves in the page cache is exact
        java.io.FileOutputStream facts = new java.io.FileOutputStream(args[1], true);
        Pools pools = Pools.start(config, List.of(PoolFixtures.players(CAPACITY), PoolFixtures.items(CAPACITY)));
        Pool players = pools.pool(3);
        Pool items = pools.pool(4);
        if (pools.startMode() == StartMode.COLD_START) {
            long bank = players.allocate(0);
            GOLD.set(players.get(bank), 0L, TOTAL);
        }
        System.out.println("STARTED " + pools.startMode());
        System.out.flush();
        SplittableRandom rnd = new SplittableRandom();
        long bank = players.find(0);
        List<Long> myItems = new ArrayList<>();
        long nextKey = 1 + rnd.nextLong(1L << 40);
        while (true) {
            int op = rnd.nextInt(10);
            if (op < 3 && players.used() < CAPACITY - 1) {
                long key = nextKey++;
                long gift = 1 + rnd.nextInt(100);
                pools.atomically(tx -> {
                    long h = players.allocate(key);
                    MemorySegment p = tx.write(h);
                    ID.set(p, 0L, key);
                    MemorySegment b = tx.write(bank);
                    GOLD.set(b, 0L, (long) GOLD.get(b, 0L) - gift);
                    GOLD.set(p, 0L, gift);
                });
                fact(facts, "ALLOC " + key);
            } else if (op < 5) {
                long victim = pickPlayer(players, rnd);
                if (victim != Handles.NONE) {
                    long key = players.key(victim);
                    fact(facts, "FREEING " + key); // the parent must know before the free can happen
                    pools.atomically(tx -> {
                        MemorySegment b = tx.write(bank);
                        GOLD.set(b, 0L, (long) GOLD.get(b, 0L) + (long) GOLD.get(players.get(victim), 0L));
                        GOLD.set(tx.write(victim), 0L, 0L);
                        players.free(victim);
                    });
                }
            } else if (op < 8) {
                long a = pickPlayer(players, rnd);
                long c = pickPlayer(players, rnd);
                if (a != Handles.NONE && c != Handles.NONE && a != c) {
                    pools.atomically(tx -> {
                        MemorySegment x = tx.write(a);
                        MemorySegment y = tx.write(c);
                        long amount = Math.min((long) GOLD.get(x, 0L), 10);
                        GOLD.set(x, 0L, (long) GOLD.get(x, 0L) - amount);
                        GOLD.set(y, 0L, (long) GOLD.get(y, 0L) + amount);
                    });
                }
            } else if (op == 8 && myItems.size() < CAPACITY / 2) {
                long h = items.allocate(); // crash-atomic on its own, outside a transaction
                if (h != Handles.NONE) {
                    myItems.add(h);
                }
            } else if (!myItems.isEmpty()) {
                items.free(myItems.remove(rnd.nextInt(myItems.size())));
            } else {
                items.forEach((h, r) -> myItems.add(h)); // after a resume: the items of the previous run
            }
        }
    }

    private static void fact(java.io.FileOutputStream out, String line) {
        try {
            out.write((line + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static long pickPlayer(Pool players, SplittableRandom rnd) {
        long[] found = {Handles.NONE};
        int[] n = {0};
        int target = rnd.nextInt((int) Math.max(1, players.used()));
        players.forEach((h, r) -> {
            if (n[0]++ == target && players.key(h) != 0) {
                found[0] = h;
            }
        });
        return found[0];
    }
}
