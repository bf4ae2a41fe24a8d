package io.shmkit.alloc;

import io.shmkit.OutOfSharedMemoryException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.internal.Formats;
import io.shmkit.internal.Mem;
import io.shmkit.internal.OwnerRecords;
import io.shmkit.internal.OwnerTable;
import io.shmkit.internal.RegionRegistryLayout;
import io.shmkit.internal.SegmentHeader;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

import static io.shmkit.internal.RegionRegistryLayout.*;

/**
 * Where the {@link Region}s that take their memory from one shared allocator write down what
 * they hold, so that the blocks of a region whose process died are given back instead of
 * staying allocated for ever.
 *
 * <p>A region's bookkeeping lives on its process's Java heap. Without a registry, a process
 * killed while a region is open leaves the region's blocks allocated in the segment, and
 * nobody can tell them from live allocations. In a {@link RingAllocator}, which collects freed
 * blocks only from its head, one such block would stop collection of everything behind it. With
 * a registry, each region has a slot in shared memory recording its owner (the owner id of its
 * process, whose liveness the segment's attach table answers) and the offset of every block and
 * large allocation it holds.
 * {@link #reclaimDead()} frees the recorded blocks of regions whose process is gone. Any
 * process may call it, and {@link Region#create(RegionRegistry, long)} calls it when every
 * slot is taken.
 *
 * {@snippet :
 * try (Segment seg = Segment.create(SegmentName.posix("work"), 64 << 20)) {
 *     RingAllocator ring = RingAllocator.create(seg, "ring", 32 << 20);
 *     RegionRegistry regions = RegionRegistry.create(seg, "regions", ring, 64, 64);
 *     try (Region r = Region.create(regions, 16 * 1024)) {
 *         MemorySegment msg = r.allocate(200);
 *     }
 * }
 * // later, in any process attached to "work":
 * RegionRegistry.open(seg, "regions").reclaimDead();
 * }
 *
 * <p><b>Crash consistency.</b> A region records a block after the allocator returned it, and
 * clears the record before it frees the block; each record and each clear is a single store.
 * So a record never names a block the region does not hold, and a process killed at any
 * instruction loses at most the one block it was allocating or freeing. That block stays
 * allocated (a leak), and nothing is ever freed twice. A reclaim clears each record before it
 * frees the block and releases the slot last, under the registry's robust lock. If the
 * reclaiming process dies too, the next reclaim carries on where it stopped.
 *
 * <p>A record damaged by a stray write is a different matter. {@link #verify()} finds one that
 * cannot be an allocation (out of range, misaligned), and a reclaim skips one the allocator
 * refuses as not allocated. A damaged record that happens to name another live block would free
 * that block: the registry cannot tell whose a block is.
 *
 * <p>Only regions of dead processes are reclaimed. A region that a live process forgot to
 * close keeps its blocks until that process exits. The allocator must be process-safe: a
 * registry over a {@link SyncMode#SINGLE_THREADED} allocator is refused.
 */
public final class RegionRegistry {

    /** Directory kind of a region registry. */
    public static final int KIND = 0x0105;

    private final String name;
    private final MemorySegment m;
    private final long base;
    private final int slots;
    private final int maxBlocks;
    private final long slotBytes;
    private final SharedAllocator allocator;
    private final AllocLock lock;
    /** Liveness of registry owners: the attach table of the segment this structure is in. */
    private final OwnerTable owners;

    private RegionRegistry(String name, MemorySegment m, long base, SharedAllocator allocator) {
        this.name = name;
        this.m = m;
        this.base = base;
        this.slots = Mem.getInt(m, base + OFF_SLOTS);
        this.maxBlocks = Mem.getInt(m, base + OFF_MAX_BLOCKS);
        this.slotBytes = slotBytes(maxBlocks);
        this.allocator = allocator;
        this.lock = AllocLock.openRobust(m, base + OFF_LOCK);
        this.owners = OwnerTable.of(m, base);
    }

    /**
     * Creates a registry named {@code name} in {@code segment} for regions over {@code allocator}
     * (an allocator of the same segment).
     *
     * @param slots     regions that can be open at once
     * @param maxBlocks blocks plus large allocations one region may hold at once
     */
    public static RegionRegistry create(Segment segment, String name, SharedAllocator allocator, int slots,
                                        int maxBlocks) {
        if (slots <= 0 || slots > 1 << 16 || maxBlocks <= 0 || maxBlocks > 1 << 16) {
            throw new IllegalArgumentException("slots and maxBlocks must be in [1, 65536]: slots=" + slots
                    + " maxBlocks=" + maxBlocks);
        }
        if (allocator.mode() == SyncMode.SINGLE_THREADED) {
            throw new IllegalArgumentException("region registry '" + name + "': allocator '" + allocator.name()
                    + "' is single-threaded; regions of several processes need a process-safe allocator");
        }
        if (!sameSegment(allocator.memory(), segment.memory())) {
            throw new IllegalArgumentException("region registry '" + name + "': allocator '" + allocator.name()
                    + "' is not in segment " + segment.name());
        }
        byte[] allocatorName = allocator.name().getBytes(StandardCharsets.UTF_8);
        if (allocatorName.length > ALLOCATOR_NAME_MAX || segment.lookup(allocator.name()).isEmpty()) {
            throw new IllegalArgumentException("region registry '" + name + "': allocator '" + allocator.name()
                    + "' must be recorded by name in the segment's directory (names up to "
                    + ALLOCATOR_NAME_MAX + " bytes)");
        }
        return segment.createStructure(name, KIND, bytesNeeded(slots, maxBlocks), 64,
                e -> init(segment, e, name, slots, maxBlocks, allocatorName, allocator));
    }

    private static RegionRegistry init(Segment segment, DirectoryEntry e, String name, int slots, int maxBlocks,
                                       byte[] allocatorName, SharedAllocator allocator) {
        MemorySegment m = segment.memory();
        long base = e.offset();
        m.asSlice(base, e.length()).fill((byte) 0);
        Mem.setInt(m, base + OFF_SLOTS, slots);
        Mem.setInt(m, base + OFF_MAX_BLOCKS, maxBlocks);
        Mem.setInt(m, base + OFF_ALLOCATOR_NAME, allocatorName.length);
        MemorySegment.copy(allocatorName, 0, m, ValueLayout.JAVA_BYTE, base + OFF_ALLOCATOR_NAME + 4, allocatorName.length);
        AllocLock.createRobust(m, base + OFF_LOCK);
        Formats.publish(m, base + OFF_MAGIC, MAGIC, base + OFF_FORMAT, FORMAT); // openers that see the magic see the header
        return new RegionRegistry(name, m, base, allocator);
    }

    /**
     * Whether two views map the same segment (they may differ in address after a grow): the
     * header's creator pid, creator start time and creation time, read through both, agree.
     */
    private static boolean sameSegment(MemorySegment a, MemorySegment b) {
        if (a.byteSize() < SegmentHeader.OFF_CREATED_AT + 8) {
            return false; // a raw range, not a segment
        }
        return Mem.getLong(a, SegmentHeader.OFF_CREATOR_PID) == Mem.getLong(b, SegmentHeader.OFF_CREATOR_PID)
                && Mem.getLong(a, SegmentHeader.OFF_CREATOR_START) == Mem.getLong(b, SegmentHeader.OFF_CREATOR_START)
                && Mem.getLong(a, SegmentHeader.OFF_CREATED_AT) == Mem.getLong(b, SegmentHeader.OFF_CREATED_AT);
    }

    /** Opens the registry recorded under {@code name} in {@code segment}, and the allocator it serves. */
    public static RegionRegistry open(Segment segment, String name) {
        DirectoryEntry e = Structures.lookup(segment, name, KIND, "region registry");
        MemorySegment m = segment.memory();
        long base = e.offset();
        String what = "region registry '" + name + "'";
        Structures.checkRange(m, base, OFF_SLOT_TABLE, what);
        Published.await(m, base + OFF_MAGIC, what);
        Formats.check(m, base + OFF_MAGIC, MAGIC, base + OFF_FORMAT, FORMAT, what + " at offset=" + base,
                MAGIC_FORMAT_1, MAGIC_FORMAT_2);
        int slots = Mem.getInt(m, base + OFF_SLOTS);
        int maxBlocks = Mem.getInt(m, base + OFF_MAX_BLOCKS);
        int nameLength = Mem.getInt(m, base + OFF_ALLOCATOR_NAME);
        if (slots <= 0 || slots > 1 << 16 || maxBlocks <= 0 || maxBlocks > 1 << 16
                || bytesNeeded(slots, maxBlocks) > e.length() || nameLength <= 0 || nameLength > ALLOCATOR_NAME_MAX) {
            throw new SegmentCorruptedException(what + " at offset=" + base + ": inconsistent header slots=" + slots
                    + " maxBlocks=" + maxBlocks + " allocator name length=" + nameLength + " range length=" + e.length());
        }
        byte[] bytes = new byte[nameLength];
        MemorySegment.copy(m, ValueLayout.JAVA_BYTE, base + OFF_ALLOCATOR_NAME + 4, bytes, 0, nameLength);
        String allocatorName = new String(bytes, StandardCharsets.UTF_8);
        DirectoryEntry a = segment.lookup(allocatorName).orElseThrow(() -> new SegmentCorruptedException(what
                + " serves allocator '" + allocatorName + "', which is not in segment " + segment.name()));
        SharedAllocator allocator = Allocators.open(segment, a).orElseThrow(() -> new SegmentCorruptedException(what
                + " serves '" + allocatorName + "', which is not an allocator (kind=0x" + Integer.toHexString(a.kind()) + ")"));
        return new RegionRegistry(name, m, base, allocator);
    }

    public String name() {
        return name;
    }

    /** The allocator the registered regions take their memory from. */
    public SharedAllocator allocator() {
        return allocator;
    }

    /** Regions that can be registered at once. */
    public int slots() {
        return slots;
    }

    /** Blocks plus large allocations one region may hold at once. */
    public int maxBlocks() {
        return maxBlocks;
    }

    /** Regions registered now (open, or left by a process that died and not yet reclaimed). */
    public int registeredRegions() {
        int n = 0;
        for (int s = 0; s < slots; s++) {
            if (OwnerRecords.inUseAcquire(m, slotAt(s))) {
                n++;
            }
        }
        return n;
    }

    /** Regions of dead processes reclaimed so far (by any process). */
    public long reclaimedRegions() {
        return Mem.getLongAcquire(m, base + OFF_RECLAIMED);
    }

    /** Blocks and large allocations given back by those reclaims. */
    public long reclaimedBlocks() {
        return Mem.getLongAcquire(m, base + OFF_RECLAIMED_BLOCKS);
    }

    /**
     * Frees the blocks of every region whose process is gone (its registration in the segment's
     * attach table is gone) and frees their slots.
     *
     * @return the number of regions reclaimed
     */
    public int reclaimDead() {
        lockAndContinue();
        try {
            return reclaimDeadLocked();
        } finally {
            lock.unlock();
        }
    }

    private int reclaimDeadLocked() {
        int reclaimed = 0;
        for (int s = 0; s < slots; s++) {
            long at = slotAt(s);
            if (!OwnerRecords.inUse(m, at) || !OwnerRecords.heldByDead(m, at, owners)) { // alive or unknown: fail closed
                continue;
            }
            long count = Math.min(Math.max(Mem.getLong(m, at + RegionRegistryLayout.Slot.OFF_COUNT), 0), maxBlocks);
            long freed = 0;
            for (long i = count - 1; i >= 0; i--) {
                long rec = at + RegionRegistryLayout.Slot.OFF_OFFSETS + 8 * i;
                long off = Mem.getLong(m, rec);
                if (off != 0) {
                    Mem.setLongRelease(m, rec, 0L); // the commit: no longer recorded (a crash here leaks it)
                    try {
                        allocator.free(off);
                        freed++;
                    } catch (IllegalArgumentException notAllocated) {
                        // the record was damaged: nothing of this region to free there
                    }
                }
            }
            Mem.setLong(m, base + OFF_RECLAIMED_BLOCKS, Mem.getLong(m, base + OFF_RECLAIMED_BLOCKS) + freed);
            Mem.setLong(m, base + OFF_RECLAIMED, Mem.getLong(m, base + OFF_RECLAIMED) + 1);
            Mem.setLong(m, at + RegionRegistryLayout.Slot.OFF_COUNT, 0L);
            OwnerRecords.release(m, at); // last: the slot is free for the next region
            reclaimed++;
        }
        return reclaimed;
    }

    /**
     * Checks the registry's invariants: every slot's count is within bounds and every recorded
     * offset lies inside the allocator's memory and is 8-byte aligned.
     */
    public void verify() {
        for (int s = 0; s < slots; s++) {
            long at = slotAt(s);
            if (!OwnerRecords.inUseAcquire(m, at)) {
                continue;
            }
            long count = Mem.getLong(m, at + RegionRegistryLayout.Slot.OFF_COUNT);
            if (count < 0 || count > maxBlocks) {
                throw new SegmentCorruptedException("region registry '" + name + "': slot " + s + " count at offset="
                        + (at + RegionRegistryLayout.Slot.OFF_COUNT) + " is " + count + ", outside [0, " + maxBlocks + "]");
            }
            for (long i = 0; i < count; i++) {
                long rec = at + RegionRegistryLayout.Slot.OFF_OFFSETS + 8 * i;
                long off = Mem.getLongAcquire(m, rec);
                if (off != 0 && (off < 0 || off >= m.byteSize() || (off & 7) != 0)) {
                    throw new SegmentCorruptedException("region registry '" + name + "': slot " + s + " records offset="
                            + off + " (at offset=" + rec + "), which no allocator of this segment can have returned");
                }
            }
        }
    }

    // ------------------------------------------------------------------ slots, for Region

    /**
     * Takes a free slot for a region of the calling thread, reclaiming the slots of dead
     * processes first if every slot is taken.
     *
     * @throws OutOfSharedMemoryException if every slot belongs to a live region
     */
    Slot take() {
        lockAndContinue();
        try {
            for (int pass = 0; pass < 2; pass++) {
                for (int s = 0; s < slots; s++) {
                    long at = slotAt(s);
                    if (!OwnerRecords.inUse(m, at)) {
                        m.asSlice(at, slotBytes).fill((byte) 0);
                        OwnerRecords.claim(m, at, owners.id());
                        return new Slot(at);
                    }
                }
                if (pass == 0 && reclaimDeadLocked() == 0) {
                    break;
                }
            }
        } finally {
            lock.unlock();
        }
        throw new OutOfSharedMemoryException("region registry '" + name + "': all " + slots
                + " slots belong to open regions of live processes");
    }

    private long slotAt(int s) {
        return base + OFF_SLOT_TABLE + s * slotBytes;
    }

    /** The robust lock; after a holder died there is nothing to repair (every step is a single store). */
    private void lockAndContinue() {
        if (lock.lock()) {
            lock.markConsistent();
        }
    }

    /** One region's slot: written only by the region's thread while it lives. */
    final class Slot {
        private final long at;
        private long count;       // mirror of the slot's count (only this thread writes it)

        private Slot(long at) {
            this.at = at;
        }

        /**
         * Records {@code offset}, just returned by the allocator, in a free position.
         *
         * @return false if the slot is full (nothing recorded)
         */
        boolean record(long offset) {
            for (long i = 0; i < count; i++) {
                long rec = at + RegionRegistryLayout.Slot.OFF_OFFSETS + 8 * i;
                if (Mem.getLong(m, rec) == 0) {
                    Mem.setLongRelease(m, rec, offset); // the commit
                    return true;
                }
            }
            if (count == maxBlocks) {
                return false;
            }
            Mem.setLongRelease(m, at + RegionRegistryLayout.Slot.OFF_OFFSETS + 8 * count, offset);
            count++;
            Mem.setLongRelease(m, at + RegionRegistryLayout.Slot.OFF_COUNT, count); // the commit: the new position counts
            return true;
        }

        /** Clears the record of {@code offset}, before it is freed. */
        void unrecord(long offset) {
            for (long i = 0; i < count; i++) {
                long rec = at + RegionRegistryLayout.Slot.OFF_OFFSETS + 8 * i;
                if (Mem.getLong(m, rec) == offset) {
                    Mem.setLongRelease(m, rec, 0L); // the commit
                    return;
                }
            }
            throw new IllegalStateException("region registry '" + name + "': offset=" + offset
                    + " is not recorded in slot at offset=" + at);
        }

        /** Gives the slot up (every record cleared already). */
        void release() {
            Mem.setLong(m, at + RegionRegistryLayout.Slot.OFF_COUNT, 0L);
            OwnerRecords.release(m, at);
        }

        String registryName() {
            return name;
        }

        int capacity() {
            return maxBlocks;
        }
    }

    @Override
    public String toString() {
        return "RegionRegistry[" + name + ", slots=" + slots + ", maxBlocks=" + maxBlocks + ", allocator="
                + allocator.name() + "]";
    }
}
