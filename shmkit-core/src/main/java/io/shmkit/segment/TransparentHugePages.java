package io.shmkit.segment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Whether the kernel's policy backs a shared mapping with transparent huge pages, read from the
 * places that decide it, so that {@link Segment#hugePages()} tells the truth and
 * {@link HugePages#REQUIRE} names the setting that refuses:
 * <ul>
 *   <li>a file on a tmpfs mount (POSIX segments in {@code /dev/shm}, file segments on a tmpfs):
 *       the mount's {@code huge=} option ({@code always}, {@code within_size} for the part
 *       inside the file size, {@code advise} with {@code madvise(MADV_HUGEPAGE)}, {@code never},
 *       the default), unless {@code shmem_enabled} says {@code deny} or {@code force} for every
 *       mount. {@code shmem_enabled} alone does not govern {@code /dev/shm}.</li>
 *   <li>a file on any other file system: not promised (the kernel may still use large folios
 *       there, but nothing a process can read says so): reported as no.</li>
 *   <li>shared anonymous memory (the kernel's internal shmem mount): {@code shmem_enabled}, or
 *       its per-size knob for 2 MiB pages when that is not {@code inherit}.</li>
 * </ul>
 * Fails closed: a file it cannot read, or a mount it cannot find, is "no" with the reason.
 * The kernel may still fall back to small pages when no free 2 MiB page is at hand.
 */
final class TransparentHugePages {

    static final Path SHMEM_ENABLED = Path.of("/sys/kernel/mm/transparent_hugepage/shmem_enabled");
    static final Path SHMEM_ENABLED_2M = Path.of("/sys/kernel/mm/transparent_hugepage/hugepages-2048kB/shmem_enabled");
    static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");
    static final long HUGE_PAGE = 2L << 20;

    /** The answer and, when it is no, why (the setting to change). */
    record Verdict(boolean granted, String why) {
        static Verdict yes(String why) {
            return new Verdict(true, why);
        }

        static Verdict no(String why) {
            return new Verdict(false, why);
        }
    }

    /** The mount holding a path: its mount point, file system type and super-block options. */
    record Mount(String point, String type, String options) {
        /** The value of option {@code key=} ("never" for tmpfs's {@code huge} when absent). */
        String option(String key, String absent) {
            for (String o : options.split(",")) {
                if (o.startsWith(key + "=")) {
                    return o.substring(key.length() + 1);
                }
            }
            return absent;
        }
    }

    private TransparentHugePages() {
    }

    /**
     * For a shared mapping of {@code file} of {@code size} bytes; {@code advised}: the mapping is
     * advised with MADV_HUGEPAGE before its pages are allocated (pages reserved up front by
     * {@code posix_fallocate} are allocated without the advice, so small).
     */
    static Verdict forFile(Path file, long size, boolean advised) {
        Path dir;
        List<String> mountinfo;
        try {
            Path parent = file.toAbsolutePath().getParent();
            dir = parent == null ? Path.of("/") : parent.toRealPath();
            mountinfo = Files.readAllLines(MOUNTINFO);
        } catch (IOException | RuntimeException e) {
            return Verdict.no("cannot tell which file system holds " + file + ": " + e.getMessage());
        }
        Mount mount = mountOf(dir, mountinfo);
        if (mount == null) {
            return Verdict.no("no mount of " + MOUNTINFO + " holds " + dir);
        }
        return decideForMount(mount, read(SHMEM_ENABLED), size, advised);
    }

    /** For shared anonymous memory (the kernel's internal shmem mount), advised if {@code advised}. */
    static Verdict forInternalShmem(boolean advised) {
        String perSize = read(SHMEM_ENABLED_2M);
        boolean usePerSize = perSize != null && !"inherit".equals(perSize);
        return decideForInternal(usePerSize ? perSize : read(SHMEM_ENABLED), usePerSize ? SHMEM_ENABLED_2M : SHMEM_ENABLED,
                advised);
    }

    /** The decision for a file on {@code mount}; {@code shmemEnabled} is the selected value of shmem_enabled or null. */
    static Verdict decideForMount(Mount mount, String shmemEnabled, long size, boolean advised) {
        if (!"tmpfs".equals(mount.type())) {
            return Verdict.no(mount.point() + " is " + mount.type() + ", not tmpfs: the kernel promises transparent huge "
                    + "pages for shared file mappings only on tmpfs");
        }
        if ("deny".equals(shmemEnabled)) {
            return Verdict.no(SHMEM_ENABLED + " is deny (no huge pages on any tmpfs)");
        }
        if ("force".equals(shmemEnabled)) {
            return Verdict.yes(SHMEM_ENABLED + " is force");
        }
        String huge = mount.option("huge", "never");
        String where = "tmpfs " + mount.point() + " is mounted huge=" + huge;
        return switch (huge) {
            case "always" -> Verdict.yes(where);
            case "within_size" -> size >= HUGE_PAGE ? Verdict.yes(where)
                    : Verdict.no(where + " and the segment is smaller than one 2 MiB page");
            case "advise" -> advised ? Verdict.yes(where) : Verdict.no(where + " and the pages were not allocated through an "
                    + "advised mapping (space reserved at creation takes small pages there: create the segment sparse, or "
                    + "mount huge=within_size)");
            default -> Verdict.no(where + " (remount it with huge=within_size or huge=advise, or put the segment on a "
                    + "tmpfs mounted so)");
        };
    }

    /** The decision for shared anonymous memory from the selected value of {@code knob}. */
    static Verdict decideForInternal(String value, Path knob, boolean advised) {
        if (value == null) {
            return Verdict.no("cannot read " + knob);
        }
        return switch (value) {
            case "always", "within_size", "force" -> Verdict.yes(knob + " is " + value);
            case "advise" -> advised ? Verdict.yes(knob + " is advise") : Verdict.no(knob + " is advise and the mapping is not advised");
            default -> Verdict.no(knob + " is " + value);
        };
    }

    /**
     * The mount that holds {@code dir} (a real path): the entry of {@code /proc/self/mountinfo}
     * with the longest mount point containing it, the last one when several mounts stack on
     * one point. Null if none does or a line does not parse.
     */
    static Mount mountOf(Path dir, List<String> mountinfo) {
        String d = dir.toString();
        Mount best = null;
        for (String line : mountinfo) {
            String[] f = line.split(" ");
            int dash = List.of(f).indexOf("-");
            if (f.length < 5 || dash < 6 || dash + 3 >= f.length) {
                continue;
            }
            String point = unescape(f[4]);
            boolean contains = point.equals("/") || d.equals(point) || d.startsWith(point + "/");
            if (contains && (best == null || point.length() >= best.point().length())) {
                best = new Mount(point, f[dash + 1], f[dash + 3]);
            }
        }
        return best;
    }

    /** Mountinfo escapes space, tab, newline and backslash as three octal digits. */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** The bracketed (selected) value of a sysfs choice file, or null if it cannot be read. */
    static String read(Path knob) {
        try {
            return selected(Files.readString(knob));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    static String selected(String choices) {
        int open = choices.indexOf('[');
        int close = choices.indexOf(']', open + 1);
        return open < 0 || close < 0 ? null : choices.substring(open + 1, close);
    }
}
