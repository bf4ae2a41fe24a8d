package io.shmkit.alloc;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Child JVM for the multi-process and crash tests of {@link BumpAllocator} and
 * {@link RingAllocator}. Usage: {@code BumpRingChild MODE SEGMENT ID SECONDS}, modes
 * {@code bump-crash}, {@code ring-crash}, {@code bump-stress}, {@code ring-stress}.
 *
 * <p>Crash modes loop forever (until SIGKILL) and record every allocation whose call returned
 * in the segment's {@code log} structure: a block's pattern is written first, then its size,
 * then its offset with a release store; before a free the offset is cleared first.
 */
public final class BumpRingChild {

    static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    /** Ring crash mode: slots per thread in the log; each slot is {offset, size}. */
    static final int RING_SLOTS = 64;
    static final int RING_THREADS = 2;
    /** Bump crash mode log: COUNT word, then {offset, size} pairs. */
    static final int BUMP_SLOTS = 4096;
    static final long LOG_LENGTH = 16 + BUMP_SLOTS * 16L;

    private BumpRingChild() {
    }

    static byte pattern(long offset, long k) {
        return (byte) ((offset >>> 4) * 131 + k * 7 + 3);
    }

    static void write(MemorySegment m, long off, long size) {
        for (long k = 0; k < size; k++) {
            m.set(ValueLayout.JAVA_BYTE, off + k, pattern(off, k));
        }
    }

    static long mismatch(MemorySegment m, long off, long size) {
        for (long k = 0; k < size; k++) {
            if (m.get(ValueLayout.JAVA_BYTE, off + k) != pattern(off, k)) {
                return k;
            }
        }
        return -1;
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        int id = Integer.parseInt(args[2]);
        double seconds = Double.parseDouble(args[3]);
        try (Segment seg = Segment.open(SegmentName.posix(args[1]))) {
            switch (mode) {
                case "bump-crash" -> bumpCrash(seg);
                case "ring-crash" -> ringCrash(seg);
                case "bump-stress" -> bumpStress(seg, id, seconds);
                case "ring-stress" -> ringStress(seg, id, seconds);
                default -> throw new IllegalArgumentException(mode);
            }
        }
        System.out.flush();
    }

    private static long logOffset(Segment seg) {
        return seg.lookup("log").orElseThrow().offset();
    }

    private static void bumpCrash(Segment seg) {
        BumpAllocator bump = BumpAllocator.open(seg, "b");
        MemorySegment m = seg.memory();
        long log = logOffset(seg);
        System.out.println("READY");
        System.out.flush();
        ThreadLocalRandom r = ThreadLocalRandom.current();
        while (true) {
            long count = (long) LONG.getAcquire(m, log);
            long size = 1 + r.nextInt(512);
            long off = count < BUMP_SLOTS ? bump.tryAllocate(size, r.nextInt(8) == 0 ? 64 : 8) : 0;
            if (off == 0) {
                // full: forget the log first, then reset (only this process uses the allocator)
                LONG.setRelease(m, log, 0L);
                bump.reset();
                continue;
            }
            write(m, off, size);
            long slot = log + 16 + count * 16;
            LONG.set(m, slot + 8, size);
            LONG.setRelease(m, slot, off);
            LONG.setRelease(m, log, count + 1); // the allocation is now recorded as committed
        }
    }

    private static void ringCrash(Segment seg) throws InterruptedException {
        RingAllocator ring = RingAllocator.open(seg, "r");
        MemorySegment m = seg.memory();
        long log = logOffset(seg);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < RING_THREADS; t++) {
            long base = log + (long) t * RING_SLOTS * 16;
            threads.add(Thread.ofPlatform().start(() -> {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                while (true) {
                    long slot = base + r.nextInt(RING_SLOTS) * 16L;
                    long off = (long) LONG.getAcquire(m, slot);
                    if (off != 0) {
                        long size = (long) LONG.get(m, slot + 8);
                        if (mismatch(m, off, size) >= 0) {
                            System.out.println("CORRUPT " + off);
                            System.out.flush();
                            Runtime.getRuntime().halt(3);
                        }
                        LONG.setRelease(m, slot, 0L); // forget first, then free
                        ring.free(off);
                    } else {
                        long size = 1 + r.nextInt(400);
                        long a = ring.tryAllocate(size, r.nextInt(8) == 0 ? 64 : 8);
                        if (a != 0) {
                            write(m, a, size);
                            LONG.set(m, slot + 8, size);
                            LONG.setRelease(m, slot, a); // recorded as committed
                        }
                    }
                }
            }));
        }
        System.out.println("READY");
        System.out.flush();
        for (Thread t : threads) {
            t.join();
        }
    }

    private static void awaitGo(Segment seg) {
        long go = seg.lookup("go").orElseThrow().offset();
        System.out.println("READY");
        System.out.flush();
        while ((long) LONG.getAcquire(seg.memory(), go) == 0) {
            Thread.onSpinWait();
        }
    }

    /** Runs {@code body} on two platform threads at once and waits for both. */
    private static void onTwoThreads(Runnable body) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            threads.add(Thread.ofPlatform().start(body));
        }
        for (Thread t : threads) {
            t.join();
        }
    }

    private static void bumpStress(Segment seg, int id, double seconds) throws InterruptedException {
        BumpAllocator bump = BumpAllocator.open(seg, "b");
        MemorySegment m = seg.memory();
        AtomicLong blocks = new AtomicLong();
        AtomicLong corrupt = new AtomicLong();
        awaitGo(seg);
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        onTwoThreads(() -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            List<long[]> mine = new ArrayList<>();
            while (System.nanoTime() < deadline) {
                long size = 1 + r.nextInt(128);
                long off = bump.tryAllocate(size, r.nextInt(8) == 0 ? 64 : 8);
                if (off == 0) {
                    break;
                }
                write(m, off, size);
                mine.add(new long[]{off, size});
            }
            for (long[] b : mine) {
                if (mismatch(m, b[0], b[1]) >= 0) {
                    corrupt.incrementAndGet();
                }
            }
            blocks.addAndGet(mine.size());
        });
        System.out.println("DONE blocks=" + blocks.get() + " corrupt=" + corrupt.get());
    }

    private static void ringStress(Segment seg, int id, double seconds) throws InterruptedException {
        RingAllocator ring = RingAllocator.open(seg, "r");
        MemorySegment m = seg.memory();
        AtomicLong ops = new AtomicLong();
        AtomicLong corrupt = new AtomicLong();
        awaitGo(seg);
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        onTwoThreads(() -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            long[] offs = new long[32];
            long[] sizes = new long[32];
            long n = 0;
            while (System.nanoTime() < deadline) {
                int i = r.nextInt(offs.length);
                if (offs[i] != 0) {
                    if (mismatch(m, offs[i], sizes[i]) >= 0) {
                        corrupt.incrementAndGet();
                    }
                    ring.free(offs[i]);
                    offs[i] = 0;
                } else {
                    long size = 1 + r.nextInt(300);
                    long off = ring.tryAllocate(size, r.nextInt(8) == 0 ? 64 : 8);
                    if (off != 0) {
                        write(m, off, size);
                        offs[i] = off;
                        sizes[i] = size;
                    }
                }
                n++;
            }
            for (int i = 0; i < offs.length; i++) {
                if (offs[i] != 0) {
                    if (mismatch(m, offs[i], sizes[i]) >= 0) {
                        corrupt.incrementAndGet();
                    }
                    ring.free(offs[i]);
                }
            }
            ops.addAndGet(n);
        });
        System.out.println("DONE ops=" + ops.get() + " corrupt=" + corrupt.get());
    }
}
