package io.shmkit.pool;

import io.shmkit.internal.PoolBaseLayout;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.SequenceLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The registration of one object type: an id (0..255, part of every handle), a name, the
 * record layout and the capacity; optionally keyed by a {@code long} user key (a player id)
 * with a shared-memory index for {@link Pool#find} and {@link Pool#forceGet}.
 *
 * <p>Fields are read and written with {@link java.lang.invoke.VarHandle}s derived from the
 * layout, on the segment {@link Pool#get} returns:
 * {@snippet :
 * static final StructLayout PLAYER = MemoryLayout.structLayout(
 *         ValueLayout.JAVA_LONG.withName("id"),
 *         ValueLayout.JAVA_LONG.withName("gold"),
 *         ValueLayout.JAVA_INT.withName("level"),
 *         MemoryLayout.paddingLayout(4)).withName("Player");
 * static final VarHandle GOLD = PLAYER.varHandle(MemoryLayout.PathElement.groupElement("gold"));
 * static final TypeDef PLAYERS = TypeDef.keyed(3, "Player", PLAYER, 100_000);
 * // ... long gold = (long) GOLD.get(players.get(handle), 0L);
 * }
 *
 * <p>The layout is flattened to its leaf fields ({@link #fields()}): that list, the record size
 * and the capacity are what resume compares with the data in shared memory. Address layouts
 * are refused: an address means nothing in another process; store a handle or an offset.
 */
public record TypeDef(int id, String name, MemoryLayout layout, long capacity, boolean keyed) {

    /** Largest capacity: slot indexes have 28 bits. */
    public static final long MAX_CAPACITY = (1L << 28) - 1;

    public TypeDef {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(layout, "layout");
        if (id < 0 || id > PoolBaseLayout.MAX_TYPE_ID) {
            throw new IllegalArgumentException("type id=" + id + " must be in 0.." + PoolBaseLayout.MAX_TYPE_ID);
        }
        if (name.isEmpty() || name.getBytes(StandardCharsets.UTF_8).length >= PoolBaseLayout.NAME_BYTES) {
            throw new IllegalArgumentException("type name='" + name + "' must have 1.." + (PoolBaseLayout.NAME_BYTES - 1) + " bytes");
        }
        if (capacity < 1 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("type " + id + " \"" + name + "\": capacity=" + capacity + " must be in 1.." + MAX_CAPACITY);
        }
        if (layout.byteAlignment() > 16) {
            throw new IllegalArgumentException("type " + id + " \"" + name + "\": layout alignment=" + layout.byteAlignment()
                    + " is above 16");
        }
        if (layout.byteSize() < 1) {
            throw new IllegalArgumentException("type " + id + " \"" + name + "\": layout is empty");
        }
        List<PoolField> f = flatten(layout);
        if (f.size() > PoolBaseLayout.MAX_FIELDS) {
            throw new IllegalArgumentException("type " + id + " \"" + name + "\": " + f.size() + " leaf fields, at most "
                    + PoolBaseLayout.MAX_FIELDS + " (group small fields into a sequence)");
        }
    }

    /** A type without a key. */
    public static TypeDef of(int id, String name, MemoryLayout layout, long capacity) {
        return new TypeDef(id, name, layout, capacity, false);
    }

    /** A type whose objects are found by a {@code long} key. */
    public static TypeDef keyed(int id, String name, MemoryLayout layout, long capacity) {
        return new TypeDef(id, name, layout, capacity, true);
    }

    /** The leaf fields, in layout order. */
    public List<PoolField> fields() {
        return flatten(layout);
    }

    /** {@code type 3 "Player"}, as used in every message. */
    public String label() {
        return label(id, name);
    }

    static String label(int id, String name) {
        return "type " + id + " \"" + name + "\"";
    }

    static List<PoolField> flatten(MemoryLayout layout) {
        List<PoolField> out = new ArrayList<>();
        if (layout instanceof GroupLayout g) {
            flattenGroup(g, "", 0, out);
        } else {
            out.add(leaf(layout, layout.name().orElse("value"), 0));
        }
        return out;
    }

    private static void flattenGroup(GroupLayout g, String prefix, long base, List<PoolField> out) {
        long offset = 0;
        int i = 0;
        for (MemoryLayout m : g.memberLayouts()) {
            long at = base + (g instanceof StructLayout ? offset : 0);
            if (!(m instanceof PaddingLayout)) {
                String n = prefix + m.name().orElse("#" + i);
                if (m instanceof GroupLayout inner) {
                    flattenGroup(inner, n + ".", at, out);
                } else {
                    out.add(leaf(m, n, at));
                }
            }
            offset += m.byteSize();
            i++;
        }
    }

    private static PoolField leaf(MemoryLayout m, String name, long offset) {
        if (name.getBytes(StandardCharsets.UTF_8).length >= PoolBaseLayout.NAME_BYTES) {
            throw new IllegalArgumentException("field name '" + name + "' is longer than " + (PoolBaseLayout.NAME_BYTES - 1) + " bytes");
        }
        String kind = kind(m);
        if (kind.length() >= PoolBaseLayout.KIND_BYTES) {
            throw new IllegalArgumentException("field '" + name + "' has kind " + kind + ", too long to record (at most "
                    + (PoolBaseLayout.KIND_BYTES - 1) + " characters); split the sequence");
        }
        return new PoolField(name, kind, offset, m.byteSize());
    }

    static String kind(MemoryLayout m) {
        if (m instanceof AddressLayout) {
            throw new IllegalArgumentException("field '" + m.name().orElse("?") + "' is an address: addresses differ in every "
                    + "process; store a handle or an offset (JAVA_LONG) instead");
        }
        if (m instanceof ValueLayout v) {
            Class<?> c = v.carrier();
            String k = c == byte.class ? "int8" : c == short.class ? "int16" : c == char.class ? "char16"
                    : c == int.class ? "int32" : c == long.class ? "int64" : c == float.class ? "float32"
                    : c == double.class ? "float64" : c == boolean.class ? "bool" : c.getSimpleName();
            return v.order() == java.nio.ByteOrder.BIG_ENDIAN && v.byteSize() > 1 ? k + "be" : k;
        }
        if (m instanceof SequenceLayout s) {
            MemoryLayout e = s.elementLayout();
            String inner = e instanceof GroupLayout ? "struct" + e.byteSize() : kind(e);
            return inner + "[" + s.elementCount() + "]";
        }
        return "bytes" + m.byteSize();
    }
}
