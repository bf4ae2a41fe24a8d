package io.shmkit.cli.torture;

import io.shmkit.alloc.BumpAllocator;
import io.shmkit.alloc.RingAllocator;
import io.shmkit.alloc.SharedAllocator;
import io.shmkit.alloc.SyncMode;
import io.shmkit.sync.LockResult;
import io.shmkit.sync.ShmRwLock;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The allocators that need a quiet moment for upkeep: {@code BumpAllocator} ({@code reset()}
 * with no user about) and {@code RingAllocator} (a leaked block at the head holds back all space
 * behind it, so the unrecorded blocks of dead workers are given back). Shared ones are used
 * under the read side of a gate {@code ShmRwLock}; upkeep takes the write side (a kill inside
 * it is finished by the next writer, told by {@code OWNER_DIED}). A per-worker
 * {@code SINGLE_THREADED} bump is reset by its own worker. After a kill: {@code verify()}, and
 * every recorded block (of every worker, under the gate's write side) allocated with its marker.
 */
final class GatedExerciser implements Exerciser {
    private static final int RECORDS = 32;
    private static final long UPKEEPS = 0;
    private static final long RECLAIMED = 8;
    private static final long REPAIRS = 16;

    private final boolean ring;
    private final boolean perWorker;
    private final String label;
    private Env env;
    private WorkerContext ctx;
    private SharedAllocator[] allocators;
    private ShmRwLock gate;
    private Facts g;
    private Facts mine;

    GatedExerciser(boolean ring, boolean perWorker) {
        this.ring = ring;
        this.perWorker = perWorker;
        this.label = (ring ? "ring" : "bump") + (perWorker ? "-single" : "-locked");
    }

    @Override
    public String name() {
        return label;
    }

    @Override
    public List<String> places() {
        return List.of(label + " allocate", label + " free", label + " upkeep (reset/reclaim)");
    }

    private String structure(int w) {
        return perWorker ? label + "-" + w : label;
    }

    @Override
    public void create(Env e) {
        env = e;
        g = e.global();
        allocators = new SharedAllocator[perWorker ? e.workers() : 1];
        for (int i = 0; i < allocators.length; i++) {
            allocators[i] = ring ? RingAllocator.create(e.segment(), structure(i), 1 << 20)
                    : BumpAllocator.create(e.segment(), structure(i), perWorker ? 64 << 10 : 256 << 10, 4096,
                    perWorker ? SyncMode.SINGLE_THREADED : SyncMode.LOCKED);
        }
        if (!perWorker) {
            long off = e.segment().reserve(label + "-gate", 0x0F15, ShmRwLock.bytesNeeded(ShmRwLock.DEFAULT_READER_SLOTS), 64)
                    .offset();
            gate = ShmRwLock.create(e.segment().memory(), off);
        }
    }

    @Override
    public void attach(Env e, WorkerContext c) {
        env = e;
        g = e.global();
        ctx = c;
        mine = e.worker(c.slot);
        String n = structure(c.slot);
        allocators = new SharedAllocator[]{ring ? RingAllocator.open(e.segment(), n) : BumpAllocator.open(e.segment(), n)};
        if (!perWorker) {
            gate = ShmRwLock.open(e.segment().memory(), e.segment().lookup(label + "-gate").orElseThrow().offset());
        }
    }

    @Override
    public void step(SplittableRandom rnd) throws InterruptedException {
        boolean full;
        if (perWorker) {
            full = operate(rnd);
        } else {
            LockResult r = gate.readLock(30, TimeUnit.SECONDS);
            if (!r.acquired()) {
                ctx.violation(label + " gate read lock stuck: " + r + " after 30 s");
                return;
            }
            try {
                full = r == LockResult.OWNER_DIED || operate(rnd); // OWNER_DIED: an upkeep died half done
            } finally {
                gate.readUnlock();
            }
        }
        if (!full) {
            return;
        }
        if (perWorker) {
            ctx.enter(env.index(), 2);
            upkeep(env.workers());
            ctx.leave();
            return;
        }
        LockResult w = gate.writeLock(30, TimeUnit.SECONDS);
        if (!w.acquired()) {
            ctx.violation(label + " gate write lock stuck: " + w + " after 30 s");
            return;
        }
        ctx.enter(env.index(), 2);
        try {
            if (w == LockResult.OWNER_DIED) {
                g.add(REPAIRS, 1);
            }
            upkeep(env.workers());
            if (w == LockResult.OWNER_DIED) {
                gate.markConsistent();
            }
        } finally {
            ctx.leave();
            gate.writeUnlock();
        }
    }

    /** One allocate or free; returns true when the allocator is full. */
    private boolean operate(SplittableRandom rnd) {
        SharedAllocator a = allocators[0];
        int i = rnd.nextInt(RECORDS);
        long off = mine.get(i * 8L);
        if (off == 0) {
            long n = ring ? 16 + rnd.nextInt(1008) : 8 + rnd.nextInt(248);
            ctx.enter(env.index(), 0);
            long got = a.tryAllocate(n, 8);
            if (got != 0) {
                a.memory().set(java.lang.foreign.ValueLayout.JAVA_LONG, got, TortureState.marker(ctx.slot, got));
                mine.set(i * 8L, got);
            }
            ctx.leave();
            return got == 0;
        }
        if (a.memory().get(java.lang.foreign.ValueLayout.JAVA_LONG, off) != TortureState.marker(ctx.slot, off)) {
            ctx.violation(label + ": committed block at offset " + off + " was overwritten (handed out twice?)");
        }
        ctx.enter(env.index(), 1);
        mine.set(i * 8L, 0); // a bump block is forgotten (it is freed by the next reset)
        if (ring) {
            try {
                a.free(off);
            } catch (IllegalArgumentException e) {
                ctx.violation(label + ": committed block at offset " + off + " could not be freed: " + e.getMessage());
            }
        }
        ctx.leave();
        return false;
    }

    /** Bump: forget every record, then reset. Ring: give back every block nobody recorded. */
    private void upkeep(int workers) {
        SharedAllocator a = allocators[0];
        g.add(UPKEEPS, 1);
        if (!ring) {
            for (int w = perWorker ? ctx.slot : 0; w < (perWorker ? ctx.slot + 1 : workers); w++) {
                Facts f = env.worker(w);
                for (int i = 0; i < RECORDS; i++) {
                    f.set(i * 8L, 0);
                }
            }
            ((BumpAllocator) a).reset();
            return;
        }
        g.add(RECLAIMED, reclaim((RingAllocator) a, workers));
    }

    private int reclaim(RingAllocator a, int workers) {
        Set<Long> recorded = new HashSet<>();
        for (int w = 0; w < workers; w++) {
            Facts f = env.worker(w);
            for (int i = 0; i < RECORDS; i++) {
                recorded.add(f.get(i * 8L));
            }
        }
        int n = 0;
        for (long off : a.allocatedBlocks()) {
            if (!recorded.contains(off)) {
                a.free(off);
                n++;
            }
        }
        return n;
    }

    @Override
    public void check(Checks c, int dead) throws InterruptedException {
        if (perWorker) {
            checkRecords(c, allocators[dead], dead, dead + 1);
            return;
        }
        LockResult w = gate.writeLock(10, TimeUnit.SECONDS);
        c.expect(w.acquired(), () -> label + " gate write lock stuck (a dead reader's slot not reclaimed?): " + w);
        if (!w.acquired()) {
            return;
        }
        try {
            if (w == LockResult.OWNER_DIED) { // an upkeep died half done: finish it
                c.recovered(label + " upkeeps finished after their worker died", 1);
                if (!ring) {
                    for (int k = 0; k < env.workers(); k++) {
                        for (int i = 0; i < RECORDS; i++) {
                            env.worker(k).set(i * 8L, 0);
                        }
                    }
                    ((BumpAllocator) allocators[0]).reset();
                }
                gate.markConsistent();
            }
            checkRecords(c, allocators[0], 0, env.workers());
            if (ring) {
                c.recovered("ring blocks leaked by dead workers, reclaimed", reclaim((RingAllocator) allocators[0], env.workers()));
                c.verify(label, allocators[0]::verify);
            }
        } finally {
            gate.writeUnlock();
        }
    }

    private void checkRecords(Checks c, SharedAllocator a, int from, int to) {
        c.verify(structure(from), a::verify);
        for (int w = from; w < to; w++) {
            Facts f = env.worker(w);
            int worker = w;
            for (int i = 0; i < RECORDS; i++) {
                long off = f.get(i * 8L);
                if (off == 0) {
                    continue;
                }
                boolean allocated = a instanceof RingAllocator r ? r.isAllocated(off) : ((BumpAllocator) a).isAllocated(off);
                long marker = a.memory().get(java.lang.foreign.ValueLayout.JAVA_LONG, off);
                c.expect(allocated && marker == TortureState.marker(worker, off), () -> structure(worker)
                        + ": committed block at offset " + off + " of worker " + worker + " freed or overwritten");
            }
        }
    }

    @Override
    public void summarize(Checks c) {
        c.recovered(label + " upkeeps finished after their worker died", g.get(REPAIRS));
        c.recovered("ring blocks leaked by dead workers, reclaimed", ring ? g.get(RECLAIMED) : 0);
    }
}
