package io.shmkit.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM running {@code mainClass} with this JVM's class path, for multi-process tests.
 * Its standard output is read line by line in the background; {@link #awaitLine} waits for a
 * line that starts with a prefix (children print {@code READY ...} etc.). {@link #close()}
 * kills it with SIGKILL if it still runs, so tests never leave child JVMs behind.
 */
public final class ChildJvm implements AutoCloseable {

    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuilder stderr = new StringBuilder();

    private ChildJvm(Process process) {
        this.process = process;
        Thread out = new Thread(() -> pump(process.inputReader(StandardCharsets.UTF_8), true), "child-out-" + process.pid());
        Thread err = new Thread(() -> pump(process.errorReader(StandardCharsets.UTF_8), false), "child-err-" + process.pid());
        out.setDaemon(true);
        err.setDaemon(true);
        out.start();
        err.start();
    }

    /** Starts {@code mainClass} with the given arguments in a new JVM on this class path. */
    public static ChildJvm start(Class<?> mainClass, String... args) {
        return start(List.of(), mainClass, args);
    }

    /** Same, with a command prefix such as {@code setpriv --reuid=65534}. */
    public static ChildJvm start(List<String> prefix, Class<?> mainClass, String... args) {
        return start(prefix, List.of("-XX:TieredStopAtLevel=1"), mainClass, args);
    }

    /**
     * A child with the default compilers (C2 included, no {@code -XX:TieredStopAtLevel=1}), so
     * that code killed in it may be C2-compiled; {@code -Dshmkit.test.warmup=true} asks children
     * that support it to warm up before they report ready.
     */
    public static ChildJvm startCompiled(Class<?> mainClass, String... args) {
        return start(List.of(), List.of("-Dshmkit.test.warmup=true"), mainClass, args);
    }

    private static ChildJvm start(List<String> prefix, List<String> jvmOptions, Class<?> mainClass, String... args) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(javaBinary());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-Xshare:auto");
        cmd.addAll(jvmOptions);
        cmd.add("-Xmx256m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass.getName());
        cmd.addAll(List.of(args));
        try {
            return new ChildJvm(new ProcessBuilder(cmd).start());
        } catch (IOException e) {
            throw new IllegalStateException("cannot start child JVM: " + cmd, e);
        }
    }

    /** The java launcher of the running JVM. */
    public static String javaBinary() {
        return ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
    }

    private void pump(BufferedReader r, boolean isOut) {
        try (r) {
            String line;
            while ((line = r.readLine()) != null) {
                if (isOut) {
                    lines.add(line);
                } else {
                    synchronized (stderr) {
                        stderr.append(line).append('\n');
                    }
                }
            }
        } catch (IOException ignored) {
            // process ended
        }
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    /** Waits for an output line starting with {@code prefix}; returns the line. */
    public String awaitLine(String prefix, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String line = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
            if (line == null) {
                throw new AssertionError("child " + pid() + " printed no line starting with '" + prefix + "' within "
                        + timeout + "; alive=" + process.isAlive() + "; stderr:\n" + stderr());
            }
            if (line.startsWith(prefix)) {
                return line;
            }
        }
    }

    public String stderr() {
        synchronized (stderr) {
            return stderr.toString();
        }
    }

    /** Kills the child with SIGKILL and waits until it is gone. */
    public void kill9() throws InterruptedException {
        process.destroyForcibly(); // SIGKILL on Linux
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** Waits for a normal exit and returns the exit code. */
    public int waitFor(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("child " + pid() + " did not exit within " + timeout + "; stderr:\n" + stderr());
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill9();
        }
    }
}
