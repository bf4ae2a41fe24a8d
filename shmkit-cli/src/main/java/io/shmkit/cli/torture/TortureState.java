package io.shmkit.cli.torture;

import io.shmkit.segment.Segment;
import io.shmkit.sync.ShmMutex;
import io.shmkit.table.SharedTable;
import io.shmkit.table.TableSchema;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The torture run's shared facts, in a region of the torture segment (so a SIGKILLed worker
 * loses none of them): mutexes guarding pairs that must match, and per worker its operation
 * count, its durably recorded table increments with the one in flight, and its committed
 * allocations per allocator. Offsets are relative to the region.
 */
final class TortureState {
    static final String REGION = "torture-state";
    static final int KIND = 0x0F13;
    static final long MAGIC = 0x544f52545552453dL;
    static final int MUTEXES = 4;
    static final int ROWS = 4;
    static final int RECORDS = 32;
    static final String[] POOLS = {"fp-locked", "fp-cached"};
    static final int MAX_WORKERS = 32;
    static final long OFF_VIOLATIONS = 8;
    static final long OFF_OWNER_DIED = 16;
    static final long MUTEX_AT = 64;
    static final long MUTEX_STRIDE = 128;
    static final long WORKER_AT = 1024;
    static final long WORKER_STRIDE = 1024;
    static final long W_OPS = 0;
    static final long W_INFLIGHT = 8;
    static final long W_RECORDED = 16;
    static final long W_ALLOCS = 64;
    static final long LENGTH = WORKER_AT + MAX_WORKERS * WORKER_STRIDE;
    static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    final MemorySegment m;
    final long base;

    TortureState(Segment segment, long base) {
        this.m = segment.memory();
        this.base = base;
    }

    static TableSchema schema() {
        return TableSchema.builder(16).int64("count").int64("x").int64("y").build();
    }

    static String counterKey(int worker, int row) {
        return "w" + worker + "c" + row;
    }

    static String pairKey(int k) {
        return "p" + k;
    }

    long get(long off) {
        return (long) LONG.getVolatile(m, base + off);
    }

    void set(long off, long v) {
        LONG.setVolatile(m, base + off, v);
    }

    long add(long off, long v) {
        return (long) LONG.getAndAdd(m, base + off, v);
    }

    ShmMutex mutex(int k) {
        return ShmMutex.open(m, base + MUTEX_AT + k * MUTEX_STRIDE);
    }

    long pairA(int k) {
        return MUTEX_AT + k * MUTEX_STRIDE + 64;
    }

    long pairB(int k) {
        return pairA(k) + 8;
    }

    static long worker(int w, long field) {
        return WORKER_AT + w * WORKER_STRIDE + field;
    }

    static long recorded(int w, int row) {
        return worker(w, W_RECORDED + row * 8L);
    }

    static long alloc(int w, int pool, int i) {
        return worker(w, W_ALLOCS + (pool * RECORDS + i) * 8L);
    }

    /** What a worker writes into each slice it allocates: names the slice and the worker. */
    static long marker(int w, long offset) {
        return offset ^ ((long) (w + 1) << 48);
    }

    static SharedTable table(Segment s) {
        return SharedTable.open(s, "table");
    }
}
