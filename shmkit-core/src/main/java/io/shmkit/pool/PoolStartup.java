package io.shmkit.pool;

import io.shmkit.LayoutMismatchException;
import io.shmkit.NotAShmkitSegmentException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.SegmentExistsException;
import io.shmkit.SegmentInUseException;
import io.shmkit.SegmentNotFoundException;
import io.shmkit.ShmException;
import io.shmkit.UnsupportedFormatException;
import io.shmkit.internal.PoolBlockLayout;
import io.shmkit.internal.Procs;
import io.shmkit.internal.SegmentHeader;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentInfo;
import io.shmkit.segment.SegmentName;
import io.shmkit.segment.SegmentOptions;

import io.shmkit.internal.index.KeyIndex;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
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

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final long CREATOR_WAIT_NANOS = 3_000_000_000L;
    private static final int MAX_SLOTS_PER_CHUNK = 1 << 16;

    private final PoolConfig config;
    private final List<TypeDef> types;
    private final OnIncompatible onIncompatible;
    private final List<String> report = new ArrayList<>();
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

    private long slotsPerChunk(TypeDef t, long stride) {
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
            INT.set(m, b + VERSION, FORMAT_VERSION);
            INT.set(m, b + MAX_TYPES_AT, MAX_TYPES);
            LONG.set(m, b + BLOCK_SIZE, config.blockSize());
            LONG.set(m, b + START_TIME, System.currentTimeMillis());
            long epoch = new SecureRandom().nextLong() | 1L;
            LONG.set(m, b + EPOCH, epoch);
            INT.set(m, b + BLOCK_COUNT, config.blockKeys().size());
            INT.set(m, b + MAX_CHUNKS_AT, MAX_CHUNKS);
            LONG.set(m, b + UNDO + U_CAPACITY, config.undoBytes());
            OwnerRecord.claim(m, b + OWNER, config.process());
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
                INT.setRelease(m, b + TYPE_DIRECTORY + 4L * t.id(), entry + 1);
                entry++;
            }
            // release: the base record is complete before the magic says so
            LONG.setRelease(m, b + MAGIC, MAGIC_VALUE);
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
            LONG.set(m, de.offset() + PoolBlockLayout.EPOCH, epoch);
            INT.set(m, de.offset() + PoolBlockLayout.INDEX, index);
            LONG.setRelease(m, de.offset() + PoolBlockLayout.MAGIC, PoolBlockLayout.MAGIC_VALUE);
            return s;
        } catch (RuntimeException | Error e) {
            s.closeAndUnlink();
            throw e;
        }
    }

    private void writeBlockEntry(MemorySegment m, long b, int i, SegmentName key) {
        long be = b + blockEntry(i);
        INT.set(m, be + B_INDEX, i);
        LONG.set(m, be + B_USED, 0L);
        LONG.set(m, be + B_FREE, config.usableBlockBytes());
        SegmentHeader.writeString(m, be + B_KEY, KEY_BYTES, key.toString());
    }

    /** Writes a fresh type entry (no objects yet); keyed types get their index carved from the blocks. */
    private void writeEntry(Pools pools, long e, TypeDef t, long stride, long spc) {
        MemorySegment m = pools.base;
        m.asSlice(e, TYPE_BYTES).fill((byte) 0);
        INT.set(m, e + T_ID, t.id());
        SegmentHeader.writeString(m, e + T_NAME, NAME_BYTES, t.name());
        LONG.set(m, e + T_HEAD, -1L);
        LONG.set(m, e + T_SLOTS_PER_CHUNK, spc);
        INT.set(m, e + T_CHUNK_SHIFT, Long.numberOfTrailingZeros(spc));
        INT.set(m, e + T_KEYED, t.keyed() ? 1 : 0);
        writeShape(m, e, t, stride);
        if (t.keyed()) {
            long cap = t.capacity();
            long[] at = carve(pools, PoolKeys.bytes(cap));
            INT.set(m, e + T_INDEX_BLOCK, (int) at[0]);
            LONG.set(m, e + T_INDEX_OFFSET, at[1]);
            LONG.set(m, e + T_INDEX_CAPACITY, cap);
            KeyIndex.create(pools.blocks[(int) at[0]], at[1], PoolKeys.bytes(cap), (int) cap, true);
        }
    }

    private static void writeShape(MemorySegment m, long e, TypeDef t, long stride) {
        List<PoolField> fields = t.fields();
        INT.set(m, e + T_FIELD_COUNT, fields.size());
        LONG.set(m, e + T_RECORD_SIZE, t.layout().byteSize());
        LONG.set(m, e + T_RECORD_ALIGN, t.layout().byteAlignment());
        LONG.set(m, e + T_STRIDE, stride);
        LONG.set(m, e + T_CAPACITY, t.capacity());
        for (int i = 0; i < fields.size(); i++) {
            long f = field(e, i);
            PoolField pf = fields.get(i);
            SegmentHeader.writeString(m, f + F_NAME, NAME_BYTES, pf.name());
            SegmentHeader.writeString(m, f + F_KIND, KIND_BYTES, pf.kind());
            LONG.set(m, f + F_OFFSET, pf.offset());
            LONG.set(m, f + F_SIZE, pf.size());
        }
    }

    /** Bump-carves {@code bytes} from the first block with room: {block, offset}. */
    private long[] carve(Pools pools, long bytes) {
        long need = (bytes + 63) & -64L;
        for (int i = 0; i < pools.blocks.length; i++) {
            long be = pools.b + blockEntry(i);
            long free = pools.get0(be + B_FREE);
            if (free >= need) {
                long used = pools.get0(be + B_USED);
                pools.set0(be + B_USED, used + need);
                pools.set0(be + B_FREE, free - need);
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
            int version = (int) INT.get(m, b + VERSION);
            if (version > FORMAT_VERSION) {
                base.close();
                ok = true;
                return incompatible("base segment " + config.baseKey() + " has pool format version " + version
                        + ", newer than this shmkit reads (" + FORMAT_VERSION + "); upgrade shmkit to resume it", new UnsupportedFormatException(""));
            }
            long deadOwner = OwnerRecord.claim(m, b + OWNER, config.process());
            List<String> diffs = new ArrayList<>();
            Map<Integer, Integer> entries = storedEntries(m, b);
            compareConfig(m, b, diffs);
            List<Migration> migrations = compareTypes(m, b, entries, diffs);
            Segment[] blocks = null;
            if (diffs.isEmpty()) {
                blocks = openBlocks(m, b, diffs, opened);
            }
            if (!diffs.isEmpty()) {
                OwnerRecord.release(m, b + OWNER);
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
                    + java.time.Instant.ofEpochMilli((long) LONG.get(m, b + START_TIME)) + ") and " + blocks.length
                    + " data blocks" + (deadOwner != 0 ? "; previous owner pid " + deadOwner + " is dead" : ""));
            recover(pools, entries);
            for (Migration mg : migrations) {
                mg.apply(this, pools);
            }
            buildPools(pools);
            LONG.getAndAdd(m, b + RESUME_COUNT, 1L);
            LONG.setRelease(m, b + LAST_RESUME, System.currentTimeMillis());
            ok = true;
            return finish(pools);
        } catch (SegmentInUseException e) {
            ok = false;
            throw e;
        } finally {
            if (!ok) {
                if (b >= 0) {
                    OwnerRecord.release(base.memory(), b + OWNER);
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
                long magic = (long) LONG.getAcquire(base.memory(), b + MAGIC);
                if (magic == MAGIC_VALUE) {
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
        if (de.isPresent() && de.get().kind() == KIND && (long) LONG.getVolatile(m, de.get().offset() + OWNER) != 0) {
            return OwnerRecord.ownerLiveness(m, de.get().offset() + OWNER).mayBeAlive();
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
        long bs = (long) LONG.get(m, b + BLOCK_SIZE);
        if (bs != config.blockSize()) {
            diffs.add("BlockSize was " + bs + ", now " + config.blockSize());
        }
        int n = (int) INT.get(m, b + BLOCK_COUNT);
        if (n < 0 || n > MAX_BLOCKS) {
            diffs.add("block table is damaged: block count=" + n);
            return;
        }
        for (int i = 0; i < Math.max(n, config.blockKeys().size()); i++) {
            String was = i < n ? SegmentHeader.readString(m, b + blockEntry(i) + B_KEY, KEY_BYTES) : null;
            String now = i < config.blockKeys().size() ? config.blockKeys().get(i).toString() : null;
            if (now == null) {
                diffs.add("data block " + i + " (" + was + ") was removed from the ShmKey list");
            } else if (was != null && !was.equals(now)) {
                diffs.add("data block " + i + " was " + was + ", now " + now);
            }
        }
    }

    private Segment[] openBlocks(MemorySegment m, long b, List<String> diffs, List<Segment> opened) {
        int n = (int) INT.get(m, b + BLOCK_COUNT);
        long epoch = (long) LONG.get(m, b + EPOCH);
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
                long magic = (long) LONG.getAcquire(bm, at + PoolBlockLayout.MAGIC);
                long be = (long) LONG.get(bm, at + PoolBlockLayout.EPOCH);
                int idx = (int) INT.get(bm, at + PoolBlockLayout.INDEX);
                if (magic != PoolBlockLayout.MAGIC_VALUE || be != epoch || idx != i) {
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
            INT.setRelease(m, b + BLOCK_COUNT, i + 1);
            report.add("added data block " + i + " (" + config.blockKeys().get(i) + ")");
        }
        return out;
    }

    /** type id -> entry index of the stored types. */
    private static Map<Integer, Integer> storedEntries(MemorySegment m, long b) {
        Map<Integer, Integer> out = new HashMap<>();
        for (int id = 0; id <= MAX_TYPE_ID; id++) {
            int v = (int) INT.getAcquire(m, b + TYPE_DIRECTORY + 4L * id);
            if (v > 0 && v <= MAX_TYPES) {
                out.put(id, v - 1);
            }
        }
        return out;
    }

    static List<PoolField> storedFields(MemorySegment m, long e) {
        int n = Math.min(MAX_FIELDS, Math.max(0, (int) INT.get(m, e + T_FIELD_COUNT)));
        List<PoolField> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long f = field(e, i);
            out.add(new PoolField(SegmentHeader.readString(m, f + F_NAME, NAME_BYTES),
                    SegmentHeader.readString(m, f + F_KIND, KIND_BYTES), (long) LONG.get(m, f + F_OFFSET),
                    (long) LONG.get(m, f + F_SIZE)));
        }
        return out;
    }

    private List<Migration> compareTypes(MemorySegment m, long b, Map<Integer, Integer> entries, List<String> diffs) {
        List<Migration> out = new ArrayList<>();
        Map<String, Integer> storedByName = new HashMap<>();
        for (Map.Entry<Integer, Integer> en : entries.entrySet()) {
            storedByName.put(SegmentHeader.readString(m, b + typeEntry(en.getValue()) + T_NAME, NAME_BYTES), en.getKey());
        }
        Set<Integer> registered = new HashSet<>();
        for (TypeDef t : types) {
            registered.add(t.id());
            Integer entry = entries.get(t.id());
            Integer otherId = storedByName.get(t.name());
            if (otherId != null && otherId != t.id()) {
                diffs.add("type \"" + t.name() + "\" was id " + otherId + ", now id " + t.id()
                        + " (ids are in every handle and cannot change)");
                continue;
            }
            if (entry == null) {
                out.add(new Migration(t, -1, "added " + t.label()));
                continue;
            }
            long e = b + typeEntry(entry);
            String name = SegmentHeader.readString(m, e + T_NAME, NAME_BYTES);
            String label = TypeDef.label(t.id(), name);
            if (!name.equals(t.name())) {
                diffs.add("type " + t.id() + " was \"" + name + "\", now \"" + t.name() + "\"");
                continue;
            }
            boolean keyed = (int) INT.get(m, e + T_KEYED) != 0;
            if (keyed != t.keyed()) {
                diffs.add(label + ": was " + (keyed ? "keyed" : "not keyed") + ", now " + (t.keyed() ? "keyed" : "not keyed"));
                continue;
            }
            List<PoolField> old = storedFields(m, e);
            List<PoolField> now = t.fields();
            int before = diffs.size();
            Map<String, PoolField> nowByName = new HashMap<>();
            for (PoolField f : now) {
                nowByName.put(f.name(), f);
            }
            for (int i = 0; i < old.size(); i++) {
                PoolField o = old.get(i);
                PoolField n = nowByName.get(o.name());
                if (n == null) {
                    diffs.add(label + ": field \"" + o.name() + "\" (" + o.describe() + ") was removed");
                } else if (!n.kind().equals(o.kind()) || n.offset() != o.offset()) {
                    diffs.add(label + ": field \"" + o.name() + "\" was " + o.describe() + ", now " + n.describe());
                } else if (i >= now.size() || !now.get(i).equals(o)) {
                    diffs.add(label + ": field \"" + o.name() + "\" moved from position " + i + " (fields were reordered)");
                }
            }
            long oldSize = (long) LONG.get(m, e + T_RECORD_SIZE);
            long newSize = t.layout().byteSize();
            if (diffs.size() == before && newSize < oldSize) {
                diffs.add(label + ": record size was " + oldSize + " bytes, now " + newSize);
            }
            long oldCap = (long) LONG.get(m, e + T_CAPACITY);
            if (t.capacity() < oldCap) {
                diffs.add(label + ": capacity was " + oldCap + ", now " + t.capacity()
                        + " (a smaller capacity is refused: objects may live above it)");
            }
            long oldAlign = (long) LONG.get(m, e + T_RECORD_ALIGN);
            if (diffs.size() == before && t.layout().byteAlignment() > Math.max(8, oldAlign)
                    && t.layout().byteAlignment() > 8) {
                diffs.add(label + ": record alignment was " + oldAlign + ", now " + t.layout().byteAlignment());
            }
            if (diffs.size() != before) {
                continue;
            }
            List<String> what = new ArrayList<>();
            if (now.size() > old.size() || newSize > oldSize) {
                List<String> added = new ArrayList<>();
                for (PoolField f : now.subList(old.size(), now.size())) {
                    added.add("\"" + f.name() + "\" (" + f.describe() + ")");
                }
                what.add("appended " + (added.isEmpty() ? (newSize - oldSize) + " bytes" : "fields " + String.join(", ", added)));
            }
            if (t.capacity() > oldCap) {
                long spc = (long) LONG.get(m, e + T_SLOTS_PER_CHUNK);
                if ((t.capacity() + spc - 1) / spc > MAX_CHUNKS) {
                    diffs.add(label + ": capacity " + t.capacity() + " needs more than " + MAX_CHUNKS + " chunks of " + spc);
                    continue;
                }
                what.add("raised capacity from " + oldCap + " to " + t.capacity());
            }
            if (!what.isEmpty()) {
                out.add(new Migration(t, entry, "migrated " + label + ": " + String.join("; ", what)));
            }
        }
        for (Map.Entry<Integer, Integer> en : entries.entrySet()) {
            if (!registered.contains(en.getKey())) {
                String name = SegmentHeader.readString(m, b + typeEntry(en.getValue()) + T_NAME, NAME_BYTES);
                long used = (long) LONG.get(m, b + typeEntry(en.getValue()) + T_USED);
                diffs.add(TypeDef.label(en.getKey(), name) + " (" + used + " objects) is not registered by this build");
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ recovery

    /** Finishes or undoes the interrupted allocate/free/grow, then the interrupted transaction. */
    private void recover(Pools pools, Map<Integer, Integer> entries) {
        // stored-view pools: recovery works on the data as it is, before any migration
        for (Map.Entry<Integer, Integer> en : entries.entrySet()) {
            Pool p = storedPool(pools, en.getKey(), pools.b + typeEntry(en.getValue()));
            pools.byId[en.getKey()] = p;
        }
        MemorySegment m = pools.base;
        long i = pools.b + INTENT;
        int op = (int) INT.get(m, i + I_OP);
        for (Pool p : pools.byId) {
            if (p != null && p.keyed && op == OP_NONE && p.index.index.needsRepair()) {
                report.add(p.def.label() + " key index: " + p.index.index.repair());
            }
        }
        if (op != OP_NONE) {
            int type = (int) INT.get(m, i + I_TYPE);
            Pool p = type >= 0 && type <= MAX_TYPE_ID ? pools.byId[type] : null;
            if (p == null) {
                throw new SegmentCorruptedException("intent record names unknown type " + type);
            }
            long slot = (long) LONG.get(m, i + I_SLOT);
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
                            + (p.keyed ? " (key " + LONG.get(m, i + I_KEY) + ")" : "") + " interrupted by a crash");
                }
                case OP_FREE -> {
                    pools.redoFree(p, slot, (long) LONG.get(m, i + I_PREV_HEAD), (long) LONG.get(m, i + I_PREV_META),
                            (long) LONG.get(m, i + I_PREV_USED), (long) LONG.get(m, i + I_KEY));
                    report.add("completed a free of " + p.def.label() + " slot " + slot
                            + (p.keyed ? " (key " + LONG.get(m, i + I_KEY) + ")" : "") + " interrupted by a crash");
                }
                case OP_GROW -> {
                    int block = (int) LONG.get(m, i + I_BLOCK);
                    long prevUsed = (long) LONG.get(m, i + I_PREV_BLOCK_USED);
                    long be = pools.b + blockEntry(block);
                    pools.set0(be + B_USED, prevUsed);
                    pools.set0(be + B_FREE, config.usableBlockBytes() - prevUsed);
                    pools.set0(p.entry + T_CHUNK_COUNT, (long) LONG.get(m, i + I_PREV_CHUNKS));
                    report.add("rolled back a new chunk for " + p.def.label() + " interrupted by a crash");
                }
                default -> throw new SegmentCorruptedException("intent record has unknown op " + op);
            }
            INT.setRelease(m, i + I_OP, OP_NONE);
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

    private void undoAllocate(Pools pools, Pool p, long slot) {
        MemorySegment m = pools.base;
        long i = pools.b + INTENT;
        long prevHead = (long) LONG.get(m, i + I_PREV_HEAD);
        long newMeta = (long) LONG.get(m, i + I_NEW_META);
        if (p.keyed) {
            p.index.remove((long) LONG.get(m, i + I_KEY), Handles.of(p.id, slot, PoolBlockLayout.generation(newMeta)));
        }
        MemorySegment sm = p.slotMemory(slot);
        long at = p.slotOffset(slot);
        LONG.setRelease(sm, at + PoolBlockLayout.S_META, (long) LONG.get(m, i + I_PREV_META));
        if (prevHead == slot) {
            LONG.set(sm, at + p.recordAt, (long) LONG.get(m, i + I_PREV_NEXT));
        }
        pools.set0(p.entry + T_HEAD, prevHead);
        pools.set0(p.entry + T_HWM, (long) LONG.get(m, i + I_PREV_HWM));
        pools.set0(p.entry + T_USED, (long) LONG.get(m, i + I_PREV_USED));
    }

    /** A Pool over a stored entry as it is (its own record size and stride), for recovery. */
    static Pool storedPool(Pools pools, int id, long e) {
        MemorySegment m = pools.base;
        String name = SegmentHeader.readString(m, e + T_NAME, NAME_BYTES);
        long size = (long) LONG.get(m, e + T_RECORD_SIZE);
        boolean keyed = (int) INT.get(m, e + T_KEYED) != 0;
        long cap = (long) LONG.get(m, e + T_CAPACITY);
        TypeDef def = new TypeDef(id, name.isEmpty() ? "?" : name,
                java.lang.foreign.MemoryLayout.sequenceLayout(Math.max(1, size), ValueLayout.JAVA_BYTE),
                Math.max(1, Math.min(cap, TypeDef.MAX_CAPACITY)), keyed);
        return attach(pools, def, e);
    }

    /** Builds the runtime view of entry {@code e}: chunk table and index, checked against the blocks. */
    static Pool attach(Pools pools, TypeDef def, long e) {
        MemorySegment m = pools.base;
        long stride = (long) LONG.get(m, e + T_STRIDE);
        int shift = (int) INT.get(m, e + T_CHUNK_SHIFT);
        long chunks = (long) LONG.get(m, e + T_CHUNK_COUNT);
        if (shift < 0 || shift > 28 || stride < 16 || chunks < 0 || chunks > MAX_CHUNKS) {
            throw new SegmentCorruptedException(def.label() + ": type entry damaged: stride=" + stride + " shift=" + shift
                    + " chunks=" + chunks);
        }
        Pool p = new Pool(pools, def, e, stride, shift);
        for (int c = 0; c < chunks; c++) {
            long w = (long) LONG.get(m, chunk(e - pools.b, c) + pools.b);
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
            int block = (int) INT.get(m, e + T_INDEX_BLOCK);
            long off = (long) LONG.get(m, e + T_INDEX_OFFSET);
            long cap = (long) LONG.get(m, e + T_INDEX_CAPACITY);
            if (block >= pools.blocks.length || cap < 1 || cap > TypeDef.MAX_CAPACITY
                    || off + PoolKeys.bytes(cap) > pools.blocks[block].byteSize()) {
                throw new SegmentCorruptedException(def.label() + ": key index at block " + block + " offset " + off
                        + " capacity " + cap + " lies outside the data blocks");
            }
            p.index = new PoolKeys(KeyIndex.open(pools.blocks[block], off, PoolKeys.bytes(cap)), p,
                    (long) LONG.get(m, pools.b + EPOCH));
        }
        return p;
    }

    private void buildPools(Pools pools) {
        Map<Integer, Integer> entries = storedEntries(pools.base, pools.b);
        for (TypeDef t : types) {
            Pool p = attach(pools, t, pools.b + typeEntry(entries.get(t.id())));
            pools.byId[t.id()] = p;
            pools.pools.add(p);
        }
    }

    private Pools finish(Pools pools) {
        pools.startDuration = Duration.ofNanos(System.nanoTime() - t0);
        pools.report.addAll(report);
        return pools;
    }

    // ------------------------------------------------------------------ migration

    /** One type to add (entry -1) or to migrate in place of its stored entry. */
    private record Migration(TypeDef type, int entry, String description) {

        void apply(PoolStartup s, Pools pools) {
            s.migrate(pools, this);
        }
    }

    private void migrate(Pools pools, Migration mg) {
        MemorySegment m = pools.base;
        Map<Integer, Integer> entries = storedEntries(m, pools.b);
        Set<Integer> taken = new HashSet<>(entries.values());
        int free = -1;
        for (int i = 0; i < MAX_TYPES; i++) {
            if (!taken.contains(i)) {
                free = i;
                break;
            }
        }
        if (free < 0) {
            throw new IllegalStateException("type table full: cannot add or migrate " + mg.type().label());
        }
        TypeDef t = mg.type();
        long ne = pools.b + typeEntry(free);
        if (mg.entry() < 0) {
            writeEntry(pools, ne, t, stride(t), slotsPerChunk(t, stride(t)));
            INT.setVolatile(m, pools.b + TYPE_DIRECTORY + 4L * t.id(), free + 1);
            report.add(mg.description());
            return;
        }
        long oe = pools.b + typeEntry(mg.entry());
        Pool old = storedPool(pools, t.id(), oe);
        MemorySegment.copy(m, oe, m, ne, TYPE_BYTES);
        long newStride = stride(t);
        writeShape(m, ne, t, newStride);
        long hwm = (long) LONG.get(m, oe + T_HWM);
        long moved = 0;
        if (newStride != old.stride) {
            long spc = 1L << old.shift;
            for (int c = 0; c < old.chunks; c++) {
                long[] at = carve(pools, Pools.chunkBytes(newStride, spc));
                MemorySegment dst = pools.blocks[(int) at[0]];
                for (long s = (long) c << old.shift; s < Math.min(hwm, (long) (c + 1) << old.shift); s++) {
                    long to = at[1] + (s & (spc - 1)) * newStride;
                    dst.asSlice(to, newStride).fill((byte) 0);
                    MemorySegment.copy(old.slotMemory(s), old.slotOffset(s), dst, to, old.recordAt + old.recordSize);
                    moved++;
                }
                LONG.set(m, chunk(ne - pools.b, c) + pools.b, chunkWord((int) at[0], at[1]));
            }
        } else if (t.layout().byteSize() > old.recordSize) {
            for (long s = 0; s < hwm; s++) {
                old.slotMemory(s).asSlice(old.slotOffset(s) + old.recordAt + old.recordSize,
                        old.stride - old.recordAt - old.recordSize).fill((byte) 0);
                moved++;
            }
        }
        if (t.keyed() && t.capacity() > (long) LONG.get(m, oe + T_INDEX_CAPACITY)) {
            long cap = t.capacity();
            long[] at = carve(pools, PoolKeys.bytes(cap));
            KeyIndex raw = KeyIndex.create(pools.blocks[(int) at[0]], at[1], PoolKeys.bytes(cap), (int) cap, false);
            PoolKeys idx = new PoolKeys(raw, old, (long) LONG.get(m, pools.b + EPOCH));
            for (long s = 0; s < hwm; s++) {
                long meta = (long) LONG.get(old.slotMemory(s), old.slotOffset(s) + PoolBlockLayout.S_META);
                if ((meta & PoolBlockLayout.STATE_MASK) == PoolBlockLayout.ALLOCATED) {
                    idx.insert((long) LONG.get(old.slotMemory(s), old.slotOffset(s) + PoolBlockLayout.S_KEY),
                            Handles.of(t.id(), s, PoolBlockLayout.generation(meta)));
                }
            }
            INT.set(m, ne + T_INDEX_BLOCK, (int) at[0]);
            LONG.set(m, ne + T_INDEX_OFFSET, at[1]);
            LONG.set(m, ne + T_INDEX_CAPACITY, cap);
        }
        // volatile: the commit point of the migration; the old entry stays intact until here
        INT.setVolatile(m, pools.b + TYPE_DIRECTORY + 4L * t.id(), free + 1);
        report.add(mg.description() + (moved > 0 ? " (new bytes zeroed in " + moved + " slots)" : ""));
    }

    // ------------------------------------------------------------------ remove

    static int removeAll(PoolConfig config, boolean checkOwner) {
        if (checkOwner) {
            try (Segment base = Segment.open(config.baseKey())) {
                Optional<DirectoryEntry> de = base.lookup(STRUCTURE);
                if (de.isPresent() && de.get().kind() == KIND
                        && OwnerRecord.ownerLiveness(base.memory(), de.get().offset() + OWNER).mayBeAlive()) {
                    long pid = OwnerRecord.ownerPid(base.memory(), de.get().offset() + OWNER);
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
