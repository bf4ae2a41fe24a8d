package io.shmkit.cli.torture;

import io.shmkit.alloc.FixedPool;
import io.shmkit.alloc.SlabAllocator;
import io.shmkit.alloc.SyncMode;

import java.util.List;
import java.util.SplittableRandom;

/** Every structure kind the torture covers, in a fixed order (an exerciser's index names its fact windows). */
final class Exercisers {
    private Exercisers() {
    }

    static List<Exerciser> all() {
        return List.of(
                new MutexExerciser(),
                new RwLockExerciser(),
                new TableExerciser(),
                fixed("fixed-locked", SyncMode.LOCKED),
                fixed("fixed-cached", SyncMode.THREAD_CACHED),
                fixed("fixed-single", SyncMode.SINGLE_THREADED),
                slab("slab-locked", SyncMode.LOCKED),
                slab("slab-cached", SyncMode.THREAD_CACHED),
                new GatedExerciser(false, false),
                new GatedExerciser(false, true),
                new GatedExerciser(true, false),
                new RegionExerciser(),
                new PoolExerciser(),
                new GrowExerciser());
    }

    /** A FixedPool of 64-byte slices; a SINGLE_THREADED one per worker slot. */
    private static Exerciser fixed(String label, SyncMode mode) {
        boolean single = mode == SyncMode.SINGLE_THREADED;
        return new AllocatorExerciser(label, (s, n) -> FixedPool.create(s, n, 64, single ? 1024 : 8192, 8, mode),
                FixedPool::open, single, rnd -> 1 + rnd.nextInt(64));
    }

    /** A slab of 1,024 pages of 4 KiB: small classes and, now and then, multi-page allocations. */
    private static Exerciser slab(String label, SyncMode mode) {
        return new AllocatorExerciser(label, (s, n) -> SlabAllocator.create(s, n, 1024, 4096, mode),
                SlabAllocator::open, false, Exercisers::slabSize);
    }

    private static long slabSize(SplittableRandom rnd) {
        int p = rnd.nextInt(20);
        return p == 0 ? 2049 + rnd.nextInt(10_000) : p < 4 ? 513 + rnd.nextInt(1536) : 8 + rnd.nextInt(505);
    }
}
