package io.shmkit.cli.torture;

import io.shmkit.internal.Mem;

import java.lang.foreign.MemorySegment;

/**
 * A window of the torture segment's fact region: the words one exerciser keeps for the whole
 * run or for one worker slot. Every access is volatile, so a SIGKILLed worker's facts are
 * exactly what it stored before it died. Offsets are relative to the window.
 */
final class Facts {
    final MemorySegment m;
    final long base;
    final long length;

    Facts(MemorySegment m, long base, long length) {
        this.m = m;
        this.base = base;
        this.length = length;
    }

    long get(long off) {
        return Mem.getLongVolatile(m, at(off));
    }

    void set(long off, long v) {
        Mem.setLongVolatile(m, at(off), v);
    }

    long add(long off, long v) {
        return Mem.getAndAddLong(m, at(off), v);
    }

    boolean cas(long off, long expect, long v) {
        return Mem.casLong(m, at(off), expect, v);
    }

    /** The absolute segment offset of word {@code off} (to place a lock or a condition there). */
    long at(long off) {
        if (off < 0 || off + 8 > length) {
            throw new IndexOutOfBoundsException("fact offset " + off + " outside a window of " + length + " bytes");
        }
        return base + off;
    }
}
