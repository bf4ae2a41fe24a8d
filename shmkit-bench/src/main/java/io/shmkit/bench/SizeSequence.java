package io.shmkit.bench;

/**
 * The request sizes of the mixed-size allocator benchmarks, the same in Java and in the native
 * reference ({@code src/main/c/malloc_bench.c}): 4096 sizes {@code lo + splitmix64() % span},
 * seed 42, uniform in {@code lo..hi}.
 */
final class SizeSequence {

    static final int LENGTH = 4096;

    private SizeSequence() {
    }

    /** Parses {@code "lo-hi"} (as in the benchmarks' {@code sizes} parameter). */
    static long[] of(String range) {
        int dash = range.indexOf('-');
        if (dash <= 0) {
            throw new IllegalArgumentException("sizes must be lo-hi, got sizes=" + range);
        }
        return of(Long.parseLong(range.substring(0, dash)), Long.parseLong(range.substring(dash + 1)));
    }

    static long[] of(long lo, long hi) {
        if (lo <= 0 || hi < lo) {
            throw new IllegalArgumentException("need 0 < lo <= hi, got lo=" + lo + " hi=" + hi);
        }
        long[] sizes = new long[LENGTH];
        long state = 42;
        for (int k = 0; k < LENGTH; k++) {
            state += 0x9E3779B97F4A7C15L;
            long z = state;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
            sizes[k] = lo + Long.remainderUnsigned(z, hi - lo + 1);
        }
        return sizes;
    }
}
