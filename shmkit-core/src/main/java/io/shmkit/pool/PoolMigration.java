package io.shmkit.pool;

import io.shmkit.internal.Mem;
import io.shmkit.internal.PoolBlockLayout;
import io.shmkit.internal.PoolBlockLayout.Slot;
import io.shmkit.internal.SegmentHeader;
import io.shmkit.internal.index.KeyIndex;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.shmkit.internal.PoolBaseLayout.*;

/**
 * Resume's comparison of the stored types with the registered ones (every difference named),
 * and the migrations a new build may ask for: appended fields (new bytes zeroed, slots copied
 * to a wider stride when needed), a raised capacity (a larger key index rebuilt), an added
 * type. A migration writes a new type entry beside the old one and commits by switching the
 * type's directory word, so a crash during it leaves the old data in place.
 */
final class PoolMigration {


    private final PoolStartup s;

    PoolMigration(PoolStartup s) {
        this.s = s;
    }

    List<Migration> compareTypes(MemorySegment m, long b, Map<Integer, Integer> entries, List<String> diffs) {
        List<Migration> out = new ArrayList<>();
        Map<String, Integer> storedByName = new HashMap<>();
        for (Map.Entry<Integer, Integer> en : entries.entrySet()) {
            storedByName.put(SegmentHeader.readString(m, b + typeEntry(en.getValue()) + TypeEntry.OFF_NAME, NAME_BYTES), en.getKey());
        }
        Set<Integer> registered = new HashSet<>();
        for (TypeDef t : s.types) {
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
            String name = SegmentHeader.readString(m, e + TypeEntry.OFF_NAME, NAME_BYTES);
            String label = TypeDef.label(t.id(), name);
            if (!name.equals(t.name())) {
                diffs.add("type " + t.id() + " was \"" + name + "\", now \"" + t.name() + "\"");
                continue;
            }
            boolean keyed = Mem.getInt(m, e + TypeEntry.OFF_KEYED) != 0;
            if (keyed != t.keyed()) {
                diffs.add(label + ": was " + (keyed ? "keyed" : "not keyed") + ", now " + (t.keyed() ? "keyed" : "not keyed"));
                continue;
            }
            List<PoolField> old = PoolStartup.storedFields(m, e);
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
            long oldSize = Mem.getLong(m, e + TypeEntry.OFF_RECORD_SIZE);
            long newSize = t.layout().byteSize();
            if (diffs.size() == before && newSize < oldSize) {
                diffs.add(label + ": record size was " + oldSize + " bytes, now " + newSize);
            }
            long oldCap = Mem.getLong(m, e + TypeEntry.OFF_CAPACITY);
            if (t.capacity() < oldCap) {
                diffs.add(label + ": capacity was " + oldCap + ", now " + t.capacity()
                        + " (a smaller capacity is refused: objects may live above it)");
            }
            long oldAlign = Mem.getLong(m, e + TypeEntry.OFF_RECORD_ALIGN);
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
                long spc = Mem.getLong(m, e + TypeEntry.OFF_SLOTS_PER_CHUNK);
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
                String name = SegmentHeader.readString(m, b + typeEntry(en.getValue()) + TypeEntry.OFF_NAME, NAME_BYTES);
                long used = Mem.getLong(m, b + typeEntry(en.getValue()) + TypeEntry.OFF_USED);
                diffs.add(TypeDef.label(en.getKey(), name) + " (" + used + " objects) is not registered by this build");
            }
        }
        return out;
    }


    /** One type to add (entry -1) or to migrate in place of its stored entry. */
    record Migration(TypeDef type, int entry, String description) {
    }

    void migrate(Pools pools, Migration mg) {
        MemorySegment m = pools.base;
        Map<Integer, Integer> entries = PoolStartup.storedEntries(m, pools.b);
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
            s.writeEntry(pools, ne, t, PoolStartup.stride(t), s.slotsPerChunk(t, PoolStartup.stride(t)));
            Mem.setIntVolatile(m, pools.b + OFF_TYPE_DIRECTORY + 4L * t.id(), free + 1);
            s.report.add(mg.description());
            return;
        }
        long oe = pools.b + typeEntry(mg.entry());
        Pool old = PoolRecovery.storedPool(pools, t.id(), oe);
        MemorySegment.copy(m, oe, m, ne, TypeEntry.BYTES);
        long newStride = PoolStartup.stride(t);
        PoolStartup.writeShape(m, ne, t, newStride);
        long hwm = Mem.getLong(m, oe + TypeEntry.OFF_HWM);
        long moved = 0;
        if (newStride != old.stride) {
            long spc = 1L << old.shift;
            for (int c = 0; c < old.chunks; c++) {
                long[] at = s.carve(pools, Pools.chunkBytes(newStride, spc));
                MemorySegment dst = pools.blocks[(int) at[0]];
                for (long s = (long) c << old.shift; s < Math.min(hwm, (long) (c + 1) << old.shift); s++) {
                    long to = at[1] + (s & (spc - 1)) * newStride;
                    dst.asSlice(to, newStride).fill((byte) 0);
                    MemorySegment.copy(old.slotMemory(s), old.slotOffset(s), dst, to, old.recordAt + old.recordSize);
                    moved++;
                }
                Mem.setLong(m, chunk(ne - pools.b, c) + pools.b, chunkWord((int) at[0], at[1]));
            }
        } else if (t.layout().byteSize() > old.recordSize) {
            for (long s = 0; s < hwm; s++) {
                old.slotMemory(s).asSlice(old.slotOffset(s) + old.recordAt + old.recordSize,
                        old.stride - old.recordAt - old.recordSize).fill((byte) 0);
                moved++;
            }
        }
        if (t.keyed() && t.capacity() > Mem.getLong(m, oe + TypeEntry.OFF_INDEX_CAPACITY)) {
            long cap = t.capacity();
            long[] at = s.carve(pools, PoolKeys.bytes(cap));
            KeyIndex raw = KeyIndex.create(pools.blocks[(int) at[0]], at[1], PoolKeys.bytes(cap), (int) cap, false);
            PoolKeys idx = new PoolKeys(raw, old, Mem.getLong(m, pools.b + OFF_EPOCH));
            for (long s = 0; s < hwm; s++) {
                long meta = Mem.getLong(old.slotMemory(s), old.slotOffset(s) + Slot.OFF_META);
                if ((meta & PoolBlockLayout.STATE_MASK) == PoolBlockLayout.STATE_ALLOCATED) {
                    idx.insert(Mem.getLong(old.slotMemory(s), old.slotOffset(s) + Slot.OFF_KEY),
                            Handles.of(t.id(), s, PoolBlockLayout.generation(meta)));
                }
            }
            Mem.setInt(m, ne + TypeEntry.OFF_INDEX_BLOCK, (int) at[0]);
            Mem.setLong(m, ne + TypeEntry.OFF_INDEX_OFFSET, at[1]);
            Mem.setLong(m, ne + TypeEntry.OFF_INDEX_CAPACITY, cap);
        }
        // volatile: the commit point of the migration; the old entry stays intact until here
        Mem.setIntVolatile(m, pools.b + OFF_TYPE_DIRECTORY + 4L * t.id(), free + 1);
        s.report.add(mg.description() + (moved > 0 ? " (new bytes zeroed in " + moved + " slots)" : ""));
    }
}
