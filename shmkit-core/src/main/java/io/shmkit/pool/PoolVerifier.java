package io.shmkit.pool;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.Mem;
import io.shmkit.internal.PoolBlockLayout;
import io.shmkit.internal.PoolBlockLayout.Slot;

import java.lang.foreign.MemorySegment;

import static io.shmkit.internal.PoolBaseLayout.*;

/** {@link Pools#verify()}: every invariant of the base record, the slots and the key indexes. */
final class PoolVerifier {

    private final Pools pools;

    PoolVerifier(Pools pools) {
        this.pools = pools;
    }

    void run() {
        if (Mem.getInt(pools.base, pools.b + OFF_INTENT + Intent.OFF_OP) != OP_NONE) {
            throw corrupt("an allocate/free intent is pending outside an operation");
        }
        if (pools.undo.state() != TX_IDLE) {
            throw corrupt("the undo log is not idle outside a transaction: state=" + pools.undo.state());
        }
        long[] blockUsed = new long[pools.blocks.length];
        for (Pool p : pools.pools) {
            verifyType(p);
            long bytes = Pools.chunkBytes(p.stride, 1L << p.shift);
            for (int c = 0; c < p.chunks; c++) {
                blockUsed[p.chunkBlock[c]] += bytes;
            }
        }
        for (int i = 0; i < pools.blocks.length; i++) {
            long be = pools.b + blockEntry(i);
            long used = pools.get0(be + BlockEntry.OFF_USED);
            long free = pools.get0(be + BlockEntry.OFF_FREE);
            if (used + free != pools.config.usableBlockBytes() || used < blockUsed[i]) {
                throw corrupt("block " + i + ": used=" + used + " free=" + free + " (usable "
                        + pools.config.usableBlockBytes() + ", chunks of registered types take " + blockUsed[i] + ")");
            }
        }
    }

    private void verifyType(Pool p) {
        long e = p.entry;
        long used = pools.get0(e + TypeEntry.OFF_USED);
        long hwm = pools.get0(e + TypeEntry.OFF_HWM);
        long head = pools.get0(e + TypeEntry.OFF_HEAD);
        String t = p.def.label();
        if (hwm < 0 || hwm > ((long) p.chunks << p.shift) || hwm > p.def.capacity()) {
            throw corrupt(t + ": high water mark " + hwm + " beyond its " + p.chunks + " chunks or capacity");
        }
        long allocated = 0;
        for (long s = 0; s < hwm; s++) {
            MemorySegment m = p.slotMemory(s);
            long at = p.slotOffset(s);
            long meta = Mem.getLong(m, at + Slot.OFF_META);
            long state = meta & PoolBlockLayout.STATE_MASK;
            if (state == PoolBlockLayout.STATE_ALLOCATED) {
                allocated++;
                if (Mem.getLong(m, at + Slot.OFF_VERSION) % 2 != 0) {
                    throw corrupt(t + ": slot " + s + " has an odd version outside a transaction");
                }
                if (p.keyed) {
                    long key = Mem.getLong(m, at + Slot.OFF_KEY);
                    long h = Handles.of(p.id, s, PoolBlockLayout.generation(meta));
                    if (p.index.find(key) != h) {
                        throw corrupt(t + ": key " + key + " of slot " + s + " maps to "
                                + Handles.toString(p.index.find(key)) + ", expected " + Handles.toString(h));
                    }
                }
            } else if (state != PoolBlockLayout.STATE_FREE) {
                throw corrupt(t + ": slot " + s + " below the high water mark has state " + state);
            }
        }
        if (allocated != used) {
            throw corrupt(t + ": " + allocated + " slots are allocated but the used count is " + used);
        }
        long onList = 0;
        for (long s = head; s != -1; ) {
            if (s < 0 || s >= hwm || ++onList > hwm) {
                throw corrupt(t + ": free list reaches slot " + s + " (high water mark " + hwm + ", length " + onList + ")");
            }
            long meta = Mem.getLong(p.slotMemory(s), p.slotOffset(s) + Slot.OFF_META);
            if ((meta & PoolBlockLayout.STATE_MASK) != PoolBlockLayout.STATE_FREE) {
                throw corrupt(t + ": allocated slot " + s + " is on the free list");
            }
            s = Mem.getLong(p.slotMemory(s), p.slotOffset(s) + p.recordAt);
        }
        if (onList != hwm - used) {
            throw corrupt(t + ": free list holds " + onList + " slots, expected " + (hwm - used) + " (leak)");
        }
        if (p.keyed) {
            p.index.verify();
        }
        if (p.keyed && p.index.size() != used) {
            throw corrupt(t + ": key index holds " + p.index.size() + " keys for " + used + " objects");
        }
    }

    private SegmentCorruptedException corrupt(String what) {
        return new SegmentCorruptedException("pools of process '" + pools.config.process() + "': " + what);
    }
}
