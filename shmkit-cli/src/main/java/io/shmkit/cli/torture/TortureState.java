package io.shmkit.cli.torture;

import io.shmkit.segment.Segment;

import java.lang.foreign.MemorySegment;

/**
 * The torture run's shared facts, in one region of the torture segment so that a SIGKILLed
 * worker loses none of them. Layout (offsets from the region start):
 * <pre>
 *  0       run header: magic, violations reported by workers, number of worker slots
 *  4096    one 4 KiB global window per exerciser (its locks, pairs, run counters)
 *  WORKERS one WORKER_STRIDE area per worker slot: a 64-byte header (operations done, the
 *          place the worker is in now), then one 1 KiB window per exerciser
 * </pre>
 */
final class TortureState {
    static final String REGION = "torture-state";
    static final int KIND = 0x0F13;
    static final long MAGIC = 0x544f52545552453dL;
    static final int MAX_WORKERS = 32;
    static final int MAX_EXERCISERS = 16;
    static final long OFF_MAGIC = 0;
    static final long OFF_VIOLATIONS = 8;
    static final long OFF_WORKERS = 16;
    static final long GLOBAL_AT = 4096;
    static final long GLOBAL_BYTES = 4096;
    static final long WORKERS_AT = GLOBAL_AT + MAX_EXERCISERS * GLOBAL_BYTES;
    static final long WORKER_HEADER = 64;
    static final long WORKER_WINDOW = 1024;
    static final long WORKER_STRIDE = WORKER_HEADER + MAX_EXERCISERS * WORKER_WINDOW;
    static final long W_OPS = 0;
    /** What the worker is doing now: exerciser index * 16 + place + 1, or 0 between operations. */
    static final long W_PLACE = 8;
    static final long LENGTH = WORKERS_AT + MAX_WORKERS * WORKER_STRIDE;

    final Facts run;
    private final MemorySegment m;
    private final long base;

    TortureState(Segment segment, long base) {
        this.m = segment.memory();
        this.base = base;
        this.run = new Facts(m, base, LENGTH);
    }

    Facts global(int exerciser) {
        return new Facts(m, base + GLOBAL_AT + exerciser * GLOBAL_BYTES, GLOBAL_BYTES);
    }

    Facts worker(int w) {
        return new Facts(m, base + WORKERS_AT + w * WORKER_STRIDE, WORKER_HEADER);
    }

    Facts worker(int w, int exerciser) {
        return new Facts(m, base + WORKERS_AT + w * WORKER_STRIDE + WORKER_HEADER + exerciser * WORKER_WINDOW,
                WORKER_WINDOW);
    }

    /** What a worker writes into each block it allocates: names the block and the worker. */
    static long marker(int w, long offset) {
        return offset ^ ((long) (w + 1) << 48);
    }
}
