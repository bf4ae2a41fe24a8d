package io.shmkit.segment;

import io.shmkit.ShmException;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finding and inspecting segments without attaching to them: inspection opens read-only and
 * does not register in the attach table, so tools never show up as users. It never blocks: a
 * name that is a FIFO, a device, a socket or a directory is refused at once (opened with
 * {@code O_NONBLOCK}, checked with {@code fstat}), a symbolic link is never followed, and no
 * inspection waits for a creator or a lock.
 */
public final class Segments {

    private Segments() {
    }

    /** Reads a segment's header without attaching. */
    public static SegmentInfo inspect(SegmentName name) {
        try (Segment s = Segment.open(name, SegmentOptions.defaults().withReadOnly(true))) {
            return s.info();
        }
    }

    /**
     * Removes an object in the shmkit namespace that is not a usable segment (empty, zeroed,
     * truncated or foreign), for {@code shmkit rm --force}. Only a regular file is removed
     * (checked without blocking and without following a symbolic link); a System V segment is
     * marked for removal. Returns false if it did not exist.
     *
     * @throws io.shmkit.NotAShmkitSegmentException if the name is a FIFO, device, socket,
     *         directory or symbolic link: those are never removed
     */
    public static boolean unlinkAnyRegular(SegmentName name) {
        if (name.backend() == Backend.POSIX || name.backend() == Backend.FILE) {
            int fd;
            try {
                fd = FileMapping.openExisting(name, true);
            } catch (io.shmkit.SegmentNotFoundException gone) {
                return false;
            }
            io.shmkit.internal.Libc.close(fd);
        }
        return Segment.unlink(name);
    }

    /**
     * Whether {@link #unlinkAnyRegular} would remove {@code name}: a regular file that exists
     * (checked without blocking or following links), or any System V segment.
     */
    public static boolean isRegularFile(SegmentName name) {
        if (name.backend() != Backend.POSIX && name.backend() != Backend.FILE) {
            return name.backend() == Backend.SYSV;
        }
        try {
            io.shmkit.internal.Libc.close(FileMapping.openExisting(name, true));
            return true;
        } catch (ShmException notRegular) {
            return false;
        }
    }

    /** Like {@link #inspect} but empty if the object is missing or not a shmkit segment. */
    public static Optional<SegmentInfo> tryInspect(SegmentName name) {
        try {
            return Optional.of(inspect(name));
        } catch (ShmException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * Every shmkit segment this process can read: POSIX segments in {@code /dev/shm}, System V
     * segments listed in {@code /proc/sysvipc/shm}, and file segments in the given directories
     * (file segments can live anywhere, so they are only found where the caller looks).
     * Objects that are not shmkit segments, or that this user may not read, are skipped.
     */
    public static List<SegmentInfo> list(List<Path> fileDirectories) {
        List<SegmentInfo> out = new ArrayList<>();
        for (Path p : regularFiles(Path.of("/dev/shm"))) {
            String fileName = p.getFileName().toString();
            try {
                tryInspect(SegmentName.posix(fileName)).ifPresent(out::add);
            } catch (IllegalArgumentException notAValidName) {
                // names shmkit would never create
            }
        }
        for (int key : sysvKeys()) {
            tryInspect(SegmentName.sysv(key)).ifPresent(out::add);
        }
        for (Path dir : fileDirectories) {
            for (Path p : regularFiles(dir)) {
                tryInspect(SegmentName.file(p)).ifPresent(out::add);
            }
        }
        return out;
    }

    private static List<Path> regularFiles(Path dir) {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                        && Files.size(p) >= io.shmkit.internal.SegmentHeader.HEADER_SIZE) {
                    out.add(p);
                }
            }
        } catch (IOException e) {
            // unreadable directory: nothing to list there
        }
        out.sort(null);
        return out;
    }

    private static List<Integer> sysvKeys() {
        List<Integer> keys = new ArrayList<>();
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/sysvipc/shm"));
            for (int i = 1; i < lines.size(); i++) {
                String[] f = lines.get(i).trim().split("\\s+");
                if (f.length < 4) {
                    continue;
                }
                int key = (int) Long.parseLong(f[0]);
                long size = Long.parseLong(f[3]);
                if (key != 0 && size >= io.shmkit.internal.SegmentHeader.HEADER_SIZE) {
                    keys.add(key);
                }
            }
        } catch (IOException | RuntimeException e) {
            // no System V IPC in this kernel or namespace
        }
        return keys;
    }
}
