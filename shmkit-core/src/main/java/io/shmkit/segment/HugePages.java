package io.shmkit.segment;

/** Whether a segment should be backed by huge pages. */
public enum HugePages {
    /** Normal pages. */
    OFF,
    /**
     * Huge pages where the system offers them, otherwise normal pages. Anonymous and System V
     * segments try explicit huge pages ({@code MAP_HUGETLB}/{@code SHM_HUGETLB}) first; file
     * backed segments ask for transparent huge pages with {@code madvise(MADV_HUGEPAGE)}.
     * {@link Segment#hugePages()} tells what was obtained.
     */
    PREFER,
    /** Huge pages or a {@link io.shmkit.HugePagesUnavailableException} naming what is missing. */
    REQUIRE
}
