package io.shmkit.alloc;

import io.shmkit.internal.PoolBaseLayout;
import io.shmkit.internal.PoolBlockLayout;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.table.SharedTable;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class StructureKindTest {

    @Test
    void codesAreTheDocumentedOnes() {
        assertThat(StructureKind.BUMP.code()).isEqualTo(0x0101);
        assertThat(StructureKind.RING.code()).isEqualTo(0x0102);
        assertThat(StructureKind.FIXED_POOL.code()).isEqualTo(0x0103);
        assertThat(StructureKind.SLAB.code()).isEqualTo(0x0104);
        assertThat(StructureKind.REGION_REGISTRY.code()).isEqualTo(0x0105);
        assertThat(StructureKind.POOL_BASE.code()).isEqualTo(PoolBaseLayout.KIND).isEqualTo(0x0201);
        assertThat(StructureKind.POOL_BLOCK.code()).isEqualTo(PoolBlockLayout.KIND).isEqualTo(0x0202);
        assertThat(StructureKind.SHARED_TABLE.code()).isEqualTo(SharedTable.KIND);
        assertThat(StructureKind.of(0x7777)).isEmpty();
        assertThat(StructureKind.of(0x0104)).contains(StructureKind.SLAB);
    }

    @Test
    void everyCodeIsUsedOnce() {
        assumeTrue(SharedTable.KIND != PoolBaseLayout.KIND,
                "SharedTable.KIND is still 0x0201 (the pool base's code) until it moves to 0x0301 (issue 9)");
        Map<Integer, Long> counts = Arrays.stream(StructureKind.values())
                .collect(Collectors.groupingBy(StructureKind::code, Collectors.counting()));
        assertThat(counts).allSatisfy((code, n) -> assertThat(n).as("kind 0x%04x", code).isEqualTo(1L));
        for (StructureKind k : StructureKind.values()) {
            assertThat(StructureKind.of(k.code())).contains(k);
        }
    }

    @Test
    void allocatorsOpensEveryAllocatorKindThroughTheRegistry() {
        try (Segment s = Segment.create(SegmentName.posix(TestNames.unique("kinds")), 2 << 20)) {
            try {
                BumpAllocator.create(s, "bump", 64 * 1024, 4096);
                RingAllocator.create(s, "ring", 64 * 1024);
                FixedPool.create(s, "pool", 64, 100);
                SlabAllocator slab = SlabAllocator.create(s, "slab", 16);
                RegionRegistry.create(s, "regions", slab, 4, 8);
                s.reserve("other", 0x7777, 64, 64);
                for (DirectoryEntry e : s.directory()) {
                    var kind = StructureKind.of(e.kind());
                    var opened = Allocators.open(s, e);
                    if (kind.isPresent() && kind.get().isAllocator()) {
                        assertThat(opened).as(e.name()).isPresent();
                        assertThat(opened.get().name()).isEqualTo(e.name());
                        assertThat(opened.get().stats().type()).isEqualTo(kind.get().label());
                    } else {
                        assertThat(opened).as(e.name()).isEmpty();
                    }
                }
                assertThat(StructureKind.of(s.lookup("regions").orElseThrow().kind()))
                        .contains(StructureKind.REGION_REGISTRY);
            } finally {
                s.closeAndUnlink();
            }
        }
    }
}
