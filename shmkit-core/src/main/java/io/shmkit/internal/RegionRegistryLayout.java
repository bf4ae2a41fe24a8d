package io.shmkit.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * Binary layout of a {@code RegionRegistry} inside its reserved range (offsets relative to the
 * range start, which is 64-byte aligned).
 *
 * <pre>
 *  +0    magic           u64  {@link #MAGIC} "SHMKRGNR", published last (Formats)
 *  +8    slots           s32  regions that can be registered at once
 *  +12   max blocks      s32  blocks plus large allocations one region may hold
 *  +16   reclaimed       u64  regions of dead processes taken back (statistics)
 *  +24   reclaimed blocks u64 blocks and large allocations given back by those reclaims
 *  +32   format          u32  {@link #FORMAT}
 *  +64   lock            128 bytes (robust lock: slot assignment and reclaim)
 *  +192  allocator name  s32 length + up to 60 bytes of UTF-8: the allocator the regions use
 *  +256  slot[slots], {@link #slotBytes} bytes each ({@link Slot}):
 *          +0  owner record 24 bytes, OwnerRecordLayout (in use, owner id, pid, thread)
 *          +24 count    u64  high-water mark of the offsets below, stored after the offset it adds
 *          +64 offsets  u64[max blocks]  blocks and large allocations the region holds, 0 = none;
 *                       each is recorded after the allocator returned it and cleared before it is
 *                       freed, so a record never names a block the region does not hold
 * </pre>
 */
public final class RegionRegistryLayout {

    /** "SHMKRGNR": the kind's magic in every format. */
    public static final long MAGIC = Formats.magic("SHMKRGNR");
    /** Format 1 of the "SHMKRGNR" scheme (the bytes of the "SHMKRGN2" format, plus the format field). */
    public static final int FORMAT = 1;
    /** "SHMKRGN2": refused as an older format. */
    public static final long MAGIC_FORMAT_2 = Formats.magic("SHMKRGN2");
    /** "SHMKRGN1": slots named pid and start time; refused as an older format. */
    public static final long MAGIC_FORMAT_1 = Formats.magic("SHMKRGN1");

    /** The header as a memory layout; the offsets below are derived from it. */
    public static final StructLayout HEADER = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("magic"),
            ValueLayout.JAVA_INT.withName("slots"),
            ValueLayout.JAVA_INT.withName("maxBlocks"),
            ValueLayout.JAVA_LONG.withName("reclaimed"),
            ValueLayout.JAVA_LONG.withName("reclaimedBlocks"),
            ValueLayout.JAVA_INT.withName("format"),
            MemoryLayout.paddingLayout(28),
            MemoryLayout.sequenceLayout(128, ValueLayout.JAVA_BYTE).withName("lock"),
            MemoryLayout.sequenceLayout(64, ValueLayout.JAVA_BYTE).withName("allocatorName"));

    public static final long OFF_MAGIC = Layouts.offset(HEADER, "magic");
    public static final long OFF_SLOTS = Layouts.offset(HEADER, "slots");
    public static final long OFF_MAX_BLOCKS = Layouts.offset(HEADER, "maxBlocks");
    public static final long OFF_RECLAIMED = Layouts.offset(HEADER, "reclaimed");
    public static final long OFF_RECLAIMED_BLOCKS = Layouts.offset(HEADER, "reclaimedBlocks");
    public static final long OFF_FORMAT = Layouts.offset(HEADER, "format");
    public static final long OFF_LOCK = Layouts.offset(HEADER, "lock");
    /** s32 length, then the UTF-8 bytes. */
    public static final long OFF_ALLOCATOR_NAME = Layouts.offset(HEADER, "allocatorName");
    public static final int ALLOCATOR_NAME_MAX = 60;
    /** Bytes of the header; the slot table starts here. */
    public static final long HEADER_BYTES = 256;
    public static final long OFF_SLOT_TABLE = HEADER_BYTES;

    /** One region's slot, {@link #slotBytes} bytes. */
    public static final class Slot {
        /** The slot's owner record (OwnerRecordLayout). */
        public static final long OFF_OWNER_RECORD = 0;
        public static final long OFF_COUNT = OwnerRecordLayout.BYTES;
        public static final long OFF_OFFSETS = 64;

        private Slot() {
        }
    }

    static {
        if (HEADER.byteSize() != HEADER_BYTES || OFF_LOCK != 64 || OFF_ALLOCATOR_NAME != 192) {
            throw new AssertionError("RegionRegistryLayout: header is " + HEADER.byteSize() + " bytes");
        }
    }

    private RegionRegistryLayout() {
    }

    /** Bytes of one slot. */
    public static long slotBytes(int maxBlocks) {
        return Slot.OFF_OFFSETS + 8L * maxBlocks;
    }

    /** Bytes of a registry. */
    public static long bytesNeeded(int slots, int maxBlocks) {
        return OFF_SLOT_TABLE + slots * slotBytes(maxBlocks);
    }
}
