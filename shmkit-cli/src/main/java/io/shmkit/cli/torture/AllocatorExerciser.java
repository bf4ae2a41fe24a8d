package io.shmkit.cli.torture;

import io.shmkit.alloc.FixedPool;
import io.shmkit.alloc.SharedAllocator;
import io.shmkit.segment.Segment;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.function.ToLongFunction;

/**
 * An allocator with individual frees ({@code FixedPool}, {@code SlabAllocator}) in one mode,
 * shared by every worker, or one per worker slot (a {@code SINGLE_THREADED} one, which only its
 * worker and, while that worker is dead, the parent touch). A worker allocates, writes a marker
 * naming the block and itself, then records the offset; it clears the record before it frees.
 * After a kill every recorded block of the dead worker must still be allocated with its marker
 * (never freed, never handed out twice), and {@code verify()} must pass. The block in flight at
 * the kill may leak: allowed.
 */
final class AllocatorExerciser implements Exerciser {
    static final int RECORDS = 32;

    private final String label;
    private final BiFunction<Segment, String, SharedAllocator> create;
    private final BiFunction<Segment, String, SharedAllocator> open;
    private final boolean perWorker;
    private final ToLongFunction<SplittableRandom> size;
    private Env env;
    private WorkerContext ctx;
    private SharedAllocator[] allocators;
    private Facts mine;

    AllocatorExerciser(String label, BiFunction<Segment, String, SharedAllocator> create,
                       BiFunction<Segment, String, SharedAllocator> open, boolean perWorker,
                       ToLongFunction<SplittableRandom> size) {
        this.label = label;
        this.create = create;
        this.open = open;
        this.perWorker = perWorker;
        this.size = size;
    }

    @Override
    public String name() {
        return label;
    }

    @Override
    public List<String> places() {
        return List.of(label + " allocate", label + " free");
    }

    private String structure(int w) {
        return perWorker ? label + "-" + w : label;
    }

    @Override
    public void create(Env e) {
        env = e;
        allocators = new SharedAllocator[perWorker ? e.workers() : 1];
        for (int i = 0; i < allocators.length; i++) {
            allocators[i] = create.apply(e.segment(), structure(i));
        }
    }

    @Override
    public void attach(Env e, WorkerContext c) {
        env = e;
        ctx = c;
        mine = e.worker(c.slot);
        allocators = new SharedAllocator[]{open.apply(e.segment(), structure(c.slot))};
    }

    @Override
    public void step(SplittableRandom rnd) {
        SharedAllocator a = allocators[0];
        int i = rnd.nextInt(RECORDS);
        long off = mine.get(i * 8L);
        if (off == 0) {
            long n = size.applyAsLong(rnd);
            ctx.enter(env.index(), 0);
            long got = a.tryAllocate(n, 8);
            if (got != 0) {
                a.memory().set(java.lang.foreign.ValueLayout.JAVA_LONG, got, TortureState.marker(ctx.slot, got));
                mine.set(i * 8L, got); // committed: the allocation is recorded
            }
            ctx.leave();
            return;
        }
        if (a.memory().get(java.lang.foreign.ValueLayout.JAVA_LONG, off) != TortureState.marker(ctx.slot, off)) {
            ctx.violation(label + ": committed block at offset " + off + " was overwritten (handed out twice?)");
        }
        ctx.enter(env.index(), 1);
        mine.set(i * 8L, 0);
        try {
            a.free(off);
        } catch (IllegalArgumentException e) {
            ctx.violation(label + ": committed block at offset " + off + " could not be freed: " + e.getMessage());
        }
        ctx.leave();
    }

    @Override
    public void check(Checks c, int dead) {
        SharedAllocator a = allocators[perWorker ? dead : 0];
        c.verify(structure(dead), a::verify);
        Facts f = env.worker(dead);
        for (int i = 0; i < RECORDS; i++) {
            long off = f.get(i * 8L);
            if (off == 0) {
                continue;
            }
            boolean allocated = !(a instanceof FixedPool p) || p.isAllocated(off);
            long marker = a.memory().get(java.lang.foreign.ValueLayout.JAVA_LONG, off);
            c.expect(allocated && marker == TortureState.marker(dead, off), () -> structure(dead)
                    + ": committed block at offset " + off + " of worker " + dead + " freed or overwritten");
        }
    }
}
