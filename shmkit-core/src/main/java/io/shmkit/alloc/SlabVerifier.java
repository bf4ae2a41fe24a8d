package io.shmkit.alloc;

import io.shmkit.internal.Mem;
import io.shmkit.internal.OwnerRecords;

import java.util.BitSet;

import static io.shmkit.internal.SlabLayout.*;

/**
 * The invariant check of a {@link SlabAllocator} (lock held): the descriptors agree with the
 * free runs, the partial lists, the counters and the bitmaps, and every block a live thread
 * cache records is an allocated slot of its class. Every failure is a
 * {@code SegmentCorruptedException} naming the offset.
 */
final class SlabVerifier {

    private final SlabPages slab;
    private final CacheRegistry<SlabCaches.Cache> core;

    SlabVerifier(SlabPages slab, CacheRegistry<SlabCaches.Cache> core) {
        this.slab = slab;
        this.core = core;
    }

    void verify() {
        long[] total = new long[slab.classCount];
        long[] used = new long[slab.classCount];
        BitSet partial = new BitSet(slab.pageCount);
        long freeCount = 0;
        long largePages = 0;
        long largeAllocs = 0;
        int i = 0;
        while (i < slab.pageCount) {
            long di = slab.d(i);
            int kind = Mem.getInt(slab.m, di + Descriptor.OFF_KIND);
            switch (kind) {
                case KIND_FREE -> {
                    freeCount++;
                    i++;
                }
                case KIND_SMALL -> {
                    int c = Mem.getInt(slab.m, di + Descriptor.OFF_INFO);
                    if (c < 0 || c >= slab.classCount) {
                        throw slab.corrupt("small page " + i + " (descriptor at offset=" + di + ") has class index " + c);
                    }
                    int slots = slab.slotsOf(c);
                    int bitsSet = slab.countBits(i, di, slots);
                    int u = Mem.getInt(slab.m, di + Descriptor.OFF_USED);
                    if (u != bitsSet) {
                        throw slab.corrupt("small page " + i + " (descriptor at offset=" + di + "): used counter " + u
                                + " but bitmap at offset=" + (di + Descriptor.OFF_BITMAP) + " has " + bitsSet + " bits set");
                    }
                    total[c] += slots;
                    used[c] += u;
                    if (u < slots) {
                        partial.set(i);
                    }
                    i++;
                }
                case KIND_LARGE -> {
                    int n = Mem.getInt(slab.m, di + Descriptor.OFF_INFO);
                    if (n < 1 || n > slab.pageCount - i) {
                        throw slab.corrupt("large head page " + i + " (descriptor at offset=" + di + ") has run=" + n);
                    }
                    for (int j = 1; j < n; j++) {
                        if (Mem.getInt(slab.m, slab.d(i + j) + Descriptor.OFF_KIND) != KIND_CONT) {
                            throw slab.corrupt("page " + (i + j) + " (descriptor at offset=" + slab.d(i + j)
                                    + ") should continue the large block at page " + i + " but has kind="
                                    + Mem.getInt(slab.m, slab.d(i + j) + Descriptor.OFF_KIND));
                        }
                    }
                    largePages += n;
                    largeAllocs++;
                    i += n;
                }
                case KIND_CONT -> throw slab.corrupt("page " + i + " (descriptor at offset=" + di
                        + ") continues a large block but follows no large head");
                default -> throw slab.corrupt("page " + i + " (descriptor at offset=" + di + ") has unknown kind=" + kind);
            }
        }
        verifyFreeRuns(freeCount);
        for (int c = 0; c < slab.classCount; c++) {
            verifyClass(c, total[c], used[c], partial);
        }
        if (!partial.isEmpty()) {
            int p = partial.nextSetBit(0);
            throw slab.corrupt("small page " + p + " has free slots but is on no partial list");
        }
        if (Mem.getLong(slab.m, slab.base + OFF_LARGE_PAGES) != largePages || Mem.getLong(slab.m, slab.base + OFF_LARGE_ALLOCS) != largeAllocs) {
            throw slab.corrupt("large counters at offset=" + (slab.base + OFF_LARGE_PAGES) + " say slab.pages=" + Mem.getLong(slab.m, slab.base + OFF_LARGE_PAGES)
                    + " allocs=" + Mem.getLong(slab.m, slab.base + OFF_LARGE_ALLOCS) + " but descriptors say slab.pages=" + largePages
                    + " allocs=" + largeAllocs);
        }
    }
    /** Every block recorded in a live thread cache is an allocated small slot of its class. */
    void verifyCaches() {
        for (int e = 0; e < core.entries(); e++) {
            long at = core.entryAt(e);
            if (!OwnerRecords.inUse(slab.m, at)) {
                continue;
            }
            for (int c = 0; c < slab.classCount; c++) {
                long ea = at + Entry.OFF_CLASSES + c * CacheClass.BYTES;
                long n = Mem.getLongAcquire(slab.m, ea + CacheClass.OFF_COUNT); // acquire: offsets below it are written
                if (n < 0 || n > CACHE_SLOTS) {
                    throw slab.corrupt("thread cache " + e + " class " + (8L << c) + ": count at offset=" + (ea + CacheClass.OFF_COUNT)
                            + " is " + n);
                }
                for (int i = 0; i < n; i++) {
                    long where = ea + CacheClass.OFF_OFFSETS + 8L * i;
                    long off = Mem.getLong(slab.m, where);
                    int p = (int) ((off - slab.pages) >>> slab.pageShift);
                    boolean ok = off >= slab.pages && off < slab.pagesEnd && Mem.getInt(slab.m, slab.d(p) + Descriptor.OFF_KIND) == KIND_SMALL
                            && Mem.getInt(slab.m, slab.d(p) + Descriptor.OFF_INFO) == c && (((off - slab.pages) & (slab.pageSize - 1)) & ((8L << c) - 1)) == 0;
                    if (ok) {
                        int slot = (int) (((off - slab.pages) & (slab.pageSize - 1)) >>> (c + MIN_SHIFT));
                        ok = (Mem.getLong(slab.m, slab.d(p) + Descriptor.OFF_BITMAP + 8L * (slot >>> 6)) & (1L << (slot & 63))) != 0;
                    }
                    if (!ok) {
                        throw slab.corrupt("thread cache " + e + " holds offset=" + off + " (recorded at offset=" + where
                                + ") which is not an allocated " + (8L << c) + "-byte slot");
                    }
                }
            }
        }
    }
    private void verifyFreeRuns(long freeCount) {
        BitSet seen = new BitSet(slab.pageCount);
        long listed = 0;
        int prev = LINK_NONE;
        long where = slab.base + OFF_FREE_HEAD;
        int h = Mem.getInt(slab.m, where);
        for (int steps = 0; h != LINK_NONE; steps++) {
            if (steps > slab.pageCount || h < 0 || h >= slab.pageCount) {
                throw slab.corrupt("free page list link at offset=" + where + " is " + h
                        + (steps > slab.pageCount ? " (cycle)" : " (out of range)"));
            }
            long dh = slab.d(h);
            int len = Mem.getInt(slab.m, dh + Descriptor.OFF_INFO);
            if (Mem.getInt(slab.m, dh + Descriptor.OFF_KIND) != KIND_FREE || len < 1 || len > slab.pageCount - h || seen.get(h)) {
                throw slab.corrupt("free page list link at offset=" + where + " points at page " + h + " (kind="
                        + Mem.getInt(slab.m, dh + Descriptor.OFF_KIND) + " run=" + len + (seen.get(h) ? ", listed twice: the list has a cycle" : "") + ")");
            }
            if (Mem.getInt(slab.m, dh + Descriptor.OFF_PREV) != prev) {
                throw slab.corrupt("free run at page " + h + ": back link at offset=" + (dh + Descriptor.OFF_PREV) + " is "
                        + Mem.getInt(slab.m, dh + Descriptor.OFF_PREV) + ", expected " + prev);
            }
            for (int j = h; j < h + len; j++) {
                if (Mem.getInt(slab.m, slab.d(j) + Descriptor.OFF_KIND) != KIND_FREE) {
                    throw slab.corrupt("free run at page " + h + " of " + len + " slab.pages contains page " + j
                            + " of kind " + Mem.getInt(slab.m, slab.d(j) + Descriptor.OFF_KIND));
                }
            }
            long dt = slab.d(h + len - 1);
            if (Mem.getInt(slab.m, dt + Descriptor.OFF_RUN_HEAD) != h || Mem.getInt(slab.m, dt + Descriptor.OFF_INFO) != len) {
                throw slab.corrupt("free run at page " + h + ": tail descriptor at offset=" + dt
                        + " says head=" + Mem.getInt(slab.m, dt + Descriptor.OFF_RUN_HEAD) + " run=" + Mem.getInt(slab.m, dt + Descriptor.OFF_INFO));
            }
            if ((h > 0 && Mem.getInt(slab.m, slab.d(h - 1) + Descriptor.OFF_KIND) == KIND_FREE)
                    || (h + len < slab.pageCount && Mem.getInt(slab.m, slab.d(h + len) + Descriptor.OFF_KIND) == KIND_FREE)) {
                throw slab.corrupt("free run at page " + h + " of " + len + " slab.pages touches another free page (not coalesced)");
            }
            seen.set(h, h + len);
            listed += len;
            prev = h;
            where = dh + Descriptor.OFF_NEXT;
            h = Mem.getInt(slab.m, where);
        }
        if (listed != freeCount) {
            throw slab.corrupt("free runs hold " + listed + " slab.pages but " + freeCount + " descriptors say free");
        }
        if (Mem.getLong(slab.m, slab.base + OFF_FREE_PAGES) != freeCount) {
            throw slab.corrupt("free slab.pages counter at offset=" + (slab.base + OFF_FREE_PAGES) + " is " + Mem.getLong(slab.m, slab.base + OFF_FREE_PAGES)
                    + ", descriptors say " + freeCount);
        }
    }
    private void verifyClass(int c, long total, long used, BitSet partial) {
        long ca = slab.cls(c);
        if (Mem.getLong(slab.m, ca + SizeClass.OFF_TOTAL) != total || Mem.getLong(slab.m, ca + SizeClass.OFF_USED) != used) {
            throw slab.corrupt("class " + (8L << c) + " counters at offset=" + ca + " say total=" + Mem.getLong(slab.m, ca + SizeClass.OFF_TOTAL)
                    + " used=" + Mem.getLong(slab.m, ca + SizeClass.OFF_USED) + " but bitmaps say total=" + total + " used=" + used);
        }
        int prev = LINK_NONE;
        long where = ca + SizeClass.OFF_PARTIAL;
        int p = Mem.getInt(slab.m, where);
        for (int steps = 0; p != LINK_NONE; steps++) {
            if (steps > slab.pageCount || p < 0 || p >= slab.pageCount) {
                throw slab.corrupt("partial list of class " + (8L << c) + ": link at offset=" + where + " is " + p
                        + (steps > slab.pageCount ? " (cycle)" : " (out of range)"));
            }
            long dp = slab.d(p);
            if (Mem.getInt(slab.m, dp + Descriptor.OFF_KIND) != KIND_SMALL || Mem.getInt(slab.m, dp + Descriptor.OFF_INFO) != c || !partial.get(p)) {
                throw slab.corrupt("partial list of class " + (8L << c) + ": link at offset=" + where + " points at page "
                        + p + " which is not a partial page of that class (or is listed twice)");
            }
            if (Mem.getInt(slab.m, dp + Descriptor.OFF_PREV) != prev) {
                throw slab.corrupt("partial list of class " + (8L << c) + ": back link at offset=" + (dp + Descriptor.OFF_PREV)
                        + " is " + Mem.getInt(slab.m, dp + Descriptor.OFF_PREV) + ", expected " + prev);
            }
            partial.clear(p);
            prev = p;
            where = dp + Descriptor.OFF_NEXT;
            p = Mem.getInt(slab.m, where);
        }
    }
}
