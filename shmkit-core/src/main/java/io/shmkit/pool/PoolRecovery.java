package io.shmkit.pool;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.Mem;
import io.shmkit.internal.PoolBlockLayout;
import io.shmkit.internal.PoolBlockLayout.Slot;
import io.shmkit.internal.SegmentHeader;
import io.shmkit.internal.index.KeyIndex;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;

import static io.shmkit.internal.PoolBaseLayout.*;

/**
 * Resume's repair of what a crash interrupted, in constant time: the pending allocate (undone),
 * free (completed) or new chunk (undone) of the intent record, an interrupted change of a key
 * index, then the undo log (a transaction rolled back, or its commit finished). Also the
 * runtime view of a stored type entry ({@link #attach}).
 */
final class PoolRecovery {


    private PoolRecovery() {
    }

    /** Finishes or undoes the interrupted allocate/free/grow, then the interrupted transaction. */
    static void recover(Pools pools, Map<Integer, Integer> entries, List<String> report) {
        // stored-view pools: recovery works on the data as it is, before any migration
        for (Map.Entry<Integer, Integer> en : entries.entrySet()) {
            Pool p = storedPool(pools, en.getKey(), pools.b + typeEntry(en.getValue()));
            pools.byId[en.getKey()] = p;
        }
        MemorySegment m = pools.base;
        long i = pools.b + OFF_INTENT;
        int op = Mem.getInt(m, i + Intent.OFF_OP);
        for (Pool p : pools.byId) {
            if (p != null && p.keyed && op == OP_NONE && p.index.index.needsRepair()) {
                report.add(p.def.label() + " key index: " + p.index.index.repair());
            }
        }
        if (op != OP_NONE) {
            int type = Mem.getInt(m, i + Intent.OFF_TYPE);
            Pool p = type >= 0 && type <= MAX_TYPE_ID ? pools.byId[type] : null;
            if (p == null) {
                throw new SegmentCorruptedException("intent record names unknown type " + type);
            }
            long slot = Mem.getLong(m, i + Intent.OFF_SLOT);
            if (p.keyed && op != OP_GROW) {
                // the interrupted change may have left the index mid-delete or its size uncounted:
                // one pass over that index (work proportional to the interrupted type's index only)
                String did = p.index.index.repair();
                if (did != null) {
                    report.add(p.def.label() + " key index: " + did);
                }
            }
            switch (op) {
                case OP_ALLOCATE -> {
                    undoAllocate(pools, p, slot);
                    report.add("rolled back an allocate of " + p.def.label() + " slot " + slot
                            + (p.keyed ? " (key " + Mem.getLong(m, i + Intent.OFF_KEY) + ")" : "") + " interrupted by a crash");
                }
                case OP_FREE -> {
                    pools.redoFree(p, slot, Mem.getLong(m, i + Intent.OFF_PREV_HEAD), Mem.getLong(m, i + Intent.OFF_PREV_META),
                            Mem.getLong(m, i + Intent.OFF_PREV_USED), Mem.getLong(m, i + Intent.OFF_KEY));
                    report.add("completed a free of " + p.def.label() + " slot " + slot
                            + (p.keyed ? " (key " + Mem.getLong(m, i + Intent.OFF_KEY) + ")" : "") + " interrupted by a crash");
                }
                case OP_GROW -> {
                    int block = (int) Mem.getLong(m, i + Intent.OFF_BLOCK);
                    long prevUsed = Mem.getLong(m, i + Intent.OFF_PREV_BLOCK_USED);
                    long be = pools.b + blockEntry(block);
                    pools.set0(be + BlockEntry.OFF_USED, prevUsed);
                    pools.set0(be + BlockEntry.OFF_FREE, pools.config.usableBlockBytes() - prevUsed);
                    pools.set0(p.entry + TypeEntry.OFF_CHUNK_COUNT, Mem.getLong(m, i + Intent.OFF_PREV_CHUNKS));
                    report.add("rolled back a new chunk for " + p.def.label() + " interrupted by a crash");
                }
                default -> throw new SegmentCorruptedException("intent record has unknown op " + op);
            }
            Mem.setIntRelease(m, i + Intent.OFF_OP, OP_NONE);
            // the stored views may now be out of date (chunk count): rebuild them
            for (Map.Entry<Integer, Integer> en : entries.entrySet()) {
                pools.byId[en.getKey()] = storedPool(pools, en.getKey(), pools.b + typeEntry(en.getValue()));
            }
        }
        long state = pools.undo.state();
        if (state == TX_ACTIVE) {
            int n = pools.undo.rollback();
            report.add("rolled back a transaction interrupted by a crash (" + n + " undo entries:" + pools.undo.lastRollback + ")");
        } else if (state == TX_COMMITTED) {
            pools.undo.finishCommit();
            report.add("finished the commit of a transaction interrupted by a crash");
        }
        java.util.Arrays.fill(pools.byId, null);
    }

    private static void undoAllocate(Pools pools, Pool p, long slot) {
        MemorySegment m = pools.base;
        long i = pools.b + OFF_INTENT;
        long prevHead = Mem.getLong(m, i + Intent.OFF_PREV_HEAD);
        long newMeta = Mem.getLong(m, i + Intent.OFF_NEW_META);
        if (p.keyed) {
            p.index.remove(Mem.getLong(m, i + Intent.OFF_KEY), Handles.of(p.id, slot, PoolBlockLayout.generation(newMeta)));
        }
        MemorySegment sm = p.slotMemory(slot);
        long at = p.slotOffset(slot);
        Mem.setLongRelease(sm, at + Slot.OFF_META, Mem.getLong(m, i + Intent.OFF_PREV_META));
        if (prevHead == slot) {
            Mem.setLong(sm, at + p.recordAt, Mem.getLong(m, i + Intent.OFF_PREV_NEXT));
        }
        pools.set0(p.entry + TypeEntry.OFF_HEAD, prevHead);
        pools.set0(p.entry + TypeEntry.OFF_HWM, Mem.getLong(m, i + Intent.OFF_PREV_HWM));
        pools.set0(p.entry + TypeEntry.OFF_USED, Mem.getLong(m, i + Intent.OFF_PREV_USED));
    }

    /** A Pool over a stored entry as it is (its own record size and stride), for recovery. */
    static Pool storedPool(Pools pools, int id, long e) {
        MemorySegment m = pools.base;
        String name = SegmentHeader.readString(m, e + TypeEntry.OFF_NAME, NAME_BYTES);
        long size = Mem.getLong(m, e + TypeEntry.OFF_RECORD_SIZE);
        boolean keyed = Mem.getInt(m, e + TypeEntry.OFF_KEYED) != 0;
        long cap = Mem.getLong(m, e + TypeEntry.OFF_CAPACITY);
        TypeDef def = new TypeDef(id, name.isEmpty() ? "?" : name,
                java.lang.foreign.MemoryLayout.sequenceLayout(Math.max(1, size), ValueLayout.JAVA_BYTE),
                Math.max(1, Math.min(cap, TypeDef.MAX_CAPACITY)), keyed);
        return attach(pools, def, e);
    }

    /** Builds the runtime view of entry {@code e}: chunk table and index, checked against the blocks. */
    static Pool attach(Pools pools, TypeDef def, long e) {
        MemorySegment m = pools.base;
        long stride = Mem.getLong(m, e + TypeEntry.OFF_STRIDE);
        int shift = Mem.getInt(m, e + TypeEntry.OFF_CHUNK_SHIFT);
        long chunks = Mem.getLong(m, e + TypeEntry.OFF_CHUNK_COUNT);
        if (shift < 0 || shift > 28 || stride < 16 || chunks < 0 || chunks > MAX_CHUNKS) {
            throw new SegmentCorruptedException(def.label() + ": type entry damaged: stride=" + stride + " shift=" + shift
                    + " chunks=" + chunks);
        }
        Pool p = new Pool(pools, def, e, stride, shift);
        for (int c = 0; c < chunks; c++) {
            long w = Mem.getLong(m, chunk(e - pools.b, c) + pools.b);
            int block = chunkBlock(w);
            long off = chunkOffset(w);
            if (block >= pools.blocks.length || off + Pools.chunkBytes(stride, 1L << shift) > pools.blocks[block].byteSize()) {
                throw new SegmentCorruptedException(def.label() + ": chunk " + c + " at block " + block + " offset " + off
                        + " lies outside the data blocks");
            }
            pools.attachChunk(p, c, block, off);
        }
        p.chunks = (int) chunks;
        if (def.keyed()) {
            int block = Mem.getInt(m, e + TypeEntry.OFF_INDEX_BLOCK);
            long off = Mem.getLong(m, e + TypeEntry.OFF_INDEX_OFFSET);
            long cap = Mem.getLong(m, e + TypeEntry.OFF_INDEX_CAPACITY);
            if (block >= pools.blocks.length || cap < 1 || cap > TypeDef.MAX_CAPACITY
                    || off + PoolKeys.bytes(cap) > pools.blocks[block].byteSize()) {
                throw new SegmentCorruptedException(def.label() + ": key index at block " + block + " offset " + off
                        + " capacity " + cap + " lies outside the data blocks");
            }
            p.index = new PoolKeys(KeyIndex.open(pools.blocks[block], off, PoolKeys.bytes(cap)), p,
                    Mem.getLong(m, pools.b + OFF_EPOCH));
        }
        return p;
    }
}
