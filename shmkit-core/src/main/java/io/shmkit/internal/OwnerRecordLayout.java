package io.shmkit.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * Binary layout of an owner record: who holds an entry of a table in shared memory. It opens
 * every entry of the FixedPool and SlabAllocator thread-cache registries and every slot of a
 * RegionRegistry; {@link OwnerRecords} is the only code that reads or writes it, and the
 * liveness of the owner it names is asked of {@link OwnerTable} only.
 *
 * <pre>
 *  +0   in use   s32  {@link #IN_USE_HELD} while the owner holds the record, {@link #IN_USE_FREE} otherwise;
 *                     stored last when claimed, with release (readers that see it held see the rest)
 *  +4   owner    s32  owner id of the holder's process (OwnerTable.id(), attach-table registration)
 *  +8   pid      u64  the holder's pid in its own pid namespace (diagnostics only)
 *  +16  thread   u64  the holder's thread id (diagnostics only)
 *  +24  (end)
 * </pre>
 */
public final class OwnerRecordLayout {

    /** The record as a memory layout; the offsets below are derived from it. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("inUse"),
            ValueLayout.JAVA_INT.withName("owner"),
            ValueLayout.JAVA_LONG.withName("pid"),
            ValueLayout.JAVA_LONG.withName("thread"));

    public static final long OFF_IN_USE = Layouts.offset(LAYOUT, "inUse");
    public static final long OFF_OWNER = Layouts.offset(LAYOUT, "owner");
    public static final long OFF_PID = Layouts.offset(LAYOUT, "pid");
    public static final long OFF_THREAD = Layouts.offset(LAYOUT, "thread");
    /** Bytes of a record; the table's own fields of an entry follow it. */
    public static final long BYTES = 24;

    public static final int IN_USE_FREE = 0;
    public static final int IN_USE_HELD = 1;

    static {
        Layouts.check(LAYOUT, BYTES);
    }

    private OwnerRecordLayout() {
    }
}
