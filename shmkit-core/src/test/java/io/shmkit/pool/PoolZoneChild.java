package io.shmkit.pool;

import io.shmkit.SegmentInUseException;

import java.util.List;

/**
 * Child JVM of {@link PoolNamespaceTest} and {@link PoolResumeInNewJvmTest}. {@code populate
 * CONFIG N}: cold start, N players and N items (each naming a player by handle), a third of
 * the players freed, every handle printed, then a normal exit. {@code create CONFIG N}: cold start with N players,
 * print {@code READY pid=P}, then keep the pools open until killed. {@code resume CONFIG N}:
 * start, check the N players, print {@code RESUMED mode=M found=F gold=G pid=P}, exit; or
 * print {@code REFUSED message} if a live owner holds the pools.
 */
public final class PoolZoneChild {

    public static void main(String[] args) throws Exception {
        PoolConfig config = PoolFixtures.parseArg(args[1]);
        int n = Integer.parseInt(args[2]);
        List<TypeDef> types = List.of(PoolFixtures.players(n));
        long pid = ProcessHandle.current().pid();
        if (args[0].equals("populate")) {
            try (Pools pools = Pools.start(config, List.of(PoolFixtures.players(n), PoolFixtures.items(n)))) {
                Pool players = pools.pool(3);
                Pool items = pools.pool(4);
                for (int i = 0; i < n; i++) {
                    long h = players.allocate(1000 + i);
                    PoolFixtures.GOLD.set(players.get(h), 0L, (long) i);
                    long item = items.allocate();
                    PoolFixtures.ITEM_OWNER.set(items.get(item), 0L, h);
                    System.out.println("OBJ " + (1000 + i) + " " + h + " " + item);
                }
                for (int i = 0; i < n; i += 3) { // some holes: freed objects whose handles must read as stale
                    long h = players.find(1000 + i);
                    System.out.println("FREED " + h);
                    players.free(h);
                }
            }
            System.out.println("DONE " + pid);
            return;
        }
        if (args[0].equals("create")) {
            Pools pools = Pools.start(config, types);
            Pool players = pools.pool(3);
            for (int i = 0; i < n; i++) {
                PoolFixtures.GOLD.set(players.get(players.allocate(i)), 0L, (long) i);
            }
            System.out.println("READY pid=" + pid + " mode=" + pools.startMode());
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
        try (Pools pools = Pools.start(config, types)) {
            Pool players = pools.pool(3);
            long found = 0;
            long gold = 0;
            for (int i = 0; i < n; i++) {
                long h = players.find(i);
                if (h != Handles.NONE) {
                    found++;
                    gold += (long) PoolFixtures.GOLD.get(players.get(h), 0L);
                }
            }
            pools.verify();
            System.out.println("RESUMED mode=" + pools.startMode() + " found=" + found + " gold=" + gold + " pid=" + pid);
        } catch (SegmentInUseException e) {
            System.out.println("REFUSED " + e.getMessage());
        }
        System.out.flush();
    }
}
