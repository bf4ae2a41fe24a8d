package io.shmkit.segment;

import io.shmkit.testing.ChildJvm;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Growing keeps the number of mappings bounded (issue 8, finding 5): each attachment reserves
 * address space and maps growth in place, so neither the grower nor other attached processes
 * collect one mapping per grow until {@code vm.max_map_count} (65,530) kills the JVM.
 */
class SegmentGrowthTest {

    private static final Duration T = Duration.ofMinutes(5);
    /** More grows than vm.max_map_count's default allows mappings. */
    private static final int GROWS = 70_000;
    private final List<SegmentName> created = new ArrayList<>();

    private SegmentName posix(String tag) {
        SegmentName n = SegmentName.posix(TestNames.unique(tag));
        created.add(n);
        return n;
    }

    @AfterEach
    void cleanUp() {
        created.forEach(Segment::unlink);
    }

    @Test
    void seventyThousandGrowsKeepTheMappingCountBoundedInTheGrowerAndInAWatcher() throws Exception {
        SegmentName name = posix("grow70k");
        long step = Segment.PAGE_SIZE;
        try (Segment s = Segment.create(name, Segment.MIN_SIZE)) {
            long target = Segment.MIN_SIZE + GROWS * step;
            try (ChildJvm watcher = ChildJvm.start(GrowthChild.class, "watch", name.toString(), Long.toString(target))) {
                watcher.awaitLine("WATCHING", T);
                try (ChildJvm grower = ChildJvm.start(GrowthChild.class, "grow", name.toString(),
                        Integer.toString(GROWS), Long.toString(step))) {
                    String grew = grower.awaitLine("GREW", T);
                    assertThat(grew).as(grower.stderr()).startsWith("GREW size=" + target);
                    assertThat(count(grew)).as("grower's mappings of the segment file after %d grows", GROWS)
                            .isBetween(1L, 2L);
                    assertThat(grower.waitFor(T)).isZero();
                    System.out.println("SegmentGrowthTest: " + GROWS + " grows: " + grew); // the figure in docs/SEGMENTS.md
                }
                String watched = watcher.awaitLine("WATCHED", T);
                long noticed = Long.parseLong(watched.split("noticed=")[1].split(" ")[0]);
                assertThat(noticed).as("the watcher noticed many of the grows one by one").isGreaterThan(10);
                assertThat(count(watched)).as("watcher's mappings after noticing %d grows", noticed).isBetween(1L, 2L);
                assertThat(watcher.waitFor(T)).isZero();
            }
            // this process noticed all of them at once: one mapping, and the last value is there
            assertThat(s.size()).isEqualTo(target);
            assertThat(s.memory().get(ValueLayout.JAVA_LONG, target - 8)).isEqualTo(GROWS - 1L);
            assertThat(GrowthChild.mappingsOf(name)).isEqualTo(1);
        }
    }

    private static long count(String line) {
        return Long.parseLong(line.split("maps=")[1].trim());
    }

    @Test
    void viewsTakenBeforeGrowingStayValidAndTheMappingCountStaysOne() throws Exception {
        SegmentName name = posix("views");
        try (Segment s = Segment.create(name, Segment.MIN_SIZE); Segment other = Segment.open(name)) {
            MemorySegment first = s.memory();
            MemorySegment otherFirst = other.memory();
            for (int i = 1; i <= 2_000; i++) {
                s.grow(Segment.MIN_SIZE + i * Segment.PAGE_SIZE);
                other.memory(); // notices every grow
            }
            first.set(ValueLayout.JAVA_LONG, s.dataOffset(), 77L);
            assertThat(otherFirst.get(ValueLayout.JAVA_LONG, other.dataOffset())).isEqualTo(77L);
            assertThat(other.memory().get(ValueLayout.JAVA_LONG, other.dataOffset())).isEqualTo(77L);
            assertThat(first.byteSize()).isEqualTo(Segment.MIN_SIZE);
            // two attachments in this process, one mapping each
            assertThat(GrowthChild.mappingsOf(name)).isEqualTo(2);
            assertThat(s.mappingCount()).isEqualTo(1);
            assertThat(other.mappingCount()).isEqualTo(1);
        }
    }

    @Test
    void growingPastTheAddressReservationRelocatesWithABoundedNumberOfMappings() throws Exception {
        SegmentName name = posix("reserve");
        long reserve = 4 * Segment.PAGE_SIZE;
        SegmentOptions small = SegmentOptions.defaults().withAddressReserve(reserve);
        try (Segment s = Segment.create(name, Segment.MIN_SIZE, small)) {
            MemorySegment first = s.memory();
            first.set(ValueLayout.JAVA_LONG, s.dataOffset(), 5L);
            int grows = 500;
            for (int i = 1; i <= grows; i++) {
                s.grow(Segment.MIN_SIZE + i * Segment.PAGE_SIZE);
            }
            long size = s.size();
            // each relocation at least doubles the reservation: at most log2(size / reserve) + 1 mappings
            int bound = 64 - Long.numberOfLeadingZeros(size / reserve) + 1;
            assertThat(s.mappingCount()).isGreaterThan(1).isLessThanOrEqualTo(bound);
            assertThat(GrowthChild.mappingsOf(name)).isEqualTo(s.mappingCount());
            // the view from before every relocation still reads and writes the same memory
            assertThat(first.get(ValueLayout.JAVA_LONG, s.dataOffset())).isEqualTo(5L);
            first.set(ValueLayout.JAVA_LONG, s.dataOffset(), 6L);
            assertThat(s.memory().get(ValueLayout.JAVA_LONG, s.dataOffset())).isEqualTo(6L);
        }
        assertThat(GrowthChild.mappingsOf(name)).isZero();
    }

    @Test
    void underAnAddressSpaceLimitTheReservationShrinksAndGrowthStaysInPlace() throws Exception {
        SegmentName name = posix("rlimit");
        try (Segment s = Segment.create(name, Segment.MIN_SIZE)) {
            // 6 GiB of address space: the JVM fits, a 64 GiB reservation does not
            List<String> limit = List.of("prlimit", "--as=" + (6L << 30));
            try (ChildJvm grower = ChildJvm.start(limit, GrowthChild.class, "grow", name.toString(), "2000",
                    Long.toString(Segment.PAGE_SIZE))) {
                String grew = grower.awaitLine("GREW", T);
                assertThat(grew).as(grower.stderr()).startsWith("GREW size=" + (Segment.MIN_SIZE + 2000 * Segment.PAGE_SIZE));
                assertThat(count(grew)).isEqualTo(1L);
                assertThat(grower.waitFor(T)).isZero();
            }
            assertThat(s.memory().get(ValueLayout.JAVA_LONG, s.size() - 8)).isEqualTo(1999L);
        }
    }
}
