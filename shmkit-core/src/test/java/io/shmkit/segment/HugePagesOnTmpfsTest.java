package io.shmkit.segment;

import io.shmkit.HugePagesUnavailableException;
import io.shmkit.testing.PrivateTmpfs;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * File segments on private tmpfs mounts with each {@code huge=} option: {@link Segment#hugePages()}
 * says what the mount gives (checked against the kernel's own count of huge-page mappings in
 * {@code /proc/self/smaps}), and {@link HugePages#REQUIRE} is refused with the mount option named
 * and nothing left behind. Needs root to mount (skipped with the reason printed otherwise).
 */
class HugePagesOnTmpfsTest {

    private static final long SIZE = 8L << 20;

    @Test
    void aTmpfsMountedHugeAlwaysGivesHugePagesAndSaysSo() throws Exception {
        try (PrivateTmpfs fs = PrivateTmpfs.mount("32m", ",huge=always")) {
            assumeTrue(fs != null, PrivateTmpfs.reason());
            Path file = fs.dir().resolve("huge.shm");
            try (Segment s = Segment.create(SegmentName.file(file), SIZE,
                    SegmentOptions.defaults().withHugePages(HugePages.REQUIRE))) {
                assertThat(s.hugePages()).isTrue();
                assertThat(touchedPmdMappedKb(s)).as("kB of the mapping in huge pages (smaps)").isPositive();
                try (Segment o = Segment.open(SegmentName.file(file), SegmentOptions.defaults().withHugePages(HugePages.PREFER))) {
                    assertThat(o.hugePages()).isTrue();
                }
            }
            Files.deleteIfExists(file);
        }
    }

    @Test
    void aTmpfsMountedHugeNeverFallsBackOrRefusesNamingTheMountOption() throws Exception {
        try (PrivateTmpfs fs = PrivateTmpfs.mount("32m", ",huge=never")) {
            assumeTrue(fs != null, PrivateTmpfs.reason());
            Path file = fs.dir().resolve("small.shm");
            try (Segment s = Segment.create(SegmentName.file(file), SIZE,
                    SegmentOptions.defaults().withHugePages(HugePages.PREFER))) {
                assertThat(s.hugePages()).isFalse();
                s.memory().set(ValueLayout.JAVA_LONG, s.dataOffset(), 1L); // usable with small pages
            }
            Files.delete(file);
            Path required = fs.dir().resolve("required.shm");
            assertThatThrownBy(() -> Segment.create(SegmentName.file(required), SIZE,
                    SegmentOptions.defaults().withHugePages(HugePages.REQUIRE)))
                    .isInstanceOf(HugePagesUnavailableException.class)
                    .hasMessageContaining("is mounted huge=never").hasMessageContaining("HugePages.PREFER");
            assertThat(required).doesNotExist(); // nothing half-made is left
        }
    }

    /**
     * huge=advise gives huge pages to pages allocated through an advised mapping: a sparse
     * segment's. Space reserved at creation (the default) is allocated by posix_fallocate
     * before any mapping exists, so it gets small pages, and the segment says so.
     */
    @Test
    void aTmpfsMountedHugeAdviseGivesHugePagesOnlyToPagesAllocatedThroughTheAdvisedMapping() throws Exception {
        try (PrivateTmpfs fs = PrivateTmpfs.mount("32m", ",huge=advise")) {
            assumeTrue(fs != null, PrivateTmpfs.reason());
            Path sparse = fs.dir().resolve("sparse.shm");
            try (Segment s = Segment.create(SegmentName.file(sparse), SIZE,
                    SegmentOptions.defaults().withHugePages(HugePages.REQUIRE).withSparse(true))) {
                assertThat(s.hugePages()).isTrue();
                assertThat(touchedPmdMappedKb(s)).as("kB of the mapping in huge pages (smaps)").isPositive();
            }
            Files.delete(sparse);
            Path reserved = fs.dir().resolve("reserved.shm");
            try (Segment s = Segment.create(SegmentName.file(reserved), SIZE,
                    SegmentOptions.defaults().withHugePages(HugePages.PREFER))) {
                assertThat(s.hugePages()).isFalse();
                assertThat(touchedPmdMappedKb(s)).as("what the segment said").isZero();
            }
            Files.delete(reserved);
            assertThatThrownBy(() -> Segment.create(SegmentName.file(reserved), SIZE,
                    SegmentOptions.defaults().withHugePages(HugePages.REQUIRE)))
                    .isInstanceOf(HugePagesUnavailableException.class).hasMessageContaining("create the segment sparse");
            assertThat(reserved).doesNotExist();
        }
    }

    /** Writes every page of the segment, then reads how much of its mapping huge pages hold. */
    private static long touchedPmdMappedKb(Segment s) throws IOException {
        for (long at = s.dataOffset(); at + 8 <= SIZE; at += 4096) {
            s.memory().set(ValueLayout.JAVA_LONG, at, at);
        }
        return pmdMappedKb(s.memory().address());
    }

    /** ShmemPmdMapped + FilePmdMapped of the smaps entry holding {@code address}. */
    private static long pmdMappedKb(long address) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        long kb = 0;
        boolean inside = false;
        for (String line : lines) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash > 0 && space > dash && line.substring(0, dash).chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                long from = HexFormat.fromHexDigitsToLong(line.substring(0, dash));
                long to = HexFormat.fromHexDigitsToLong(line.substring(dash + 1, space));
                inside = Long.compareUnsigned(address, from) >= 0 && Long.compareUnsigned(address, to) < 0;
            } else if (inside && (line.startsWith("ShmemPmdMapped:") || line.startsWith("FilePmdMapped:"))) {
                kb += Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return kb;
    }
}
