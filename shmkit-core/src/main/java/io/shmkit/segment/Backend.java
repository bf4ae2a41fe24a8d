package io.shmkit.segment;

/** Where a segment's memory comes from. */
public enum Backend {
    /** POSIX shared memory: a file in {@code /dev/shm} (tmpfs). Gone at reboot. The default. */
    POSIX,
    /** A plain file at a path the user chooses. Survives a reboot on a persistent file system. */
    FILE,
    /** A System V shared memory segment identified by an integer key ({@code shmget}). */
    SYSV,
    /** Anonymous shared memory private to this process (Java cannot fork to share it). */
    ANONYMOUS;

    /** Lower-case name as used on the command line ({@code posix}, {@code file}, ...). */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
