package io.shmkit.segment;

/** Whether a segment should be backed by huge pages. */
public enum HugePages {
    /** Normal pages. */
    OFF,
    /**
     * Huge pages where the system offers them, otherwise normal pages. Anonymous and System V
     * segments try explicit huge pages ({@code MAP_HUGETLB}/{@code SHM_HUGETLB}) first; file
     * backed segments (POSIX and file) ask for transparent huge pages with
     * {@code madvise(MADV_HUGEPAGE)}, which the kernel grants by the {@code huge=} option of the
     * tmpfs that holds the file ({@code /dev/shm} has none by default: small pages).
     * {@link Segment#hugePages()} tells what the kernel's policy gives.
     */
    PREFER,
    /** Huge pages or a {@link io.shmkit.HugePagesUnavailableException} naming what is missing. */
    REQUIRE
}
