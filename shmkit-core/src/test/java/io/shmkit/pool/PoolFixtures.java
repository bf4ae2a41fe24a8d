package io.shmkit.pool;

import io.shmkit.segment.SegmentName;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** Shared types and configurations of the pool tests. */
final class PoolFixtures {

    private PoolFixtures() {
    }

    static final StructLayout PLAYER = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("id"),
            ValueLayout.JAVA_LONG.withName("gold"),
            ValueLayout.JAVA_INT.withName("level"),
            MemoryLayout.paddingLayout(4)).withName("Player");
    static final VarHandle ID = PLAYER.varHandle(groupElement("id"));
    static final VarHandle GOLD = PLAYER.varHandle(groupElement("gold"));
    static final VarHandle LEVEL = PLAYER.varHandle(groupElement("level"));

    static final StructLayout ITEM = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("owner"),
            ValueLayout.JAVA_INT.withName("kind"),
            ValueLayout.JAVA_INT.withName("count")).withName("Item");
    static final VarHandle ITEM_OWNER = ITEM.varHandle(groupElement("owner"));

    static TypeDef players(long capacity) {
        return TypeDef.keyed(3, "Player", PLAYER, capacity);
    }

    static TypeDef items(long capacity) {
        return TypeDef.of(4, "Item", ITEM, capacity);
    }

    /** A configuration with unique POSIX names for this run. */
    static PoolConfig config(String tag, long blockSize, int blocks) {
        String prefix = "shmkit-pt-" + tag + "-" + ProcessHandle.current().pid() + "-" + Long.toHexString(System.nanoTime() & 0xFFFFFFL);
        List<SegmentName> keys = new ArrayList<>();
        for (int i = 0; i < blocks; i++) {
            keys.add(SegmentName.posix(prefix + "-b" + i));
        }
        return PoolConfig.of("zone", SegmentName.posix(prefix + "-base"), blockSize, keys);
    }

    static String arg(PoolConfig c) {
        StringBuilder b = new StringBuilder(c.baseKey().toString()).append(',').append(c.blockSize());
        for (SegmentName k : c.blockKeys()) {
            b.append(',').append(k);
        }
        return b.toString();
    }

    static PoolConfig parseArg(String s) {
        String[] p = s.split(",");
        List<SegmentName> keys = new ArrayList<>();
        for (int i = 2; i < p.length; i++) {
            keys.add(SegmentName.parse(p[i]));
        }
        return PoolConfig.of("zone", SegmentName.parse(p[0]), Long.parseLong(p[1]), keys);
    }
}
