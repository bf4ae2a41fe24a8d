package io.shmkit.alloc;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.UnsupportedFormatException;
import io.shmkit.internal.FixedPoolLayout;
import io.shmkit.internal.Formats;
import io.shmkit.internal.OwnerRecordLayout;
import io.shmkit.internal.OwnerRecords;
import io.shmkit.internal.OwnerTable;
import io.shmkit.internal.Procs;
import io.shmkit.internal.RegionRegistryLayout;
import io.shmkit.internal.SlabLayout;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The version scheme and the owner records of the thread-cached allocators and the region
 * registry: one magic per kind plus a format field, older magics refused as older formats, and
 * one owner-record layout shared by the three registries.
 */
class ThreadCachedFormatTest {

    private Segment seg;

    @BeforeEach
    void create() {
        seg = Segment.create(SegmentName.posix(TestNames.unique("tcfmt")), 4 << 20);
        FixedPool.create(seg, "fp", 64, 100, 8, SyncMode.THREAD_CACHED);
        SlabAllocator slab = SlabAllocator.create(seg, "slab", 16, 4096, SyncMode.THREAD_CACHED);
        RegionRegistry.create(seg, "regions", slab, 4, 8);
    }

    @AfterEach
    void unlink() {
        seg.closeAndUnlink();
    }

    private long base(String name) {
        return seg.lookup(name).orElseThrow().offset();
    }

    private void assertRefusedAsOlder(String name, long magicAt, long legacy, Runnable open) {
        MemorySegment m = seg.memory();
        long saved = m.get(ValueLayout.JAVA_LONG, magicAt);
        m.set(ValueLayout.JAVA_LONG, magicAt, legacy);
        try {
            UnsupportedFormatException e = assertThrows(UnsupportedFormatException.class, open::run);
            MessageAssert.assertThat(e.getMessage()).contains("'" + name + "'").contains(Formats.text(legacy))
                    .contains("recreate");
        } finally {
            m.set(ValueLayout.JAVA_LONG, magicAt, saved);
        }
    }

    private void assertFormatChecked(long magicAt, long formatAt, Runnable open) {
        MemorySegment m = seg.memory();
        open.run(); // as created: opens
        m.set(ValueLayout.JAVA_INT, formatAt, 2);
        assertThrows(UnsupportedFormatException.class, open::run, "a newer format is refused");
        m.set(ValueLayout.JAVA_INT, formatAt, 1);
        long saved = m.get(ValueLayout.JAVA_LONG, magicAt);
        m.set(ValueLayout.JAVA_LONG, magicAt, Formats.magic("NOTMINE!"));
        assertThrows(SegmentCorruptedException.class, open::run, "another kind's magic is corruption");
        m.set(ValueLayout.JAVA_LONG, magicAt, saved);
        open.run();
    }

    @Test
    void fixedPoolHasOneMagicAndAFormatAndRefusesItsOlderFormats() {
        long b = base("fp");
        assertEquals(Formats.magic("SHMKFXPL"), seg.memory().get(ValueLayout.JAVA_LONG, b + FixedPoolLayout.OFF_MAGIC));
        assertEquals(FixedPoolLayout.FORMAT, seg.memory().get(ValueLayout.JAVA_INT, b + FixedPoolLayout.OFF_FORMAT));
        for (long legacy : new long[]{FixedPoolLayout.MAGIC_FORMAT_1, FixedPoolLayout.MAGIC_FORMAT_2,
                FixedPoolLayout.MAGIC_FORMAT_3}) {
            assertRefusedAsOlder("fp", b + FixedPoolLayout.OFF_MAGIC, legacy, () -> FixedPool.open(seg, "fp"));
        }
        assertFormatChecked(b + FixedPoolLayout.OFF_MAGIC, b + FixedPoolLayout.OFF_FORMAT, () -> FixedPool.open(seg, "fp"));
    }

    @Test
    void slabHasOneMagicAndAFormatAndRefusesItsOlderFormats() {
        long b = base("slab");
        assertEquals(Formats.magic("SHMKSLAB"), seg.memory().get(ValueLayout.JAVA_LONG, b + SlabLayout.OFF_MAGIC));
        for (long legacy : new long[]{SlabLayout.MAGIC_FORMAT_1, SlabLayout.MAGIC_FORMAT_2}) {
            assertRefusedAsOlder("slab", b + SlabLayout.OFF_MAGIC, legacy, () -> SlabAllocator.open(seg, "slab"));
        }
        assertFormatChecked(b + SlabLayout.OFF_MAGIC, b + SlabLayout.OFF_FORMAT, () -> SlabAllocator.open(seg, "slab"));
    }

    @Test
    void regionRegistryHasOneMagicAndAFormatAndRefusesItsOlderFormats() {
        long b = base("regions");
        assertEquals(Formats.magic("SHMKRGNR"), seg.memory().get(ValueLayout.JAVA_LONG, b + RegionRegistryLayout.OFF_MAGIC));
        for (long legacy : new long[]{RegionRegistryLayout.MAGIC_FORMAT_1, RegionRegistryLayout.MAGIC_FORMAT_2}) {
            assertRefusedAsOlder("regions", b + RegionRegistryLayout.OFF_MAGIC, legacy,
                    () -> RegionRegistry.open(seg, "regions"));
        }
        assertFormatChecked(b + RegionRegistryLayout.OFF_MAGIC, b + RegionRegistryLayout.OFF_FORMAT,
                () -> RegionRegistry.open(seg, "regions"));
    }

    /** The three registries write the one owner record the same way: this thread of this process, in use. */
    @Test
    void everyRegistryEntryOpensWithTheSameOwnerRecord() {
        MemorySegment m = seg.memory();
        FixedPool fp = FixedPool.open(seg, "fp");
        SlabAllocator slab = SlabAllocator.open(seg, "slab");
        fp.free(fp.allocate(8));
        slab.free(slab.allocate(8));
        try (Region r = Region.create(RegionRegistry.open(seg, "regions"), 4096)) {
            r.allocate(16);
            long fpEntry = base("fp") + FixedPoolLayout.OFF_REGISTRY + FixedPoolLayout.Entry.BYTES * fp.threadCacheEntry();
            long slabEntry = base("slab") + SlabLayout.registryStart(4096) + SlabLayout.entrySize(4096) * slab.threadCacheEntry();
            long slot = base("regions") + RegionRegistryLayout.OFF_SLOT_TABLE;
            Consumer<Long> mine = at -> {
                assertTrue(OwnerRecords.inUseAcquire(m, at), "in use at " + at);
                assertEquals(OwnerTable.of(m, at).id(), OwnerRecords.owner(m, at));
                assertEquals(Procs.PID, m.get(ValueLayout.JAVA_LONG, at + OwnerRecordLayout.OFF_PID));
                assertEquals(Thread.currentThread().threadId(), m.get(ValueLayout.JAVA_LONG, at + OwnerRecordLayout.OFF_THREAD));
                assertFalse(OwnerRecords.heldByDead(m, at, OwnerTable.of(m, at)), "this process is never dead");
            };
            mine.accept(fpEntry);
            mine.accept(slabEntry);
            mine.accept(slot);
        }
        fp.releaseThreadCache();
        slab.releaseThreadCache();
        for (long at : new long[]{base("fp") + FixedPoolLayout.OFF_REGISTRY, base("slab") + SlabLayout.registryStart(4096),
                base("regions") + RegionRegistryLayout.OFF_SLOT_TABLE}) {
            assertFalse(OwnerRecords.inUseAcquire(m, at), "released at " + at);
        }
    }

    /** The layouts' offsets did not move in the conversion (only the magic and the format field are new). */
    @Test
    void layoutOffsetsStayWhereTheyWere() {
        assertEquals(64, FixedPoolLayout.OFF_LOCK);
        assertEquals(192, FixedPoolLayout.OFF_HEAD);
        assertEquals(224, FixedPoolLayout.OFF_CACHE_ENTRIES);
        assertEquals(256, FixedPoolLayout.OFF_REGISTRY);
        assertEquals(24, FixedPoolLayout.Entry.OFF_CACHE_WORD);
        assertEquals(248, SlabLayout.OFF_CACHE_SECRET);
        assertEquals(32, SlabLayout.Descriptor.OFF_BITMAP);
        assertEquals(20, SlabLayout.Descriptor.OFF_RUN_HEAD);
        assertEquals(32, SlabLayout.SizeClass.OFF_FAILURES);
        assertEquals(192, RegionRegistryLayout.OFF_ALLOCATOR_NAME);
        assertEquals(24, RegionRegistryLayout.Slot.OFF_COUNT);
        assertEquals(24, OwnerRecordLayout.BYTES);
    }
}
