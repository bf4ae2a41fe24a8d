package io.shmkit.cli;

import io.shmkit.pool.Handles;
import io.shmkit.pool.Pool;
import io.shmkit.pool.PoolConfig;
import io.shmkit.pool.Pools;
import io.shmkit.pool.StartMode;
import io.shmkit.pool.TypeDef;
import io.shmkit.segment.SegmentName;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * The game-zone worker of {@code shmkit demo}: starts the zone's pools (cold start or resume),
 * checks every player after a resume, then moves gold between players in transactions until
 * it is killed.
 */
@Command(name = "demo-zone-worker", hidden = true)
final class ZoneWorkerCommand implements Callable<Integer> {

    static final StructLayout PLAYER = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("playerId"),
            ValueLayout.JAVA_LONG.withName("gold"),
            ValueLayout.JAVA_LONG.withName("self"),
            ValueLayout.JAVA_INT.withName("level"),
            ValueLayout.JAVA_INT.withName("zone")).withName("Player");
    static final VarHandle PLAYER_ID = PLAYER.varHandle(groupElement("playerId"));
    static final VarHandle GOLD = PLAYER.varHandle(groupElement("gold"));
    static final VarHandle SELF = PLAYER.varHandle(groupElement("self"));
    static final long GOLD_EACH = 1000;

    @Parameters(index = "0", paramLabel = "BASE")
    String base;
    @Parameters(index = "1", paramLabel = "BLOCK")
    String block;
    @Option(names = "--players", defaultValue = "10000")
    int players;
    @Option(names = "--check-only")
    boolean checkOnly;

    static PoolConfig config(String base, String block) {
        return PoolConfig.of("zone", SegmentName.parse(base), 8L << 20, List.of(SegmentName.parse(block)));
    }

    static TypeDef type(int players) {
        return TypeDef.keyed(1, "Player", PLAYER, players);
    }

    @Override
    public Integer call() {
        Pools pools = Pools.start(config(base, block), List.of(type(players)));
        Pool pool = pools.pool(1);
        long startMicros = pools.startDuration().toNanos() / 1000;
        if (pools.startMode() == StartMode.COLD_START) {
            for (long id = 1; id <= players; id++) {
                long h = pool.allocate(100_000 + id);
                MemorySegment p = pool.get(h);
                PLAYER_ID.set(p, 0L, 100_000 + id);
                GOLD.set(p, 0L, GOLD_EACH);
                SELF.set(p, 0L, h); // the handle, kept in shared memory: it must still work after every restart
            }
        }
        long found = 0;
        long total = 0;
        long mismatched = 0;
        long stale = 0;
        for (long id = 1; id <= players; id++) {
            long h = pool.find(100_000 + id);
            if (h == Handles.NONE) {
                continue;
            }
            found++;
            MemorySegment p = pool.get(h);
            total += (long) GOLD.get(p, 0L);
            mismatched += (long) PLAYER_ID.get(p, 0L) == 100_000 + id ? 0 : 1;
            long self = (long) SELF.get(p, 0L);
            stale += self == h && pool.isLive(self) ? 0 : 1;
        }
        String verify = "ok";
        try {
            pools.verify();
        } catch (RuntimeException e) {
            verify = e.getMessage();
        }
        System.out.printf("STARTED mode=%s startMicros=%d found=%d total=%d mismatched=%d stale=%d verify=%s tx=%d report=%s%n",
                pools.startMode(), startMicros, found, total, mismatched, stale, verify.replace(' ', '_'),
                pools.transactionCounts()[0], String.join(" | ", pools.startReport()).replace(' ', '_'));
        System.out.flush();
        if (checkOnly) {
            pools.close();
            return 0;
        }
        List<Long> handles = new ArrayList<>();
        pool.forEach((h, r) -> handles.add(h));
        SplittableRandom rnd = new SplittableRandom();
        while (true) {
            long a = handles.get(rnd.nextInt(handles.size()));
            long b = handles.get(rnd.nextInt(handles.size()));
            if (a == b) {
                continue;
            }
            long amount = 1 + rnd.nextInt(50);
            pools.atomically(tx -> {
                MemorySegment from = tx.write(a);
                MemorySegment to = tx.write(b);
                long have = (long) GOLD.get(from, 0L);
                long move = Math.min(have, amount);
                GOLD.set(from, 0L, have - move);
                GOLD.set(to, 0L, (long) GOLD.get(to, 0L) + move);
            });
        }
    }
}
