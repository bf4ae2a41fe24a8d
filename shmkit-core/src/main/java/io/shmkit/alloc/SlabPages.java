package io.shmkit.alloc;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.Mem;

import java.lang.foreign.MemorySegment;

import static io.shmkit.internal.SlabLayout.*;

/**
 * The pages of a {@link SlabAllocator}: size classes (small pages with a bitmap per page and a
 * partial list per class), large blocks (runs of whole pages) and the free runs they are cut
 * from, with the rebuild of every list and counter from the descriptors after a lock holder
 * died. Every method runs with the slab's lock held (or in single-threaded mode); the layout
 * is {@code SlabLayout}.
 */
final class SlabPages {

    final String name;
    final MemorySegment m;
    final long base;
    final long pageSize;
    final int pageShift;
    final int pageCount;
    final int classCount;
    final long descBase;
    final long descSize;
    final long pages;     // segment offset of page 0
    final long pagesEnd;

    SlabPages(String name, MemorySegment m, long base) {
        this.name = name;
        this.m = m;
        this.base = base;
        this.pageSize = Mem.getLong(m, base + OFF_PAGE_SIZE);
        this.pageShift = Long.numberOfTrailingZeros(pageSize);
        this.pageCount = (int) Mem.getLong(m, base + OFF_PAGE_COUNT);
        this.classCount = classCount(pageSize);
        this.descBase = base + Mem.getLong(m, base + OFF_DESC_AT);
        this.descSize = descSize(pageSize);
        this.pages = base + Mem.getLong(m, base + OFF_PAGES_AT);
        this.pagesEnd = pages + (long) pageCount * pageSize;
    }

    long d(int page) {
        return descBase + page * descSize;
    }
    long cls(int c) {
        return base + OFF_CLASSES + c * SizeClass.BYTES;
    }
    void addl(long off, long delta) {
        Mem.setLong(m, off, Mem.getLong(m, off) + delta);
    }
    static int classOf(long size) {
        int bits = 64 - Long.numberOfLeadingZeros(size - 1);
        return Math.max(0, bits - MIN_SHIFT);
    }
    int slotsOf(int c) {
        return (int) (pageSize >>> (c + MIN_SHIFT));
    }
    long allocSmall(int c) {
        long ca = cls(c);
        int p = Mem.getInt(m, ca + SizeClass.OFF_PARTIAL);
        int slots = slotsOf(c);
        if (p == LINK_NONE) {
            p = takePages(1);
            if (p < 0) {
                return 0;
            }
            long dp = d(p);
            m.asSlice(dp + Descriptor.OFF_BITMAP, descSize - Descriptor.OFF_BITMAP).fill((byte) 0);
            Mem.setInt(m, dp + Descriptor.OFF_INFO, c);
            Mem.setInt(m, dp + Descriptor.OFF_USED, 0);
            Mem.setInt(m, dp + Descriptor.OFF_KIND, KIND_SMALL); // an empty small page: repair reads it as free
            push(ca + SizeClass.OFF_PARTIAL, p);
            addl(ca + SizeClass.OFF_TOTAL, slots);
        } else if (p < 0 || p >= pageCount || Mem.getInt(m, d(p) + Descriptor.OFF_KIND) != KIND_SMALL || Mem.getInt(m, d(p) + Descriptor.OFF_INFO) != c) {
            throw corrupt("partial list of class " + (8L << c) + " at offset=" + (ca + SizeClass.OFF_PARTIAL)
                    + " points at page " + p + ", which is not a small page of that class");
        }
        long dp = d(p);
        int words = (slots + 63) >>> 6;
        for (int w = 0; w < words; w++) {
            long wa = dp + Descriptor.OFF_BITMAP + 8L * w;
            long bits = Mem.getLong(m, wa);
            if (bits != -1L) {
                int bit = Long.numberOfTrailingZeros(~bits);
                int slot = (w << 6) + bit;
                if (slot >= slots) {
                    break;
                }
                Mem.setLong(m, wa, bits | (1L << bit)); // the commit: the bitmap says used
                int used = Mem.getInt(m, dp + Descriptor.OFF_USED) + 1;
                Mem.setInt(m, dp + Descriptor.OFF_USED, used);
                if (used == slots) {
                    remove(ca + SizeClass.OFF_PARTIAL, p);
                }
                addl(ca + SizeClass.OFF_USED, 1);
                return pages + ((long) p << pageShift) + ((long) slot << (c + MIN_SHIFT));
            }
        }
        throw corrupt("page " + p + " (descriptor at offset=" + dp + ") is on the partial list of class "
                + (8L << c) + " but its bitmap has no free slot");
    }
    long allocLarge(int n) {
        int h = takePages(n);
        if (h < 0) {
            return 0;
        }
        for (int i = 1; i < n; i++) {
            Mem.setInt(m, d(h + i) + Descriptor.OFF_KIND, KIND_CONT);
        }
        Mem.setInt(m, d(h) + Descriptor.OFF_INFO, n);
        Mem.setInt(m, d(h) + Descriptor.OFF_KIND, KIND_LARGE); // the commit: a head with its page count
        addl(base + OFF_LARGE_PAGES, n);
        addl(base + OFF_LARGE_ALLOCS, 1);
        return pages + ((long) h << pageShift);
    }
    /** First fit over the free runs; returns the first page of {@code n} taken pages, or -1. */
    int takePages(int n) {
        long headAddr = base + OFF_FREE_HEAD;
        int h = Mem.getInt(m, headAddr);
        for (int steps = 0; h != LINK_NONE; steps++) {
            if (steps > pageCount || h < 0 || h >= pageCount) {
                throw corrupt("free page list is broken near page " + h + " (after " + steps + " runs)");
            }
            long dh = d(h);
            int len = Mem.getInt(m, dh + Descriptor.OFF_INFO);
            if (Mem.getInt(m, dh + Descriptor.OFF_KIND) != KIND_FREE || len < 1 || len > pageCount - h) {
                throw corrupt("free page list holds page " + h + " (descriptor at offset=" + dh + ") with kind="
                        + Mem.getInt(m, dh + Descriptor.OFF_KIND) + " run=" + len);
            }
            if (len >= n) {
                remove(headAddr, h);
                if (len > n) {
                    setRun(h + n, len - n);
                    push(headAddr, h + n);
                }
                addl(base + OFF_FREE_PAGES, -n);
                return h;
            }
            h = Mem.getInt(m, dh + Descriptor.OFF_NEXT);
        }
        return -1;
    }
    void setRun(int h, int len) {
        long dh = d(h);
        Mem.setInt(m, dh + Descriptor.OFF_KIND, KIND_FREE);
        Mem.setInt(m, dh + Descriptor.OFF_INFO, len);
        Mem.setInt(m, dh + Descriptor.OFF_RUN_HEAD, h);
        long dt = d(h + len - 1);
        Mem.setInt(m, dt + Descriptor.OFF_INFO, len);
        Mem.setInt(m, dt + Descriptor.OFF_RUN_HEAD, h);
    }
    /** A page link read at {@code at}: {@code LINK_NONE} or a page index; anything else is damage. */
    int link(long at) {
        int q = Mem.getInt(m, at);
        if (q != LINK_NONE && (q < 0 || q >= pageCount)) {
            throw corrupt("page list link at offset=" + at + " is " + q + ", not a page in [0, " + pageCount + ")");
        }
        return q;
    }
    void push(long headAddr, int p) {
        int old = link(headAddr);
        long dp = d(p);
        Mem.setInt(m, dp + Descriptor.OFF_NEXT, old);
        Mem.setInt(m, dp + Descriptor.OFF_PREV, LINK_NONE);
        if (old != LINK_NONE) {
            Mem.setInt(m, d(old) + Descriptor.OFF_PREV, p);
        }
        Mem.setInt(m, headAddr, p);
    }
    void remove(long headAddr, int p) {
        long dp = d(p);
        int next = link(dp + Descriptor.OFF_NEXT);
        int prev = link(dp + Descriptor.OFF_PREV);
        if (prev == LINK_NONE) {
            Mem.setInt(m, headAddr, next);
        } else {
            Mem.setInt(m, d(prev) + Descriptor.OFF_NEXT, next);
        }
        if (next != LINK_NONE) {
            Mem.setInt(m, d(next) + Descriptor.OFF_PREV, prev);
        }
    }
    void freeSmall(long offset, int p, long dp, long inPage) {
        int c = Mem.getInt(m, dp + Descriptor.OFF_INFO);
        if (c < 0 || c >= classCount) {
            throw corrupt("small page " + p + " (descriptor at offset=" + dp + ") has class index " + c);
        }
        int shift = c + MIN_SHIFT;
        if ((inPage & ((1L << shift) - 1)) != 0) {
            throw new IllegalArgumentException("slab '" + name + "': offset=" + offset
                    + " is not the start of a " + (1L << shift) + "-byte slot");
        }
        int slot = (int) (inPage >>> shift);
        long wa = dp + Descriptor.OFF_BITMAP + 8L * (slot >>> 6);
        long bits = Mem.getLong(m, wa);
        long bit = 1L << (slot & 63);
        if ((bits & bit) == 0) {
            throw new IllegalArgumentException("slab '" + name + "': offset=" + offset
                    + " is not allocated (slot " + slot + " of page " + p + " is free; double free?)");
        }
        Mem.setLong(m, wa, bits & ~bit); // the commit: the bitmap says free
        int slots = slotsOf(c);
        int used = Mem.getInt(m, dp + Descriptor.OFF_USED) - 1;
        Mem.setInt(m, dp + Descriptor.OFF_USED, used);
        long ca = cls(c);
        addl(ca + SizeClass.OFF_USED, -1);
        if (used == slots - 1) {
            push(ca + SizeClass.OFF_PARTIAL, p);
        }
        if (used == 0 && (Mem.getInt(m, ca + SizeClass.OFF_PARTIAL) != p || Mem.getInt(m, dp + Descriptor.OFF_NEXT) != LINK_NONE)) {
            remove(ca + SizeClass.OFF_PARTIAL, p);
            addl(ca + SizeClass.OFF_TOTAL, -slots);
            Mem.setInt(m, dp + Descriptor.OFF_KIND, KIND_FREE);
            freeRun(p, 1);
        }
    }
    /** Returns pages {@code [p, p + n)} (already marked free) to the runs, merging with free neighbours. */
    void freeRun(int p, int n) {
        long headAddr = base + OFF_FREE_HEAD;
        int start = p;
        int len = n;
        int right = p + n;
        if (right < pageCount && Mem.getInt(m, d(right) + Descriptor.OFF_KIND) == KIND_FREE) {
            long dr = d(right);
            int rlen = Mem.getInt(m, dr + Descriptor.OFF_INFO);
            if (Mem.getInt(m, dr + Descriptor.OFF_RUN_HEAD) != right || rlen < 1 || rlen > pageCount - right) {
                throw corrupt("free page " + right + " (descriptor at offset=" + dr
                        + ") after a used run is not the head of a valid free run");
            }
            remove(headAddr, right);
            len += rlen;
        }
        int left = p - 1;
        if (left >= 0 && Mem.getInt(m, d(left) + Descriptor.OFF_KIND) == KIND_FREE) {
            long dl = d(left);
            int lh = Mem.getInt(m, dl + Descriptor.OFF_RUN_HEAD);
            if (lh < 0 || lh > left || Mem.getInt(m, d(lh) + Descriptor.OFF_KIND) != KIND_FREE || lh + Mem.getInt(m, d(lh) + Descriptor.OFF_INFO) != p) {
                throw corrupt("free page " + left + " (descriptor at offset=" + dl
                        + ") before a used run is not the tail of a valid free run (run head=" + lh + ")");
            }
            remove(headAddr, lh);
            start = lh;
            len += p - lh;
        }
        setRun(start, len);
        push(headAddr, start);
        addl(base + OFF_FREE_PAGES, n);
    }
    static String kindName(int kind) {
        return switch (kind) {
            case KIND_FREE -> "free";
            case KIND_SMALL -> "small";
            case KIND_LARGE -> "the head of a large block";
            case KIND_CONT -> "inside a large block";
            default -> "of unknown kind " + kind;
        };
    }
    /** Frees a small block that was in a cache (lock held); tolerates a block already free. */
    void releaseSmall(long off) {
        if (off < pages || off >= pagesEnd) {
            return;
        }
        int p = (int) ((off - pages) >>> pageShift);
        long dp = d(p);
        if (Mem.getInt(m, dp + Descriptor.OFF_KIND) != KIND_SMALL) {
            return;
        }
        long inPage = (off - pages) & (pageSize - 1);
        int c = Mem.getInt(m, dp + Descriptor.OFF_INFO);
        if (c < 0 || c >= classCount || (inPage & ((1L << (c + MIN_SHIFT)) - 1)) != 0) {
            return;
        }
        int slot = (int) (inPage >>> (c + MIN_SHIFT));
        if ((Mem.getLong(m, dp + Descriptor.OFF_BITMAP + 8L * (slot >>> 6)) & (1L << (slot & 63))) != 0) {
            freeSmall(off, p, dp, inPage);
        }
    }
    int countBits(int page, long di, int slots) {
        int words = (slots + 63) >>> 6;
        int n = 0;
        for (int w = 0; w < bitmapWords(pageSize); w++) {
            long bits = Mem.getLong(m, di + Descriptor.OFF_BITMAP + 8L * w);
            long valid = w < words - 1 ? -1L : w == words - 1 ? (slots - (w << 6) == 64 ? -1L : (1L << (slots - (w << 6))) - 1) : 0;
            if ((bits & ~valid) != 0) {
                throw corrupt("small page " + page + ": bitmap word at offset=" + (di + Descriptor.OFF_BITMAP + 8L * w)
                        + " has bits set beyond the page's " + slots + " slots");
            }
            n += Long.bitCount(bits);
        }
        return n;
    }
    /**
     * Rebuilds every list and counter from the descriptors' kinds, the large heads' page counts
     * and the bitmaps (lock held). Small pages without a set bit and orphan continuation pages
     * become free; free pages are coalesced into maximal runs.
     */
    void rebuild() {
        Mem.setInt(m, base + OFF_FREE_HEAD, LINK_NONE);
        Mem.setLong(m, base + OFF_FREE_PAGES, 0);
        Mem.setLong(m, base + OFF_LARGE_PAGES, 0);
        Mem.setLong(m, base + OFF_LARGE_ALLOCS, 0);
        for (int c = 0; c < classCount; c++) {
            long ca = cls(c);
            Mem.setInt(m, ca + SizeClass.OFF_PARTIAL, LINK_NONE);
            Mem.setLong(m, ca + SizeClass.OFF_TOTAL, 0);
            Mem.setLong(m, ca + SizeClass.OFF_USED, 0);
        }
        int i = 0;
        while (i < pageCount) {
            long di = d(i);
            int kind = Mem.getInt(m, di + Descriptor.OFF_KIND);
            if (kind == KIND_LARGE) {
                int n = Mem.getInt(m, di + Descriptor.OFF_INFO);
                if (n >= 1 && n <= pageCount - i) {
                    for (int j = 1; j < n; j++) {
                        Mem.setInt(m, d(i + j) + Descriptor.OFF_KIND, KIND_CONT);
                    }
                    addl(base + OFF_LARGE_PAGES, n);
                    addl(base + OFF_LARGE_ALLOCS, 1);
                    i += n;
                    continue;
                }
                throw corrupt("cannot repair: large head page " + i + " (descriptor at offset=" + di + ") has run=" + n);
            }
            if (kind == KIND_SMALL) {
                int c = Mem.getInt(m, di + Descriptor.OFF_INFO);
                if (c < 0 || c >= classCount) {
                    throw corrupt("cannot repair: small page " + i + " (descriptor at offset=" + di
                            + ") has class index " + c);
                }
                int slots = slotsOf(c);
                int u = countBits(i, di, slots);
                if (u > 0) {
                    Mem.setInt(m, di + Descriptor.OFF_USED, u);
                    long ca = cls(c);
                    addl(ca + SizeClass.OFF_TOTAL, slots);
                    addl(ca + SizeClass.OFF_USED, u);
                    if (u < slots) {
                        push(ca + SizeClass.OFF_PARTIAL, i);
                    }
                    i++;
                    continue;
                }
            } else if (kind != KIND_FREE && kind != KIND_CONT) {
                throw corrupt("cannot repair: page " + i + " (descriptor at offset=" + di + ") has unknown kind=" + kind);
            }
            Mem.setInt(m, di + Descriptor.OFF_KIND, KIND_FREE);
            i++;
        }
        for (int p = 0; p < pageCount; ) {
            if (Mem.getInt(m, d(p) + Descriptor.OFF_KIND) != KIND_FREE) {
                p++;
                continue;
            }
            int q = p;
            while (q < pageCount && Mem.getInt(m, d(q) + Descriptor.OFF_KIND) == KIND_FREE) {
                q++;
            }
            setRun(p, q - p);
            push(base + OFF_FREE_HEAD, p);
            addl(base + OFF_FREE_PAGES, q - p);
            p = q;
        }
    }
    SegmentCorruptedException corrupt(String what) {
        return new SegmentCorruptedException("slab '" + name + "' at offset=" + base + ": " + what);
    }
}
