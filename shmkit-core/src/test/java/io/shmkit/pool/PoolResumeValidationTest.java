package io.shmkit.pool;

import io.shmkit.LayoutMismatchException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Layout changes between builds, and configuration errors. */
class PoolResumeValidationTest {

    private final List<PoolConfig> made = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        made.forEach(c -> PoolStartup.removeAll(c, false));
    }

    private static StructLayout player(MemoryLayout... extra) {
        List<MemoryLayout> m = new ArrayList<>(List.of(ValueLayout.JAVA_LONG.withName("id"), ValueLayout.JAVA_LONG.withName("gold"),
                ValueLayout.JAVA_INT.withName("level"), MemoryLayout.paddingLayout(4)));
        m.addAll(List.of(extra));
        return MemoryLayout.structLayout(m.toArray(MemoryLayout[]::new));
    }

    private PoolConfig withPlayers(int n) {
        PoolConfig c = PoolFixtures.config("val", 1 << 20, 1);
        made.add(c);
        try (Pools pools = Pools.start(c, List.of(TypeDef.keyed(3, "Player", player(), 100)))) {
            for (int i = 0; i < n; i++) {
                PoolFixtures.GOLD.set(pools.pool(3).get(pools.pool(3).allocate(i)), 0L, 10L + i);
            }
        }
        return c;
    }

    @Test
    void appendedFieldMigratesWithNewFieldZeroed() {
        PoolConfig c = withPlayers(5);
        StructLayout v2 = player(ValueLayout.JAVA_LONG.withName("title"));
        try (Pools pools = Pools.start(c, List.of(TypeDef.keyed(3, "Player", v2, 200)))) {
            assertThat(pools.startMode()).isEqualTo(StartMode.RESUME);
            assertThat(String.join("\n", pools.startReport())).contains("migrated type 3 \"Player\": appended fields \"title\" (int64 at offset 24)")
                    .contains("raised capacity from 100 to 200");
            long h = pools.pool(3).find(4);
            assertThat((long) PoolFixtures.GOLD.get(pools.pool(3).get(h), 0L)).isEqualTo(14L);
            assertThat((long) v2.varHandle(MemoryLayout.PathElement.groupElement("title")).get(pools.pool(3).get(h), 0L)).isZero();
            pools.verify();
        }
    }

    @Test
    void changedFieldTypeIsRefusedWithTheDifferenceAndNothingChanges() {
        PoolConfig c = withPlayers(3);
        StructLayout changed = MemoryLayout.structLayout(ValueLayout.JAVA_LONG.withName("id"), ValueLayout.JAVA_LONG.withName("gold"),
                ValueLayout.JAVA_LONG.withName("level"));
        assertThatThrownBy(() -> Pools.start(c, List.of(TypeDef.keyed(3, "Player", changed, 100))))
                .isInstanceOf(LayoutMismatchException.class)
                .hasMessageContaining("type 3 \"Player\": field \"level\" was int32 at offset 16, now int64 at offset 16")
                .hasMessageContaining("DISCARD_AND_COLD_START");
        try (Pools pools = Pools.start(c, List.of(TypeDef.keyed(3, "Player", player(), 100)))) {
            assertThat(pools.pool(3).used()).isEqualTo(3);
        }
    }

    @Test
    void removedReorderedIdAndCapacityChangesAreRefused() {
        PoolConfig c = withPlayers(2);
        StructLayout removed = MemoryLayout.structLayout(ValueLayout.JAVA_LONG.withName("id"), ValueLayout.JAVA_LONG.withName("gold"));
        assertThatThrownBy(() -> Pools.start(c, List.of(TypeDef.keyed(3, "Player", removed, 100))))
                .hasMessageContaining("field \"level\" (int32 at offset 16) was removed");
        StructLayout reordered = MemoryLayout.structLayout(ValueLayout.JAVA_LONG.withName("gold"), ValueLayout.JAVA_LONG.withName("id"),
                ValueLayout.JAVA_INT.withName("level"), MemoryLayout.paddingLayout(4));
        assertThatThrownBy(() -> Pools.start(c, List.of(TypeDef.keyed(3, "Player", reordered, 100))))
                .hasMessageContaining("field \"id\" was int64 at offset 0, now int64 at offset 8");
        assertThatThrownBy(() -> Pools.start(c, List.of(TypeDef.keyed(4, "Player", player(), 100))))
                .hasMessageContaining("type \"Player\" was id 3, now id 4");
        assertThatThrownBy(() -> Pools.start(c, List.of(TypeDef.keyed(3, "Player", player(), 50))))
                .hasMessageContaining("capacity was 100, now 50");
        try (Pools pools = Pools.start(c, List.of(TypeDef.keyed(3, "Player", player(), 50)), OnIncompatible.DISCARD_AND_COLD_START)) {
            assertThat(pools.startMode()).isEqualTo(StartMode.COLD_START);
            assertThat(pools.startReport().toString()).contains("discarded the old segments");
        }
    }

    @Test
    void missingDataBlockIsRefusedAndCanBeDiscarded() {
        PoolConfig c = withPlayers(2);
        io.shmkit.segment.Segment.unlink(c.blockKeys().get(0));
        assertThatThrownBy(() -> Pools.start(c, List.of(TypeDef.keyed(3, "Player", player(), 100))))
                .isInstanceOf(LayoutMismatchException.class)
                .hasMessageContaining("data block 0 (" + c.blockKeys().get(0) + ") is missing");
        try (Pools pools = Pools.start(c, List.of(TypeDef.keyed(3, "Player", player(), 100)), OnIncompatible.DISCARD_AND_COLD_START)) {
            assertThat(pools.startMode()).isEqualTo(StartMode.COLD_START);
        }
    }

    @Test
    void foreignDataBlockIsRefused() throws Exception {
        PoolConfig c = withPlayers(2);
        PoolConfig other = withPlayers(1);
        Path mine = c.blockKeys().get(0).path();
        java.nio.file.Files.move(other.blockKeys().get(0).path(), mine, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> Pools.start(c, List.of(TypeDef.keyed(3, "Player", player(), 100))))
                .hasMessageContaining("data block 0 (" + c.blockKeys().get(0) + ") is foreign: it belongs to another base");
    }

    @Test
    void newerBaseFormatIsRefused() {
        PoolConfig c = withPlayers(1);
        try (io.shmkit.segment.Segment base = io.shmkit.segment.Segment.open(c.baseKey())) {
            long at = base.lookup(io.shmkit.internal.PoolBaseLayout.STRUCTURE).orElseThrow().offset();
            base.memory().set(ValueLayout.JAVA_INT, at + io.shmkit.internal.PoolBaseLayout.OFF_FORMAT, 99);
        }
        assertThatThrownBy(() -> Pools.start(c, List.of(TypeDef.keyed(3, "Player", player(), 100))))
                .isInstanceOf(io.shmkit.UnsupportedFormatException.class)
                .hasMessageContaining("pool format version 99, newer than this shmkit reads");
    }

    /** A data block of format 1 (magic "SHMKPBK1", from before the Formats scheme) is refused, naming the old format. */
    @Test
    void legacyDataBlockIsRefused() {
        PoolConfig c = withPlayers(1);
        try (io.shmkit.segment.Segment block = io.shmkit.segment.Segment.open(c.blockKeys().get(0))) {
            long at = block.lookup(io.shmkit.internal.PoolBlockLayout.STRUCTURE).orElseThrow().offset();
            block.memory().set(ValueLayout.JAVA_LONG, at + io.shmkit.internal.PoolBlockLayout.OFF_MAGIC,
                    io.shmkit.internal.PoolBlockLayout.LEGACY_MAGIC_1);
        }
        assertThatThrownBy(() -> Pools.start(c, List.of(TypeDef.keyed(3, "Player", player(), 100))))
                .hasMessageContaining("data block 0 (" + c.blockKeys().get(0) + ") has an older format (magic 'SHMKPBK1')");
    }

    /** Format 1 indexed keys with another hash: resuming it would miss every key, so it is refused. */
    @Test
    void olderBaseFormatIsRefused() {
        PoolConfig c = withPlayers(1);
        try (io.shmkit.segment.Segment base = io.shmkit.segment.Segment.open(c.baseKey())) {
            long at = base.lookup(io.shmkit.internal.PoolBaseLayout.STRUCTURE).orElseThrow().offset();
            base.memory().set(ValueLayout.JAVA_INT, at + io.shmkit.internal.PoolBaseLayout.OFF_FORMAT, 1);
        }
        assertThatThrownBy(() -> Pools.start(c, List.of(TypeDef.keyed(3, "Player", player(), 100))))
                .isInstanceOf(io.shmkit.UnsupportedFormatException.class)
                .hasMessageContaining("pool format version 1, older than this shmkit reads");
    }

    @Test
    void halfInitialisedBaseWhoseCreatorIsGoneIsRefusedWithoutWaitingForever() {
        PoolConfig c = PoolFixtures.config("half", 1 << 20, 1);
        made.add(c);
        try (io.shmkit.segment.Segment base = io.shmkit.segment.Segment.create(c.baseKey(), 2 << 20)) {
            base.reserve(io.shmkit.internal.PoolBaseLayout.STRUCTURE, io.shmkit.internal.PoolBaseLayout.KIND,
                    io.shmkit.internal.PoolBaseLayout.bytesNeeded(c.undoBytes()), 64); // then "dies": no magic
        }
        assertThatThrownBy(() -> Pools.start(c, List.of(PoolFixtures.items(10))))
                .isInstanceOf(io.shmkit.SegmentCorruptedException.class)
                .hasMessageContaining("is half-initialised");
        try (Pools pools = Pools.start(c, List.of(PoolFixtures.items(10)), OnIncompatible.DISCARD_AND_COLD_START)) {
            assertThat(pools.startMode()).isEqualTo(StartMode.COLD_START);
            assertThat(pools.startReport().toString()).contains("discarded the old segments: base segment");
        }
    }

    @Test
    void configErrorsNameFileLineAndProblem() {
        Path f = Path.of("memorypool.ini");
        assertThatThrownBy(() -> PoolConfigFile.parse(f, List.of("ProcessList = zone, logic", "[zone]", "BaseKey = 0x100",
                "BlockSize = 1M", "ShmKey = 0x101, 0x102", "[logic]", "BaseKey = 0x200", "BlockSize = 1M", "ShmKey = 0x102")))
                .isInstanceOf(PoolConfigException.class)
                .hasMessageContaining("memorypool.ini:9: key sysv:0x102 is claimed by process 'zone' (line 5) and by process 'logic'");
        assertThatThrownBy(() -> PoolConfigFile.parse(f, List.of("ProcessList = zone", "[zone", "BaseKey = 1")))
                .hasMessageContaining("memorypool.ini:2: malformed section header");
        assertThatThrownBy(() -> PoolConfigFile.parse(f, List.of("ProcessList = zone", "[zone]", "BaseKey = 1", "BlockSize = lots")))
                .hasMessageContaining("memorypool.ini:4: BlockSize='lots' is not a size");
        PoolConfigFile ok = PoolConfigFile.parse(f, List.of("ProcessList = zone", "[zone]", "BaseKey = posix:zb", "BlockSize = 8K",
                "ShmKey = posix:z0"));
        assertThatThrownBy(() -> ok.process("logic")).hasMessageContaining("no process 'logic' (ProcessList: zone)");
        PoolConfig tiny = ok.process("zone");
        StructLayout huge = MemoryLayout.structLayout(MemoryLayout.sequenceLayout(8192, ValueLayout.JAVA_BYTE).withName("blob"));
        assertThatThrownBy(() -> Pools.start(tiny, List.of(TypeDef.of(1, "Blob", huge, 1))))
                .isInstanceOf(PoolConfigException.class).hasMessageContaining("too small for one object of type 1 \"Blob\"");
        assertThat(java.nio.file.Files.exists(Path.of("/dev/shm/zb"))).as("nothing created").isFalse();
    }
}
