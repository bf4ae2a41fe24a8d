package io.shmkit.pool;

import io.shmkit.LayoutMismatchException;
import io.shmkit.NotAShmkitSegmentException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.SegmentExistsException;
import io.shmkit.SegmentInUseException;
import io.shmkit.SegmentNotFoundException;
import io.shmkit.ShmException;
import io.shmkit.UnsupportedFormatException;
import io.shmkit.internal.Formats;
import io.shmkit.internal.Mem;
import io.shmkit.internal.PoolBlockLayout;
import io.shmkit.internal.SegmentHeader;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentInfo;
import io.shmkit.segment.SegmentName;
import io.shmkit.internal.index.KeyIndex;

import java.lang.foreign.MemorySegment;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

import static io.shmkit.internal.PoolBaseLayout.*;

/**
 * {@link Pools#start}: validates the types against the configuration, then decides cold start
 * or resume, validates what it resumes, recovers an interrupted operation or transaction, and
 * migrates appended fields and raised capacities.
 */
final class PoolStartup {

    private static final long CREATOR_WAIT_NANOS = 3_000_000_000L;
    private static final int MAX_SLOTS_PER_CHUNK = 1 << 16;

    private final PoolConfig config;
    final List<TypeDef> types;
    private final OnIncompatible onIncompatible;
    final List<String> report = new ArrayList<>();
    private final long t0 = System.nanoTime();

    PoolStartup(PoolConfig config, List<TypeDef> types, OnIncompatible onIncompatible) {
        this.config = config;
        this.types = List.copyOf(types);
        this.onIncompatible = onIncompatible == null ? OnIncompatible.REFUSE : onIncompatible;
    }

    // ------------------------------------------------------------------ validation before any segment

    private void validateTypes() {
        if (types.size() > MAX_TYPES) {
            throw new PoolConfigException("process '" + config.process() + "': " + types.size() + " types, at most " + MAX_TYPES);
        }
        Set<Integer> ids = new HashSet<>();
        Set<String> names = new HashSet<>();
        for (TypeDef t : types) {
            if (!ids.add(t.id())) {
                throw new IllegalArgumentException("type id=" + t.id() + " registered twice");
            }
            if (!names.add(t.name())) {
                throw new IllegalArgumentException("type name=\"" + t.name() + "\" registered twice");
            }
            long stride = stride(t);
            long usable = config.usableBlockBytes();
            if (Pools.chunkBytes(stride, 1) > usable) {
                throw new PoolConfigException("process '" + config.process() + "': BlockSize=" + config.blockSize()
                        + " is too small for one object of " + t.label() + " (" + stride + " bytes; a block holds "
                        + usable + " bytes after its header)");
            }
            long spc = slotsPerChunk(t, stride);
            long chunks = (t.capacity() + spc - 1) / spc;
            if (chunks > MAX_CHUNKS) {
                throw new PoolConfigException("process '" + config.process() + "': " + t.label() + " with capacity="
                        + t.capacity() + " needs " + chunks + " chunks of " + spc + " objects, at most " + MAX_CHUNKS
                        + "; raise BlockSize");
            }
            if (t.keyed() && PoolKeys.bytes(t.capacity()) > usable) {
                throw new PoolConfigException("process '" + config.process() + "': BlockSize=" + config.blockSize()
                        + " is too small for the key index of " + t.label() + " ("
                        + PoolKeys.bytes(t.capacity()) + " bytes for capacity=" + t.capacity() + ")");
            }
        }
    }

    static long stride(TypeDef t) {
        return PoolBlockLayout.stride(t.layout().byteSize(), t.layout().byteAlignment(), t.keyed());
    }

    long slotsPerChunk(TypeDef t, long stride) {
        long fit = Long.highestOneBit(Math.max(1, (config.usableBlockBytes() - 63) / stride));
        long want = Long.highestOneBit(Math.max(1, t.capacity() * 2 - 1));
        return Math.min(MAX_SLOTS_PER_CHUNK, Math.min(fit, want));
    }

    // ------------------------------------------------------------------ decide

    Pools run() {
        validateTypes();
        for (int attempt = 0; ; attempt++) {
            Segment base;
            try {
                base = Segment.open(config.baseKey());
            } catch (SegmentNotFoundException absent) {
                try {
                    return coldStart();
                } catch (SegmentExistsException race) {
                    if (attempt > 3) {
                        throw race;
                    }
                    continue; // another starter created it first: resume (or be refused) instead
                }
            } catch (NotAShmkitSegmentException | io.shmkit.SegmentTruncatedException e) {
                return incompatible("base segment " + config.baseKey() + " is not usable: " + e.getMessage(), e);
            }
            return resume(base);
        }
    }

    private Pools incompatible(String reason, ShmException cause) {
        if (onIncompatible == OnIncompatible.DISCARD_AND_COLD_START) {
            removeAll(config, true);
            report.add("discarded the old segments: " + reason);
            return coldStart();
        }
        String msg = reason + "; nothing was changed (start with OnIncompatible.DISCARD_AND_COLD_START to discard "
                + "the old objects and cold start)";
        if (cause instanceof LayoutMismatchException) {
            throw new LayoutMismatchException(msg);
        }
        if (cause instanceof UnsupportedFormatException) {
            throw new UnsupportedFormatException(msg);
        }
        if (cause instanceof NotAShmkitSegmentException) {
            throw new NotAShmkitSegmentException(msg);
        }
        throw new SegmentCorruptedException(msg);
    }

    // ------------------------------------------------------------------ cold start

    private Pools coldStart() {
        for (SegmentName k : config.blockKeys()) {
            if (exists(k)) {
                String reason = "data block " + k + " exists without its base segment " + config.baseKey()
                        + " (left from an earlier run?)";
                if (onIncompatible == OnIncompatible.DISCARD_AND_COLD_START) {
                    Segment.unlink(k);
                    report.add("removed " + reason);
                } else {
                    throw new SegmentCorruptedException(reason + "; nothing was changed: remove it (shmkit rm " + k
                            + ") or start with OnIncompatible.DISCARD_AND_COLD_START");
                }
            }
        }
        long need = bytesNeeded(config.undoBytes());
        Segment base = Segment.create(config.baseKey(), Segment.PAGE_SIZE + need + 64);
        List<Segment> made = new ArrayList<>();
        try {
            DirectoryEntry de = base.reserve(STRUCTURE, KIND, need, 64);
            MemorySegment m = base.memory();
            long b = de.offset();
            Mem.setInt(m, b + OFF_FORMAT, FORMAT);
            Mem.setInt(m, b + OFF_MAX_TYPES, MAX_TYPES);
            Mem.setLong(m, b + OFF_BLOCK_SIZE, config.blockSize());
            Mem.setLong(m, b + OFF_START_TIME, System.currentTimeMillis());
            long epoch = new SecureRandom().nextLong() | 1L;
            Mem.setLong(m, b + OFF_EPOCH, epoch);
            Mem.setInt(m, b + OFF_BLOCK_COUNT, config.blockKeys().size());
            Mem.setInt(m, b + OFF_MAX_CHUNKS, MAX_CHUNKS);
            Mem.setLong(m, b + OFF_UNDO + UndoHeader.OFF_CAPACITY, config.undoBytes());
            OwnerRecord.claim(m, b + OFF_OWNER, config.process());
            Segment[] blocks = new Segment[config.blockKeys().size()];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = createBlock(config.blockKeys().get(i), i, epoch);
                made.add(blocks[i]);
                writeBlockEntry(m, b, i, config.blockKeys().get(i));
            }
            Pools pools = new Pools(config, base, b, blocks);
            int entry = 0;
            for (TypeDef t : types) {
                long e = b + typeEntry(entry);
                writeEntry(pools, e, t, stride(t), slotsPerChunk(t, stride(t)));
                Mem.setIntRelease(m, b + OFF_TYPE_DIRECTORY + 4L * t.id(), entry + 1);
                entry++;
            }
            // release: the base record is complete before the magic says so
            Mem.setLongRelease(m, b + OFF_MAGIC, MAGIC);
            pools.mode = StartMode.COLD_START;
            buildPools(pools);
            report.add(0, "cold start: created base segment " + config.baseKey() + " and " + blocks.length
                    + " data blocks of " + config.blockSize() + " bytes, " + types.size() + " types");
            return finish(pools);
        } catch (RuntimeException | Error e) {
            for (Segment s : made) {
                s.closeAndUnlink();
            }
            base.closeAndUnlink(); // never leave a half-made base behind
            throw e;
        }
    }

    private Segment createBlock(SegmentName key, int index, long epoch) {
        Segment s = Segment.create(key, config.blockSize());
        try {
            DirectoryEntry de = s.reserve(PoolBlockLayout.STRUCTURE, PoolBlockLayout.KIND, config.blockSize() - Segment.PAGE_SIZE, 64);
            MemorySegment m = s.memory();
            Mem.setLong(m, de.offset() + PoolBlockLayout.OFF_EPOCH, epoch);
            Mem.setInt(m, de.offset() + PoolBlockLayout.OFF_INDEX, index);
            Formats.publish(m, de.offset() + PoolBlockLayout.OFF_MAGIC, PoolBlockLayout.MAGIC,
                    de.offset() + PoolBlockLayout.OFF_FORMAT, PoolBlockLayout.FORMAT);
            return s;
        } catch (RuntimeException | Error e) {
            s.closeAndUnlink();
            throw e;
        }
    }

    private void writeBlockEntry(MemorySegment m, long b, int i, SegmentName key) {
        long be = b + blockEntry(i);
        Mem.setInt(m, be + BlockEntry.OFF_INDEX, i);
        Mem.setLong(m, be + BlockEntry.OFF_USED, 0L);
        Mem.setLong(m, be + BlockEntry.OFF_FREE, config.usableBlockBytes());
        SegmentHeader.writeString(m, be + BlockEntry.OFF_KEY, KEY_BYTES, key.toString());
    }

    /** Writes a fresh type entry (no objects yet); keyed types get their index carved from the blocks. */
    void writeEntry(Pools pools, long e, TypeDef t, long stride, long spc) {
        MemorySegment m = pools.base;
        m.asSlice(e, TypeEntry.BYTES).fill((byte) 0);
        Mem.setInt(m, e + TypeEntry.OFF_ID, t.id());
        SegmentHeader.writeString(m, e + TypeEntry.OFF_NAME, NAME_BYTES, t.name());
        Mem.setLong(m, e + TypeEntry.OFF_HEAD, -1L);
        Mem.setLong(m, e + TypeEntry.OFF_SLOTS_PER_CHUNK, spc);
        Mem.setInt(m, e + TypeEntry.OFF_CHUNK_SHIFT, Long.numberOfTrailingZeros(spc));
        Mem.setInt(m, e + TypeEntry.OFF_KEYED, t.keyed() ? 1 : 0);
        writeShape(m, e, t, stride);
        if (t.keyed()) {
            long cap = t.capacity();
            long[] at = carve(pools, PoolKeys.bytes(cap));
            Mem.setInt(m, e + TypeEntry.OFF_INDEX_BLOCK, (int) at[0]);
            Mem.setLong(m, e + TypeEntry.OFF_INDEX_OFFSET, at[1]);
            Mem.setLong(m, e + TypeEntry.OFF_INDEX_CAPACITY, cap);
            KeyIndex.create(pools.blocks[(int) at[0]], at[1], PoolKeys.bytes(cap), (int) cap, true);
        }
    }

    static void writeShape(MemorySegment m, long e, TypeDef t, long stride) {
        List<PoolField> fields = t.fields();
        Mem.setInt(m, e + TypeEntry.OFF_FIELD_COUNT, fields.size());
        Mem.setLong(m, e + TypeEntry.OFF_RECORD_SIZE, t.layout().byteSize());
        Mem.setLong(m, e + TypeEntry.OFF_RECORD_ALIGN, t.layout().byteAlignment());
        Mem.setLong(m, e + TypeEntry.OFF_STRIDE, stride);
        Mem.setLong(m, e + TypeEntry.OFF_CAPACITY, t.capacity());
        for (int i = 0; i < fields.size(); i++) {
            long f = field(e, i);
            PoolField pf = fields.get(i);
            SegmentHeader.writeString(m, f + FieldEntry.OFF_NAME, NAME_BYTES, pf.name());
            SegmentHeader.writeString(m, f + FieldEntry.OFF_KIND, KIND_BYTES, pf.kind());
            Mem.setLong(m, f + FieldEntry.OFF_OFFSET, pf.offset());
            Mem.setLong(m, f + FieldEntry.OFF_SIZE, pf.size());
        }
    }

    /** Bump-carves {@code bytes} from the first block with room: {block, offset}. */
    long[] carve(Pools pools, long bytes) {
        long need = (bytes + 63) & -64L;
        for (int i = 0; i < pools.blocks.length; i++) {
            long be = pools.b + blockEntry(i);
            long free = pools.get0(be + BlockEntry.OFF_FREE);
            if (free >= need) {
                long used = pools.get0(be + BlockEntry.OFF_USED);
                pools.set0(be + BlockEntry.OFF_USED, used + need);
                pools.set0(be + BlockEntry.OFF_FREE, free - need);
                return new long[]{i, Pools.blockDataStart() + used};
            }
        }
        throw new io.shmkit.OutOfSharedMemoryException("process '" + config.process() + "': no data block has "
                + need + " free bytes; add a ShmKey or raise BlockSize");
    }

    // ------------------------------------------------------------------ resume

    private Pools resume(Segment base) {
        boolean ok = false;
        List<Segment> opened = new ArrayList<>();
        long b = -1;
        try {
            MemorySegment m = base.memory();
            b = awaitBase(base);
            if (b < 0) {
                String reason = halfInitReason(base);
                base.close();
                ok = true; // handled: incompatible() below decides
                return incompatible(reason, null);
            }
            int version = Mem.getInt(m, b + OFF_FORMAT);
            if (version > FORMAT) {
                base.close();
                ok = true;
                return incompatible("base segment " + config.baseKey() + " has pool format version " + version
                        + ", newer than this shmkit reads (" + FORMAT + "); upgrade shmkit to resume it", new UnsupportedFormatException(""));
            }
            if (version < FORMAT) {
                base.close();
                ok = true;
                return incompatible("base segment " + config.baseKey() + " has pool format version " + version
                        + ", older than this shmkit reads (" + FORMAT + "; its key indexes hash keys differently)",
                        new UnsupportedFormatException(""));
            }
            long deadOwner = OwnerRecord.claim(m, b + OFF_OWNER, config.process());
            List<String> diffs = new ArrayList<>();
            Map<Integer, Integer> entries = storedEntries(m, b);
            compareConfig(m, b, diffs);
            PoolMigration migration = new PoolMigration(this);
            List<PoolMigration.Migration> migrations = migration.compareTypes(m, b, entries, diffs);
            Segment[] blocks = null;
            if (diffs.isEmpty()) {
                blocks = openBlocks(m, b, diffs, opened);
            }
            if (!diffs.isEmpty()) {
                OwnerRecord.release(m, b + OFF_OWNER);
                for (Segment s : opened) {
                    s.close();
                }
                base.close();
                ok = true;
                String head = "cannot resume the pools of process '" + config.process() + "' (base " + config.baseKey() + "):";
                return incompatible(head + "\n  " + String.join("\n  ", diffs), new LayoutMismatchException(""));
            }
            Pools pools = new Pools(config, base, b, blocks);
            pools.mode = StartMode.RESUME;
            report.add("resume: attached base segment " + config.baseKey() + " (cold start "
                    + java.time.Instant.ofEpochMilli(Mem.getLong(m, b + OFF_START_TIME)) + ") and " + blocks.length
                    + " data blocks" + (deadOwner != 0 ? "; previous owner pid " + deadOwner + " is dead" : ""));
            PoolRecovery.recover(pools, entries, report);
            for (PoolMigration.Migration mg : migrations) {
                migration.migrate(pools, mg);
            }
            buildPools(pools);
            Mem.getAndAddLong(m, b + OFF_RESUME_COUNT, 1L);
            Mem.setLongRelease(m, b + OFF_LAST_RESUME, System.currentTimeMillis());
            ok = true;
            return finish(pools);
        } catch (SegmentInUseException e) {
            ok = false;
            throw e;
        } finally {
            if (!ok) {
                if (b >= 0) {
                    OwnerRecord.release(base.memory(), b + OFF_OWNER);
                }
                for (Segment s : opened) {
                    s.close();
                }
                base.close();
            }
        }
    }

    /** The base record's offset once its magic is there; -1 if its creator died (or never finishes). */
    private long awaitBase(Segment base) {
        long deadline = System.nanoTime() + CREATOR_WAIT_NANOS;
        while (true) {
            Optional<DirectoryEntry> de = base.lookup(STRUCTURE);
            if (de.isPresent()) {
                if (de.get().kind() != KIND || de.get().length() < bytesNeeded(4096)) {
                    throw new NotAShmkitSegmentException("base segment " + config.baseKey() + " holds structure '"
                            + STRUCTURE + "' of kind=0x" + Integer.toHexString(de.get().kind()) + ", not object pools");
                }
                long b = de.get().offset();
                long magic = Mem.getLongAcquire(base.memory(), b + OFF_MAGIC);
                if (magic == MAGIC) {
                    return b;
                }
                if (magic != 0) {
                    throw new NotAShmkitSegmentException("base segment " + config.baseKey() + ": bad pool magic 0x"
                            + Long.toHexString(magic));
                }
            }
            SegmentInfo info = base.info();
            boolean creatorAlive = creatorMayLive(base, de);
            if (!creatorAlive || System.nanoTime() > deadline) {
                if (creatorAlive) {
                    throw new SegmentInUseException("base segment " + config.baseKey() + " is being initialised by pid "
                            + info.creatorPid() + ", which may be alive (still not ready after 3 s)", info.creatorPid());
                }
                return -1;
            }
            LockSupport.parkNanos(2_000_000L);
        }
    }

    /**
     * Whether the creator of a base without its magic may still be at work: the owner it
     * claimed first thing, else any other process attached to the base (the one liveness check,
     * fail closed).
     */
    private static boolean creatorMayLive(Segment base, Optional<DirectoryEntry> de) {
        MemorySegment m = base.memory();
        if (de.isPresent() && de.get().kind() == KIND && Mem.getLongVolatile(m, de.get().offset() + OFF_OWNER) != 0) {
            return OwnerRecord.ownerLiveness(m, de.get().offset() + OFF_OWNER).mayBeAlive();
        }
        int mySlot = io.shmkit.internal.OwnerTable.of(m, 0).slot();
        return base.attached().stream().anyMatch(p -> p.alive() && p.slot() != mySlot);
    }

    private String halfInitReason(Segment base) {
        SegmentInfo info = base.info();
        return "base segment " + config.baseKey() + " is half-initialised: its creator (pid " + info.creatorPid()
                + ") did not finish it and is gone (no live process is attached to it)";
    }

    private void compareConfig(MemorySegment m, long b, List<String> diffs) {
        long bs = Mem.getLong(m, b + OFF_BLOCK_SIZE);
        if (bs != config.blockSize()) {
            diffs.add("BlockSize was " + bs + ", now " + config.blockSize());
        }
        int n = Mem.getInt(m, b + OFF_BLOCK_COUNT);
        if (n < 0 || n > MAX_BLOCKS) {
            diffs.add("block table is damaged: block count=" + n);
            return;
        }
        for (int i = 0; i < Math.max(n, config.blockKeys().size()); i++) {
            String was = i < n ? SegmentHeader.readString(m, b + blockEntry(i) + BlockEntry.OFF_KEY, KEY_BYTES) : null;
            String now = i < config.blockKeys().size() ? config.blockKeys().get(i).toString() : null;
            if (now == null) {
                diffs.add("data block " + i + " (" + was + ") was removed from the ShmKey list");
            } else if (was != null && !was.equals(now)) {
                diffs.add("data block " + i + " was " + was + ", now " + now);
            }
        }
    }

    private Segment[] openBlocks(MemorySegment m, long b, List<String> diffs, List<Segment> opened) {
        int n = Mem.getInt(m, b + OFF_BLOCK_COUNT);
        long epoch = Mem.getLong(m, b + OFF_EPOCH);
        Segment[] out = new Segment[config.blockKeys().size()];
        for (int i = 0; i < n; i++) {
            SegmentName key = config.blockKeys().get(i);
            try {
                Segment s = Segment.open(key);
                opened.add(s);
                out[i] = s;
                Optional<DirectoryEntry> de = s.lookup(PoolBlockLayout.STRUCTURE);
                if (de.isEmpty() || de.get().kind() != PoolBlockLayout.KIND) {
                    diffs.add("data block " + i + " (" + key + ") is foreign: not a pool data block");
                    continue;
                }
                MemorySegment bm = s.memory();
                long at = de.get().offset();
                try {
                    Formats.check(bm, at + PoolBlockLayout.OFF_MAGIC, PoolBlockLayout.MAGIC, at + PoolBlockLayout.OFF_FORMAT,
                            PoolBlockLayout.FORMAT, "data block " + i + " (" + key + ")", PoolBlockLayout.LEGACY_MAGIC_1);
                } catch (ShmException e) {
                    diffs.add(e.getMessage());
                    continue;
                }
                long be = Mem.getLong(bm, at + PoolBlockLayout.OFF_EPOCH);
                int idx = Mem.getInt(bm, at + PoolBlockLayout.OFF_INDEX);
                if (be != epoch || idx != i) {
                    diffs.add("data block " + i + " (" + key + ") is foreign: it belongs to another base (epoch 0x"
                            + Long.toHexString(be) + " index " + idx + ", expected epoch 0x" + Long.toHexString(epoch)
                            + " index " + i + ")");
                } else if (s.size() < config.blockSize()) {
                    diffs.add("data block " + i + " (" + key + ") has size " + s.size() + ", expected " + config.blockSize());
                }
            } catch (SegmentNotFoundException e) {
                diffs.add("data block " + i + " (" + key + ") is missing: its objects are lost");
            } catch (ShmException e) {
                diffs.add("data block " + i + " (" + key + ") cannot be opened: " + e.getMessage());
            }
        }
        for (int i = n; i < out.length && diffs.isEmpty(); i++) {
            out[i] = createBlock(config.blockKeys().get(i), i, epoch);
            opened.add(out[i]);
            writeBlockEntry(m, b, i, config.blockKeys().get(i));
            Mem.setIntRelease(m, b + OFF_BLOCK_COUNT, i + 1);
            report.add("added data block " + i + " (" + config.blockKeys().get(i) + ")");
        }
        return out;
    }

    /** type id -> entry index of the stored types. */
    static Map<Integer, Integer> storedEntries(MemorySegment m, long b) {
        Map<Integer, Integer> out = new HashMap<>();
        for (int id = 0; id <= MAX_TYPE_ID; id++) {
            int v = Mem.getIntAcquire(m, b + OFF_TYPE_DIRECTORY + 4L * id);
            if (v > 0 && v <= MAX_TYPES) {
                out.put(id, v - 1);
            }
        }
        return out;
    }

    static List<PoolField> storedFields(MemorySegment m, long e) {
        int n = Math.min(MAX_FIELDS, Math.max(0, Mem.getInt(m, e + TypeEntry.OFF_FIELD_COUNT)));
        List<PoolField> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long f = field(e, i);
            out.add(new PoolField(SegmentHeader.readString(m, f + FieldEntry.OFF_NAME, NAME_BYTES),
                    SegmentHeader.readString(m, f + FieldEntry.OFF_KIND, KIND_BYTES), Mem.getLong(m, f + FieldEntry.OFF_OFFSET),
                    Mem.getLong(m, f + FieldEntry.OFF_SIZE)));
        }
        return out;
    }


    private void buildPools(Pools pools) {
        Map<Integer, Integer> entries = storedEntries(pools.base, pools.b);
        for (TypeDef t : types) {
            Pool p = PoolRecovery.attach(pools, t, pools.b + typeEntry(entries.get(t.id())));
            pools.byId[t.id()] = p;
            pools.pools.add(p);
        }
    }

    private Pools finish(Pools pools) {
        pools.startDuration = Duration.ofNanos(System.nanoTime() - t0);
        pools.report.addAll(report);
        return pools;
    }


    // ------------------------------------------------------------------ remove

    static int removeAll(PoolConfig config, boolean checkOwner) {
        if (checkOwner) {
            try (Segment base = Segment.open(config.baseKey())) {
                Optional<DirectoryEntry> de = base.lookup(STRUCTURE);
                if (de.isPresent() && de.get().kind() == KIND
                        && OwnerRecord.ownerLiveness(base.memory(), de.get().offset() + OFF_OWNER).mayBeAlive()) {
                    long pid = OwnerRecord.ownerPid(base.memory(), de.get().offset() + OFF_OWNER);
                    throw new SegmentInUseException("the pools of process '" + config.process() + "' are owned by live pid "
                            + pid + "; not removing them", pid);
                }
            } catch (SegmentNotFoundException | NotAShmkitSegmentException | io.shmkit.SegmentTruncatedException e) {
                // nothing to protect
            }
        }
        int n = 0;
        for (SegmentName k : config.blockKeys()) {
            n += Segment.unlink(k) ? 1 : 0;
        }
        n += Segment.unlink(config.baseKey()) ? 1 : 0;
        return n;
    }

    private static boolean exists(SegmentName k) {
        return switch (k.backend()) {
            case POSIX, FILE -> java.nio.file.Files.exists(k.path(), java.nio.file.LinkOption.NOFOLLOW_LINKS);
            case SYSV -> io.shmkit.internal.Libc.shmget(k.key(), 0, 0) >= 0;
            default -> false;
        };
    }
}
