package io.shmkit.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A small tmpfs of its own for full-file-system tests: {@code mount -t tmpfs -o size=...} on a
 * fresh temporary directory (needs root, which the test machines have). {@link #mount} returns
 * null and prints why when the kernel or the user may not mount, so callers skip with the
 * reason shown; {@link #close()} unmounts and removes the directory.
 */
public final class PrivateTmpfs implements AutoCloseable {

    private final Path dir;

    private PrivateTmpfs(Path dir) {
        this.dir = dir;
    }

    /** Mounts a tmpfs of {@code size} (as mount(8) reads it, e.g. "4m"), or null with the reason printed. */
    public static PrivateTmpfs mount(String size) {
        return mount(size, "");
    }

    /** {@link #mount(String)} with more mount options, e.g. {@code ",huge=always"}. */
    public static PrivateTmpfs mount(String size, String moreOptions) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("shmkit-tmpfs-");
            String out = run(List.of("mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700" + moreOptions, "tmpfs",
                    dir.toString()));
            if (out != null) {
                System.err.println("SKIPPED: cannot mount a private tmpfs (" + out.trim() + ")");
                Files.deleteIfExists(dir);
                return null;
            }
            return new PrivateTmpfs(dir);
        } catch (IOException | InterruptedException e) {
            System.err.println("SKIPPED: cannot mount a private tmpfs (" + e + ")");
            return null;
        }
    }

    /** Why the last {@link #mount} failed, for assumptions. */
    public static String reason() {
        return "mount -t tmpfs was refused (see the test's stderr)";
    }

    public Path dir() {
        return dir;
    }

    /** Runs a command; null if it exited 0, else its output. */
    private static String run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "timed out: " + cmd;
        }
        return p.exitValue() == 0 ? null : out + " (exit " + p.exitValue() + ")";
    }

    @Override
    public void close() throws IOException, InterruptedException {
        String out = run(List.of("umount", dir.toString()));
        if (out != null) {
            run(List.of("umount", "-l", dir.toString()));
        }
        Files.deleteIfExists(dir);
    }
}
