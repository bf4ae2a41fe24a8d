package io.shmkit.fuzz;

import io.shmkit.alloc.BumpAllocator;
import io.shmkit.alloc.FixedPool;
import io.shmkit.alloc.Region;
import io.shmkit.alloc.RegionRegistry;
import io.shmkit.alloc.RingAllocator;
import io.shmkit.alloc.SharedAllocator;
import io.shmkit.alloc.SlabAllocator;
import io.shmkit.alloc.SyncMode;
import io.shmkit.internal.PoolBaseLayout;
import io.shmkit.pool.Pool;
import io.shmkit.pool.PoolConfig;
import io.shmkit.pool.Pools;
import io.shmkit.pool.TypeDef;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.sync.ShmMutex;
import io.shmkit.table.SharedTable;
import io.shmkit.table.TableSchema;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The pristine images the damage fuzzer starts every case from: one segment holding every
 * allocator kind (each mode), a region registry over a slab and a shared table, plus the base
 * and data block segments of a pool section, all worked a little (live blocks, freed blocks,
 * cached blocks, table rows, pool objects) and then copied into byte arrays. A case copies the
 * images back, damages them and opens what it damaged. Built by a thread that then ends, so
 * the thread caches in the images belong to an ended thread of this live process.
 */
final class DamageFixture implements AutoCloseable {

    /** Structure names in the main segment, in a fixed order (the fuzzer's first choice indexes it). */
    static final List<String> STRUCTURES = List.of("bump", "ring", "fixed-locked", "fixed-cached", "fixed-single",
            "slab-locked", "slab-cached", "slab-single", "registry", "table");

    static final TableSchema SCHEMA = TableSchema.builder(16)
            .string("name", 8).int64("score").int32("level").bytes("blob", 4).build();

    static final TypeDef PLAYERS = TypeDef.keyed(3, "Player", MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("id"), ValueLayout.JAVA_LONG.withName("gold")).withName("Player"), 48);
    static final TypeDef ITEMS = TypeDef.of(4, "Item", MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("owner")).withName("Item"), 64);

    final Segment seg;
    /**
     * The segments' memory as mapped at set-up. Damage is written and images are restored
     * through these views, never through {@code Segment.memory()}: a case that damages the
     * header's size and resize generation makes {@code memory()} refuse the segment, correctly,
     * and the next restore must still work.
     */
    final MemorySegment view;
    private final MemorySegment poolBaseView;
    private final MemorySegment poolBlockView;
    final byte[] image;
    final Map<String, DirectoryEntry> entries = new HashMap<>();
    /** Blocks live in the image, per allocator name: offset, size pairs. */
    final Map<String, List<Long>> liveBlocks = new HashMap<>();
    /** A 64-byte scratch area outside every structure (for forging lock words). */
    final long scratch;

    final PoolConfig poolConfig;
    final byte[] poolBaseImage;
    final byte[] poolBlockImage;
    /** Pool handles live in the image (players then items). */
    final long[] poolHandles;

    private Segment poolBase;
    private Segment poolBlock;

    DamageFixture(String tag) {
        String prefix = "shmkit-fuzz-" + tag + "-" + ProcessHandle.current().pid() + "-"
                + Long.toHexString(System.nanoTime() & 0xFFFFFFL);
        seg = Segment.create(SegmentName.posix(prefix), 256 * 1024);
        poolConfig = new PoolConfig("fuzz", SegmentName.posix(prefix + "-pbase"), 64 * 1024,
                List.of(SegmentName.posix(prefix + "-pb0")), 16 * 1024);
        long[][] handles = new long[1][];
        RuntimeException[] failed = new RuntimeException[1];
        Thread builder = new Thread(() -> {
            try {
                build();
                handles[0] = buildPools();
            } catch (RuntimeException e) {
                failed[0] = e;
            }
        }, "fuzz-fixture");
        builder.start();
        try {
            builder.join();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        if (failed[0] != null) {
            close();
            throw failed[0];
        }
        poolHandles = handles[0];
        for (DirectoryEntry e : seg.directory()) {
            entries.put(e.name(), e);
        }
        scratch = seg.reserve("scratch", 0x7F01, 64, 64).offset();
        view = seg.memory();
        image = view.toArray(ValueLayout.JAVA_BYTE);
        poolBase = Segment.open(poolConfig.baseKey());
        poolBlock = Segment.open(poolConfig.blockKeys().getFirst());
        poolBaseView = poolBase.memory();
        poolBlockView = poolBlock.memory();
        poolBaseImage = poolBaseView.toArray(ValueLayout.JAVA_BYTE);
        poolBlockImage = poolBlockView.toArray(ValueLayout.JAVA_BYTE);
    }

    private void build() {
        work("bump", BumpAllocator.create(seg, "bump", 16 * 1024, 1024), 40);
        work("ring", RingAllocator.create(seg, "ring", 16 * 1024), 40);
        work("fixed-locked", FixedPool.create(seg, "fixed-locked", 48, 128, 8, SyncMode.LOCKED), 60);
        work("fixed-cached", FixedPool.create(seg, "fixed-cached", 48, 128, 8, SyncMode.THREAD_CACHED), 60);
        work("fixed-single", FixedPool.create(seg, "fixed-single", 48, 128, 8, SyncMode.SINGLE_THREADED), 60);
        work("slab-locked", SlabAllocator.create(seg, "slab-locked", 8, 2048, SyncMode.LOCKED), 60);
        work("slab-cached", SlabAllocator.create(seg, "slab-cached", 8, 2048, SyncMode.THREAD_CACHED), 60);
        work("slab-single", SlabAllocator.create(seg, "slab-single", 8, 2048, SyncMode.SINGLE_THREADED), 60);
        SlabAllocator regionSlab = SlabAllocator.create(seg, "region-slab", 8, 2048, SyncMode.LOCKED);
        RegionRegistry registry = RegionRegistry.create(seg, "registry", regionSlab, 8, 16);
        Region open = Region.create(registry, 512);
        for (int i = 0; i < 10; i++) {
            open.allocate(40 + i * 30);
        }
        // left open: the image holds a region registered by this (live) process
        try (Region closed = Region.create(registry, 512)) {
            closed.allocate(100);
            closed.allocate(1500);
        }
        SharedTable t = SharedTable.create(seg, "table", SCHEMA, 32);
        for (int i = 0; i < 20; i++) {
            t.setLong("k" + i, "score", i * 7L);
            t.setString("k" + i, "name", "n" + i);
        }
        for (int i = 0; i < 20; i += 3) {
            t.delete("k" + i);
        }
        t.incr("k1", "score", 5);
    }

    /** Allocates {@code ops} blocks and frees every third one; the rest stay live in the image. */
    private void work(String name, SharedAllocator a, int ops) {
        List<Long> live = new ArrayList<>();
        for (int i = 0; i < ops; i++) {
            long size = 8 + (i * 13) % 40;
            long off = a.tryAllocate(size);
            if (off == 0) {
                continue;
            }
            if (i % 3 == 0 && !(a instanceof BumpAllocator)) {
                a.free(off);
            } else {
                live.add(off);
                live.add(size);
            }
        }
        liveBlocks.put(name, List.copyOf(live));
    }

    private long[] buildPools() {
        List<Long> hs = new ArrayList<>();
        try (Pools pools = Pools.start(poolConfig, List.of(PLAYERS, ITEMS))) {
            Pool players = pools.pool(PLAYERS);
            Pool items = pools.pool(ITEMS);
            for (int i = 0; i < 20; i++) {
                hs.add(players.allocate(1000 + i));
            }
            for (int i = 0; i < 30; i++) {
                long h = items.allocate();
                if (i % 4 == 0) {
                    items.free(h);
                } else {
                    hs.add(h);
                }
            }
            long a = hs.get(0);
            long b = hs.get(1);
            pools.atomically(tx -> {
                tx.write(a).set(ValueLayout.JAVA_LONG, 8, 10L);
                tx.write(b).set(ValueLayout.JAVA_LONG, 8, 20L);
            });
        }
        return hs.stream().mapToLong(Long::longValue).toArray();
    }

    /** Copies every pristine image back. */
    void restore() {
        MemorySegment.copy(image, 0, view, ValueLayout.JAVA_BYTE, 0, image.length);
    }

    void restorePools() {
        MemorySegment.copy(poolBaseImage, 0, poolBaseView, ValueLayout.JAVA_BYTE, 0, poolBaseImage.length);
        MemorySegment.copy(poolBlockImage, 0, poolBlockView, ValueLayout.JAVA_BYTE, 0, poolBlockImage.length);
    }

    MemorySegment poolBaseMemory() {
        return poolBaseView;
    }

    MemorySegment poolBlockMemory() {
        return poolBlockView;
    }

    /**
     * Whether {@code Pools.start} would wait for the base's creator: no pool structure in the
     * (damaged) base's directory yet, or one whose magic is still 0, while a live process (this
     * one, through the fixture) is attached. That waits 3 s by design and then refuses cleanly
     * ({@code PoolResumeValidationTest} pins it); the fuzzer skips it to keep its pace. A
     * directory that cannot even be read is not skipped: {@code Pools.start} must refuse it.
     */
    boolean poolBaseAwaitsCreator() {
        try {
            var de = poolBase.lookup(PoolBaseLayout.STRUCTURE);
            if (de.isEmpty()) {
                return true;
            }
            long off = de.get().offset();
            return de.get().kind() == PoolBaseLayout.KIND && off >= 0 && off <= poolBaseView.byteSize() - 8
                    && poolBaseView.get(ValueLayout.JAVA_LONG_UNALIGNED, off + PoolBaseLayout.OFF_MAGIC) == 0;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The owner word of a {@link ShmMutex} held by the calling thread (read while it holds one). */
    long ownerWordOfCallingThread() {
        MemorySegment m = view;
        ShmMutex mutex = ShmMutex.create(m, scratch);
        mutex.lock();
        long word = m.get(ValueLayout.JAVA_LONG, scratch);
        mutex.unlock();
        return word;
    }

    @Override
    public void close() {
        if (poolBase != null) {
            poolBase.close();
        }
        if (poolBlock != null) {
            poolBlock.close();
        }
        Segment.unlink(poolConfig.baseKey());
        for (SegmentName k : poolConfig.blockKeys()) {
            Segment.unlink(k);
        }
        seg.closeAndUnlink();
    }
}
