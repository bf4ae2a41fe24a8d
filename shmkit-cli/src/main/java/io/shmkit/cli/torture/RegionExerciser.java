package io.shmkit.cli.torture;

import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.alloc.Region;
import io.shmkit.alloc.RegionRegistry;
import io.shmkit.alloc.SlabAllocator;
import io.shmkit.alloc.SyncMode;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code Region}s recorded in a {@code RegionRegistry} over a locked slab. A worker keeps at
 * most one region open across operations, allocates small and large slices in it (each with a
 * marker it checks before the region closes: no slice handed to anyone else), frees large ones,
 * and closes it. After a kill the dead worker's region is reclaimed by {@code reclaimDead()};
 * then the registry and the slab verify, and no more regions are registered than live workers
 * can hold.
 */
final class RegionExerciser implements Exerciser {
    private static final String SLAB = "region-slab";
    private static final String REGISTRY = "regions";
    private static final int MAX_SLICES = 40;

    private Env env;
    private WorkerContext ctx;
    private SlabAllocator slab;
    private RegionRegistry registry;
    private Region region;
    private final List<MemorySegment> slices = new ArrayList<>();
    private final List<Boolean> large = new ArrayList<>();

    @Override
    public String name() {
        return "region";
    }

    @Override
    public List<String> places() {
        return List.of("region open", "region allocate/free", "region close");
    }

    @Override
    public void create(Env e) {
        env = e;
        slab = SlabAllocator.create(e.segment(), SLAB, 2048, 4096, SyncMode.LOCKED);
        registry = RegionRegistry.create(e.segment(), REGISTRY, slab, e.workers() * 2 + 4, 64);
    }

    @Override
    public void attach(Env e, WorkerContext c) {
        env = e;
        ctx = c;
        registry = RegionRegistry.open(e.segment(), REGISTRY);
    }

    @Override
    public void step(SplittableRandom rnd) {
        try {
            operate(rnd);
        } catch (OutOfSharedMemoryException full) { // the slab is full (leaks of killed workers): start afresh
            ctx.leave();
            if (region != null) {
                checkMarkers();
                region.close();
                region = null;
                slices.clear();
                large.clear();
            }
        }
    }

    private void operate(SplittableRandom rnd) {
        if (region == null) {
            ctx.enter(env.index(), 0);
            region = Region.create(registry, 4096, 1024);
            ctx.leave();
            return;
        }
        int op = rnd.nextInt(8);
        if (op == 0 || slices.size() >= MAX_SLICES) {
            checkMarkers();
            ctx.enter(env.index(), 2);
            region.close();
            region = null;
            slices.clear();
            large.clear();
            ctx.leave();
            return;
        }
        ctx.enter(env.index(), 1);
        if (op == 1 && large.contains(true)) {
            int i = large.indexOf(true);
            checkMarker(i);
            region.free(slices.remove(i));
            large.remove(i);
        } else {
            boolean big = rnd.nextInt(6) == 0;
            MemorySegment s = region.allocate(big ? 1025 + rnd.nextInt(6000) : 8 + rnd.nextInt(500));
            s.set(ValueLayout.JAVA_LONG, 0, marker(s));
            slices.add(s);
            large.add(big);
        }
        ctx.leave();
    }

    private long marker(MemorySegment s) {
        return TortureState.marker(ctx.slot, region.offsetOf(s));
    }

    private void checkMarker(int i) {
        MemorySegment s = slices.get(i);
        if (s.get(ValueLayout.JAVA_LONG, 0) != marker(s)) {
            ctx.violation("region slice at offset " + region.offsetOf(s) + " was overwritten (handed out twice?)");
        }
    }

    private void checkMarkers() {
        for (int i = 0; i < slices.size(); i++) {
            checkMarker(i);
        }
    }

    @Override
    public void check(Checks c, int dead) {
        c.recovered("dead workers' regions reclaimed", registry.reclaimDead());
        c.verify(REGISTRY, registry::verify);
        c.verify(SLAB, slab::verify);
        int registered = registry.registeredRegions();
        int live = c.liveWorkers; // each live worker holds at most one region; reclaimDead ran with `dead` dead
        c.expect(registered <= live, () -> registered + " regions registered after reclaimDead with " + live
                + " workers alive holding at most one each");
    }
}
