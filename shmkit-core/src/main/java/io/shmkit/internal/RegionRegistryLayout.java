package io.shmkit.internal;

/**
 * Binary layout of a {@code RegionRegistry} inside its reserved range (offsets relative to the
 * range start, which is 64-byte aligned).
 *
 * <pre>
 *  +0    magic           u64  {@link #MAGIC_VALUE}, stored last with a release store
 *  +8    slots           s32  regions that can be registered at once
 *  +12   max blocks      s32  blocks plus large allocations one region may hold
 *  +16   reclaimed       u64  regions of dead processes taken back (statistics)
 *  +24   reclaimed blocks u64 blocks and large allocations given back by those reclaims
 *  +64   lock            128 bytes (robust lock: slot assignment and reclaim)
 *  +192  allocator name  s32 length + up to 60 bytes of UTF-8: the allocator the regions use
 *  +256  slot[slots], {@link #slotBytes} bytes each:
 *          +0  in use   s32  1 while a region holds the slot
 *          +4  owner    s32  owner process: its owner id (OwnerTable.id(), attach-table registration)
 *          +8  pid      u64  owner pid in its own pid namespace (diagnostics)
 *          +16 thread   u64  owner thread id (diagnostics)
 *          +24 count    u64  high-water mark of the offsets below, stored after the offset it adds
 *          +64 offsets  u64[max blocks]  blocks and large allocations the region holds, 0 = none;
 *                       each is recorded after the allocator returned it and cleared before it is
 *                       freed, so a record never names a block the region does not hold
 * </pre>
 */
public final class RegionRegistryLayout {

    /** "SHMKRGN2" as a little-endian long (format 2: slots name owner ids, not pid and start time). */
    public static final long MAGIC_VALUE = 0x324E47524B4D4853L;
    /** "SHMKRGN1": format 1 (slots named pid and start time); refused with a clear message. */
    public static final long MAGIC_FORMAT_1 = 0x314E47524B4D4853L;

    public static final long MAGIC = 0;
    public static final long SLOTS = 8;
    public static final long MAX_BLOCKS = 12;
    public static final long RECLAIMED = 16;
    public static final long RECLAIMED_BLOCKS = 24;
    public static final long LOCK = 64;
    public static final long ALLOCATOR_NAME = 192;
    public static final int ALLOCATOR_NAME_MAX = 60;
    public static final long SLOT_TABLE = 256;

    public static final long S_IN_USE = 0;
    public static final long S_OWNER = 4;
    public static final long S_PID = 8;
    public static final long S_THREAD = 16;
    public static final long S_COUNT = 24;
    public static final long S_OFFSETS = 64;

    private RegionRegistryLayout() {
    }

    /** Bytes of one slot. */
    public static long slotBytes(int maxBlocks) {
        return S_OFFSETS + 8L * maxBlocks;
    }

    /** Bytes of a registry. */
    public static long bytesNeeded(int slots, int maxBlocks) {
        return SLOT_TABLE + slots * slotBytes(maxBlocks);
    }
}
