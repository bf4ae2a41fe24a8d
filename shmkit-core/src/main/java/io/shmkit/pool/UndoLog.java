package io.shmkit.pool;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.Mem;
import io.shmkit.internal.PoolBlockLayout;
import io.shmkit.internal.PoolBlockLayout.Slot;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static io.shmkit.internal.PoolBaseLayout.*;

/**
 * The transaction undo log in the base segment (header at {@code OFF_UNDO}, entries at
 * {@code OFF_UNDO_ENTRIES}). States: IDLE, ACTIVE (entries describe how to undo), COMMITTED (the
 * commit point passed: only the deferred frees and version words remain). An entry is
 * written, then counted with a volatile store of the used bytes, before its object changes.
 * Rollback and the commit's tail are idempotent, so a crash during either is safe.
 */
final class UndoLog {


    private final Pools pools;
    private final MemorySegment m;
    private final long h;
    private final long entries;

    UndoLog(Pools pools) {
        this.pools = pools;
        this.m = pools.base;
        this.h = pools.b + OFF_UNDO;
        this.entries = pools.b + OFF_UNDO_ENTRIES;
    }

    long capacity() {
        return Mem.getLong(m, h + UndoHeader.OFF_CAPACITY);
    }

    long state() {
        return Mem.getLongAcquire(m, h + UndoHeader.OFF_STATE);
    }

    void begin() {
        Mem.setLong(m, h + UndoHeader.OFF_USED, 0L);
        Mem.setLongVolatile(m, h + UndoHeader.OFF_STATE, TX_ACTIVE);
    }

    void logBytes(long handle, Pool p) {
        int slot = Handles.slot(handle);
        MemorySegment mem = p.slotMemory(slot);
        long at = p.slotOffset(slot);
        long len = p.recordSize;
        long e = append(UndoEntry.KIND_BYTES, len, handle, p.chunkBlock[slot >>> p.shift], at);
        long version = Mem.getLong(mem, at + Slot.OFF_VERSION);
        Mem.setLong(m, e + UndoEntry.OFF_OLD_VERSION, version);
        MemorySegment.copy(mem, at + p.recordAt, m, e + UndoEntry.OFF_SAVED, len);
        commitEntry(e, len);
        // odd version: readers see the object is being written (release: after the log entry)
        Mem.setLongRelease(mem, at + Slot.OFF_VERSION, version | 1L);
    }

    void logAllocated(long handle, Pool p) {
        long e = append(UndoEntry.KIND_ALLOCATED, 0, handle, 0, 0);
        commitEntry(e, 0);
    }

    void logFreeAtCommit(long handle) {
        long e = append(UndoEntry.KIND_FREE_AT_COMMIT, 0, handle, 0, 0);
        commitEntry(e, 0);
    }

    private long pendingUsed;

    private long append(int kind, long len, long handle, int block, long slotOffset) {
        long used = Mem.getLong(m, h + UndoHeader.OFF_USED);
        long need = (UndoEntry.OFF_SAVED + len + 7) & -8L;
        if (used + need > capacity()) {
            throw new IllegalStateException("transaction too large for the undo log: capacity=" + capacity()
                    + " bytes; raise UndoLogSize (the transaction is rolled back)");
        }
        long e = entries + used;
        Mem.setInt(m, e + UndoEntry.OFF_KIND, kind);
        Mem.setInt(m, e + UndoEntry.OFF_LENGTH, (int) len);
        Mem.setLong(m, e + UndoEntry.OFF_HANDLE, handle);
        Mem.setInt(m, e + UndoEntry.OFF_BLOCK, block);
        Mem.setLong(m, e + UndoEntry.OFF_SLOT_OFFSET, slotOffset);
        pendingUsed = used + need;
        return e;
    }

    private void commitEntry(long e, long len) {
        // volatile: the entry is in memory before the change it allows to undo
        Mem.setLongVolatile(m, h + UndoHeader.OFF_USED, pendingUsed);
    }

    void commit() {
        // volatile: the commit point; everything the transaction wrote is before it
        Mem.setLongVolatile(m, h + UndoHeader.OFF_STATE, TX_COMMITTED);
        finishCommit();
    }

    /** After the commit point: versions even again, deferred frees, log cleared. Idempotent. */
    int finishCommit() {
        int frees = 0;
        for (long e : list()) {
            int kind = Mem.getInt(m, e + UndoEntry.OFF_KIND);
            long handle = Mem.getLong(m, e + UndoEntry.OFF_HANDLE);
            if (kind == UndoEntry.KIND_BYTES) {
                settleVersion(e, false);
            } else if (kind == UndoEntry.KIND_FREE_AT_COMMIT) {
                Pool p = pools.byId[Handles.type(handle)];
                if (p != null && p.isLive(handle)) {
                    pools.freeNow(p, handle);
                    frees++;
                }
            }
        }
        Mem.getAndAddLong(m, h + UndoHeader.OFF_COMMITS, 1L);
        clear();
        return frees;
    }

    /** What the last rollback did to allocations, for the start report. */
    final StringBuilder lastRollback = new StringBuilder();

    /** Undoes every entry, newest first. Idempotent. Returns the entries undone. */
    int rollback() {
        lastRollback.setLength(0);
        notes = 0;
        List<Long> list = list();
        for (int i = list.size() - 1; i >= 0; i--) {
            long e = list.get(i);
            int kind = Mem.getInt(m, e + UndoEntry.OFF_KIND);
            long handle = Mem.getLong(m, e + UndoEntry.OFF_HANDLE);
            if (kind == UndoEntry.KIND_BYTES) {
                int block = Mem.getInt(m, e + UndoEntry.OFF_BLOCK);
                long at = Mem.getLong(m, e + UndoEntry.OFF_SLOT_OFFSET);
                Pool p = pools.byId[Handles.type(handle)];
                MemorySegment mem = pools.blocks[block];
                MemorySegment.copy(m, e + UndoEntry.OFF_SAVED, mem, at + p.recordAt, Mem.getInt(m, e + UndoEntry.OFF_LENGTH));
                note(" restored ", handle);
                settleVersion(e, true);
            } else if (kind == UndoEntry.KIND_ALLOCATED) {
                Pool p = pools.byId[Handles.type(handle)];
                if (p != null && p.isLive(handle)) {
                    note(" freed ", handle);
                    pools.freeNow(p, handle);
                }
            } else {
                note(" kept ", handle);
            }
        }
        Mem.getAndAddLong(m, h + UndoHeader.OFF_ROLLBACKS, 1L);
        clear();
        return list.size();
    }

    private int notes;

    private void note(String what, long handle) {
        if (notes++ < 8) {
            lastRollback.append(what).append(Handles.toString(handle));
        } else if (notes == 9) {
            lastRollback.append(" ...");
        }
    }

    /** Version = old + 2: even, and different from what a reader saw before the write. */
    private void settleVersion(long e, boolean rollback) {
        int block = Mem.getInt(m, e + UndoEntry.OFF_BLOCK);
        long at = Mem.getLong(m, e + UndoEntry.OFF_SLOT_OFFSET);
        long old = Mem.getLong(m, e + UndoEntry.OFF_OLD_VERSION) & ~1L;
        // release: the record's final bytes are visible before the even version
        Mem.setLongRelease(pools.blocks[block], at + Slot.OFF_VERSION, old + 2);
    }

    private void clear() {
        Mem.setLong(m, h + UndoHeader.OFF_USED, 0L);
        Mem.setLongRelease(m, h + UndoHeader.OFF_STATE, TX_IDLE);
    }

    /** Entry offsets in order; checks them so a damaged log is reported, never followed blindly. */
    List<Long> list() {
        long used = Mem.getLong(m, h + UndoHeader.OFF_USED);
        if (used < 0 || used > capacity()) {
            throw new SegmentCorruptedException("undo log: used=" + used + " outside capacity=" + capacity());
        }
        List<Long> out = new ArrayList<>();
        long at = 0;
        while (at < used) {
            long e = entries + at;
            int kind = Mem.getInt(m, e + UndoEntry.OFF_KIND);
            long len = Integer.toUnsignedLong(Mem.getInt(m, e + UndoEntry.OFF_LENGTH));
            if (kind < UndoEntry.KIND_BYTES || kind > UndoEntry.KIND_FREE_AT_COMMIT || at + UndoEntry.OFF_SAVED + len > used) {
                throw new SegmentCorruptedException("undo log entry at " + at + ": kind=" + kind + " length=" + len
                        + " does not fit used=" + used);
            }
            if (kind == UndoEntry.KIND_BYTES) {
                int block = Mem.getInt(m, e + UndoEntry.OFF_BLOCK);
                long handle = Mem.getLong(m, e + UndoEntry.OFF_HANDLE);
                Pool p = pools.byId[Handles.type(handle)];
                if (block < 0 || block >= pools.blocks.length || p == null || len != p.recordSize) {
                    throw new SegmentCorruptedException("undo log entry at " + at + " names block " + block
                            + " / type " + Handles.type(handle) + " it cannot restore");
                }
            }
            out.add(e);
            at += (UndoEntry.OFF_SAVED + len + 7) & -8L;
        }
        return out;
    }
}
