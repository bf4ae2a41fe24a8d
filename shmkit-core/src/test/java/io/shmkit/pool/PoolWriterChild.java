package io.shmkit.pool;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Child JVM of {@link PoolReaderTest}: owns pools with N players and, in transactions, keeps
 * setting a random player's gold to x and its level to x (low 32 bits) until it is killed.
 */
public final class PoolWriterChild {

    public static void main(String[] args) {
        PoolConfig config = PoolFixtures.parseArg(args[0]);
        int n = Integer.parseInt(args[1]);
        Pools pools = Pools.start(config, List.of(PoolFixtures.players(n)));
        Pool players = pools.pool(3);
        long[] handles = new long[n];
        for (int i = 0; i < n; i++) {
            handles[i] = players.allocate(i);
        }
        System.out.println("READY");
        System.out.flush();
        SplittableRandom rnd = new SplittableRandom();
        for (long x = 1; ; x++) {
            long h = handles[rnd.nextInt(n)];
            long v = x;
            pools.atomically(tx -> {
                MemorySegment p = tx.write(h);
                PoolFixtures.GOLD.set(p, 0L, v);
                Thread.onSpinWait(); // widen the window in which the object is half written
                PoolFixtures.LEVEL.set(p, 0L, (int) v);
            });
        }
    }
}
