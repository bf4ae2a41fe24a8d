package io.shmkit.alloc;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Child JVM for multi-process allocator tests. Arguments:
 * {@code <segment> <allocator name> <fixed|fixed-cached|slab|slab-cached> <slot> <threads> <millis, 0 = until killed>}.
 *
 * <p>Each thread owns {@link #ENTRIES} entries of the commit log (a range named {@code log}
 * in the segment) and loops: pick an entry; if empty, allocate a block, fill it with a pattern
 * derived from its offset, then record {@code size} and then {@code offset} in the entry
 * (release); if full, check the block's pattern, clear the entry's offset (release), then free
 * the block. So at any instant, every entry with a non-zero offset names a block whose
 * {@code allocate} returned and whose {@code free} has not started.
 *
 * <p>Prints {@code READY} once every thread has done some work, and with a time limit
 * {@code DONE ops=N errors=E} after freeing everything it holds.
 */
public final class AllocatorChild {

    static final int ENTRIES = 64;
    /**
     * Operations per thread before READY: 500, or 300,000 with {@code -Dshmkit.test.warmup=true}
     * (far past C2's compile thresholds, so the allocator's hot paths run C2 code when killed).
     */
    static final long WARMUP_OPS = Boolean.getBoolean("shmkit.test.warmup") ? 300_000 : 500;
    static final long ENTRY_BYTES = 16;
    static final int LOG_KIND = 0x7F01;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    /** Offset of thread {@code t} of slot {@code slot}'s first log entry. */
    static long entries(long logBase, int slot, int threads, int t) {
        return logBase + ((long) slot * threads + t) * ENTRIES * ENTRY_BYTES;
    }

    static long logBytes(int slots, int threads) {
        return (long) slots * threads * ENTRIES * ENTRY_BYTES;
    }

    static long token(long offset, long word) {
        return (offset * 0x9E3779B97F4A7C15L) ^ word;
    }

    static void fill(MemorySegment m, long off, long size) {
        for (long w = 0; w + 8 <= size; w += 8) {
            m.set(ValueLayout.JAVA_LONG, off + w, token(off, w));
        }
    }

    /** Word index of the first corrupted word of the block, or -1. */
    static long check(MemorySegment m, long off, long size) {
        for (long w = 0; w + 8 <= size; w += 8) {
            if (m.get(ValueLayout.JAVA_LONG, off + w) != token(off, w)) {
                return w;
            }
        }
        return -1;
    }

    static SharedAllocator open(Segment seg, String name, String type) {
        return switch (type) {
            case "fixed", "fixed-cached" -> FixedPool.open(seg, name);
            case "slab", "slab-cached" -> SlabAllocator.open(seg, name);
            default -> throw new IllegalArgumentException("type=" + type);
        };
    }

    static long randomSize(String type, SplittableRandom r) {
        if (type.startsWith("fixed")) {
            return 64;
        }
        int k = r.nextInt(100);
        if (k < 3) {
            return 4097 + r.nextInt(8192);
        }
        return 8 + r.nextInt(2041);
    }

    public static void main(String[] args) throws Exception {
        String segName = args[0];
        String name = args[1];
        String type = args[2];
        int slot = Integer.parseInt(args[3]);
        int threads = Integer.parseInt(args[4]);
        long millis = Long.parseLong(args[5]);
        Segment seg = Segment.open(SegmentName.posix(segName));
        SharedAllocator a = open(seg, name, type);
        MemorySegment m = seg.memory();
        long logBase = seg.lookup("log").orElseThrow().offset();
        AtomicLong ops = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicLong warm = new AtomicLong();
        long deadline = millis == 0 ? Long.MAX_VALUE : System.nanoTime() + millis * 1_000_000;
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            long log = entries(logBase, slot, threads, t);
            ts[t] = new Thread(() -> work(a, m, log, type, deadline, ops, errors, warm), "worker-" + t);
            ts[t].start();
        }
        while (warm.get() < threads) {
            Thread.sleep(1);
        }
        System.out.println("READY");
        System.out.flush();
        for (Thread t : ts) {
            t.join();
        }
        System.out.println("DONE ops=" + ops.get() + " errors=" + errors.get());
        System.out.flush();
        seg.close();
    }

    private static void work(SharedAllocator a, MemorySegment m, long log, String type, long deadline,
                             AtomicLong ops, AtomicLong errors, AtomicLong warm) {
        SplittableRandom r = new SplittableRandom();
        long n = 0;
        while (true) {
            if ((n & 255) == 0 && System.nanoTime() - deadline > 0) {
                break;
            }
            long e = log + ENTRY_BYTES * r.nextInt(ENTRIES);
            long off = (long) LONG.getAcquire(m, e + 8);
            if (off == 0) {
                long size = randomSize(type, r);
                long got = a.tryAllocate(size);
                if (got != 0) {
                    fill(m, got, size);
                    m.set(ValueLayout.JAVA_LONG, e, size);
                    LONG.setRelease(m, e + 8, got); // release: size and contents before the commit record
                }
            } else {
                long size = m.get(ValueLayout.JAVA_LONG, e);
                if (check(m, off, size) >= 0) {
                    errors.incrementAndGet();
                    System.out.println("CORRUPT offset=" + off + " size=" + size);
                }
                LONG.setRelease(m, e + 8, 0L); // release: the record is gone before the free starts
                a.free(off);
            }
            n++;
            if (n == WARMUP_OPS) {
                warm.incrementAndGet();
            }
        }
        for (int i = 0; i < ENTRIES; i++) {
            long e = log + ENTRY_BYTES * i;
            long off = (long) LONG.getAcquire(m, e + 8);
            if (off != 0) {
                if (check(m, off, m.get(ValueLayout.JAVA_LONG, e)) >= 0) {
                    errors.incrementAndGet();
                }
                LONG.setRelease(m, e + 8, 0L);
                a.free(off);
            }
        }
        if (a instanceof FixedPool f) {
            f.releaseThreadCache();
        } else if (a instanceof SlabAllocator s) {
            s.releaseThreadCache();
        }
        ops.addAndGet(n);
    }
}
