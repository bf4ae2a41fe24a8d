package io.shmkit.pool;

import io.shmkit.NotAShmkitSegmentException;
import io.shmkit.internal.Mem;
import io.shmkit.internal.PoolBlockLayout;
import io.shmkit.internal.PoolBlockLayout.Slot;
import io.shmkit.internal.SegmentHeader;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.segment.SegmentOptions;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static io.shmkit.internal.PoolBaseLayout.*;

/**
 * Read-only view of a process section's pools from another process (a monitoring tool, the
 * CLI). Opens the segments read-only, registers nowhere, takes no lock and never blocks the
 * owner. {@link #readObject} copies an object and tells whether the copy is consistent: an
 * object's version word is odd while a transaction writes it and changes with every
 * transactional write, so a copy taken between two equal even versions (and the same
 * allocated meta word) is one the owner committed.
 */
public final class PoolReader implements AutoCloseable {


    /** One type as the reader sees it. */
    public record TypeInfo(int id, String name, boolean keyed, long capacity, long used, long recordSize,
                           long chunks, List<PoolField> fields) {
    }

    /** One data block: its key and bytes used and free. */
    public record BlockInfo(int index, String key, long used, long free) {
    }

    /** Everything {@code shmkit pools} shows. */
    public record Info(String process, SegmentName baseKey, long blockSize, Instant coldStart, long resumes,
                       Instant lastResume, long ownerPid, io.shmkit.segment.Liveness owner, long commits, long rollbacks,
                       List<TypeInfo> types, List<BlockInfo> blocks) {
    }

    private final PoolConfig config;
    private final Segment base;
    private final MemorySegment m;
    private final long b;
    private final Segment[] blocks;

    private PoolReader(PoolConfig config, Segment base, long b, Segment[] blocks) {
        this.config = config;
        this.base = base;
        this.m = base.memory();
        this.b = b;
        this.blocks = blocks;
    }

    /** Attaches read-only to the pools of {@code config}. */
    public static PoolReader open(PoolConfig config) {
        SegmentOptions ro = SegmentOptions.defaults().withReadOnly(true);
        Segment base = Segment.open(config.baseKey(), ro);
        List<Segment> opened = new ArrayList<>();
        try {
            DirectoryEntry de = base.lookup(STRUCTURE).filter(e -> e.kind() == KIND).orElseThrow(() ->
                    new NotAShmkitSegmentException("segment " + config.baseKey() + " holds no object pools (or is half-initialised)"));
            if (Mem.getLongAcquire(base.memory(), de.offset() + OFF_MAGIC) != MAGIC) {
                throw new NotAShmkitSegmentException("segment " + config.baseKey() + ": pools not initialised (creator died or still working)");
            }
            Segment[] bs = new Segment[config.blockKeys().size()];
            for (int i = 0; i < bs.length; i++) {
                bs[i] = Segment.open(config.blockKeys().get(i), ro);
                opened.add(bs[i]);
            }
            return new PoolReader(config, base, de.offset(), bs);
        } catch (RuntimeException e) {
            opened.forEach(Segment::close);
            base.close();
            throw e;
        }
    }

    /** A snapshot of the base record (counters read without a lock: each is a recent value). */
    public Info info() {
        List<TypeInfo> types = new ArrayList<>();
        for (int id = 0; id <= MAX_TYPE_ID; id++) {
            int v = Mem.getIntAcquire(m, b + OFF_TYPE_DIRECTORY + 4L * id);
            if (v <= 0 || v > MAX_TYPES) {
                continue;
            }
            long e = b + typeEntry(v - 1);
            types.add(new TypeInfo(id, SegmentHeader.readString(m, e + TypeEntry.OFF_NAME, NAME_BYTES), Mem.getInt(m, e + TypeEntry.OFF_KEYED) != 0,
                    Mem.getLong(m, e + TypeEntry.OFF_CAPACITY), Mem.getLongAcquire(m, e + TypeEntry.OFF_USED), Mem.getLong(m, e + TypeEntry.OFF_RECORD_SIZE),
                    Mem.getLongAcquire(m, e + TypeEntry.OFF_CHUNK_COUNT), PoolStartup.storedFields(m, e)));
        }
        List<BlockInfo> bl = new ArrayList<>();
        int n = Math.min(MAX_BLOCKS, Mem.getInt(m, b + OFF_BLOCK_COUNT));
        for (int i = 0; i < n; i++) {
            long be = b + blockEntry(i);
            bl.add(new BlockInfo(i, SegmentHeader.readString(m, be + BlockEntry.OFF_KEY, KEY_BYTES), Mem.getLongAcquire(m, be + BlockEntry.OFF_USED),
                    Mem.getLongAcquire(m, be + BlockEntry.OFF_FREE)));
        }
        long last = Mem.getLong(m, b + OFF_LAST_RESUME);
        return new Info(config.process(), config.baseKey(), Mem.getLong(m, b + OFF_BLOCK_SIZE),
                Instant.ofEpochMilli(Mem.getLong(m, b + OFF_START_TIME)), Mem.getLong(m, b + OFF_RESUME_COUNT),
                last == 0 ? null : Instant.ofEpochMilli(last), OwnerRecord.ownerPid(m, b + OFF_OWNER),
                OwnerRecord.ownerLiveness(m, b + OFF_OWNER), Mem.getLong(m, b + OFF_UNDO + UndoHeader.OFF_COMMITS),
                Mem.getLong(m, b + OFF_UNDO + UndoHeader.OFF_ROLLBACKS), types, bl);
    }

    /**
     * Copies object {@code handle}'s record to the start of {@code into} (at least the record
     * size; e.g. {@code MemorySegment.ofArray(new long[n])}, aligned for the layout's
     * {@code VarHandle}s) if the object is live and not being written. Returns false if the handle is stale, or the copy
     * could not be made consistent within a few attempts (a transaction is writing it).
     */
    public boolean readObject(long handle, MemorySegment into) {
        int id = Handles.type(handle);
        int v = Mem.getIntAcquire(m, b + OFF_TYPE_DIRECTORY + 4L * id);
        if (v <= 0 || v > MAX_TYPES) {
            return false;
        }
        long e = b + typeEntry(v - 1);
        int shift = Mem.getInt(m, e + TypeEntry.OFF_CHUNK_SHIFT);
        long stride = Mem.getLong(m, e + TypeEntry.OFF_STRIDE);
        long size = Mem.getLong(m, e + TypeEntry.OFF_RECORD_SIZE);
        long recordAt = Mem.getInt(m, e + TypeEntry.OFF_KEYED) != 0 ? Slot.OFF_RECORD_KEYED : Slot.OFF_RECORD_PLAIN;
        long slot = Handles.slot(handle);
        long c = slot >>> shift;
        if (c >= Mem.getLongAcquire(m, e + TypeEntry.OFF_CHUNK_COUNT) || into.byteSize() < size) {
            return false;
        }
        long w = Mem.getLong(m, chunk(e - b, (int) c) + b);
        MemorySegment mem = blocks[chunkBlock(w)].memory();
        long at = chunkOffset(w) + (slot & ((1L << shift) - 1)) * stride;
        long expect = PoolBlockLayout.meta(Handles.generation(handle), PoolBlockLayout.STATE_ALLOCATED);
        for (int attempt = 0; attempt < 100; attempt++) {
            long v1 = Mem.getLongAcquire(mem, at + Slot.OFF_VERSION);
            if (Mem.getLongAcquire(mem, at + Slot.OFF_META) != expect) {
                return false;
            }
            if ((v1 & 1) == 0) {
                MemorySegment.copy(mem, at + recordAt, into, 0, size);
                VarHandle.loadLoadFence(); // the copy happens before the re-reads
                if (Mem.getLongAcquire(mem, at + Slot.OFF_VERSION) == v1
                        && Mem.getLongAcquire(mem, at + Slot.OFF_META) == expect) {
                    return true;
                }
            }
            Thread.onSpinWait();
        }
        return false;
    }

    @Override
    public void close() {
        for (Segment s : blocks) {
            s.close();
        }
        base.close();
    }
}
