package io.shmkit.cli.torture;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The torture's worker JVMs: start (in the host or a fresh pid namespace), wait for progress, SIGKILL. */
final class Workers {
    private final PrintWriter out;
    private final List<Process> live = new ArrayList<>();

    Workers(PrintWriter out) {
        this.out = out;
    }

    /** Waits until worker {@code w} has made one more operation (it is attached and running); returns the ms waited. */
    long awaitRunning(TortureState st, int w, Process p, long seed) throws InterruptedException {
        long t0 = System.nanoTime();
        Facts header = st.worker(w);
        long ops = header.get(TortureState.W_OPS);
        long until = System.currentTimeMillis() + 120_000;
        while (header.get(TortureState.W_OPS) == ops) {
            if (!p.isAlive() || System.currentTimeMillis() > until) {
                throw new IllegalStateException("torture worker " + w + " " + (p.isAlive() ? "made no progress in 120 s"
                        : "exited with status " + p.exitValue()) + " (seed " + seed + ")");
            }
            Thread.sleep(2);
        }
        return (System.nanoTime() - t0) / 1_000_000;
    }

    Process start(String name, int w, long workerSeed, boolean inNamespace) throws java.io.IOException {
        return start(name, w, workerSeed, inNamespace, 0);
    }

    /**
     * Starts a worker JVM; {@code exitAfter > 0} makes it exit normally after that many
     * operations. Every worker uses one dynamic class-data archive, written by the first worker
     * that exits normally (the warm-up): later ones start in a fraction of the time.
     */
    Process start(String name, int w, long workerSeed, boolean inNamespace, long exitAfter) throws java.io.IOException {
        String javaCmd = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        String cp = System.getProperty("java.class.path");
        java.nio.file.Path archive = java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "shmkit-torture-"
                + Integer.toHexString((javaCmd + cp + Runtime.version()).hashCode()) + ".jsa");
        List<String> cmd = new ArrayList<>();
        if (inNamespace) {
            cmd.addAll(List.of("unshare", "-p", "-f", "--mount-proc", "--kill-child"));
        }
        cmd.addAll(List.of(javaCmd, "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
        if (archivable(cp)) {
            cmd.addAll(List.of("-XX:+AutoCreateSharedArchive", "-XX:SharedArchiveFile=" + archive, "-Xlog:cds=off",
                    "-Xlog:cds+dynamic=off"));
        }
        cmd.addAll(List.of("-XX:-UsePerfData", "-Xmx64m", "-cp", cp, TortureWorkerCommand.class.getName(),
                name, Integer.toString(w), Long.toString(workerSeed), Long.toString(exitAfter)));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(inNamespace ? ProcessBuilder.Redirect.PIPE : ProcessBuilder.Redirect.INHERIT);
        if (exitAfter > 0) { // the warm-up: its error output goes into the exception if it fails
            pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.PIPE);
        }
        Process p = pb.start();
        if (inNamespace && exitAfter == 0) {
            passErrorsOn(p, System.err);
        }
        synchronized (live) {
            live.add(p);
        }
        return p;
    }

    /**
     * Copies a namespaced worker's error output to ours, but for the one line util-linux's
     * {@code unshare} (2.38) prints each time its child is SIGKILLed: it tries to re-raise the
     * child's signal on itself, and {@code signal(SIGKILL, SIG_DFL)} fails with EINVAL. That is
     * the kill the torture made, not an error of the worker.
     */
    static Thread passErrorsOn(Process p, java.io.PrintStream to) {
        Thread t = new Thread(() -> {
            try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getErrorStream(),
                    java.nio.charset.StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (!isUnshareReraiseNoise(line)) {
                        to.println(line);
                    }
                }
            } catch (java.io.IOException e) {
                // the worker's pipe closed with the worker: nothing more to pass on
            }
        }, "torture-worker-stderr");
        t.setDaemon(true);
        t.start();
        return t;
    }

    static boolean isUnshareReraiseNoise(String line) {
        return line.startsWith("unshare: sigprocmask unblock failed");
    }

    /** A dynamic class-data archive takes only jars on the class path (the shmkit jar does; a test run's class directories do not). */
    static boolean archivable(String cp) {
        return java.util.Arrays.stream(cp.split(java.io.File.pathSeparator)).allMatch(e -> e.endsWith(".jar")
                && java.nio.file.Files.isRegularFile(java.nio.file.Path.of(e)));
    }

    /** Runs one worker in slot 0 for {@code ops} operations to completion (it writes the class archive). */
    void warmUp(String name, long seed, long ops) throws java.io.IOException, InterruptedException {
        Process p = start(name, 0, seed, false, ops);
        var text = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                return e.toString();
            }
        });
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            kill(p);
            String said = text.getNow("");
            throw new IllegalStateException("torture warm-up worker did not finish " + ops + " operations within 120 s"
                    + (p.isAlive() ? "" : " (exit status " + p.exitValue() + ")") + (said.isEmpty() ? "" : ": " + said));
        }
        synchronized (live) {
            live.remove(p);
        }
    }

    /**
     * SIGKILLs the worker JVM itself and waits until it has exited: a JVM still exiting keeps
     * its kernel-held owner tokens, and a check made then would rightly find the owner alive.
     * Inside a namespace the JVM is killed first and {@code unshare}, its parent, reaps it and
     * exits (waiting for it from here would wait for the host's init to reap an orphan).
     */
    void kill(Process p) throws InterruptedException {
        List<ProcessHandle> all = new ArrayList<>(p.descendants().toList());
        all.forEach(ProcessHandle::destroyForcibly);
        if (all.isEmpty() || !p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        for (ProcessHandle d : p.descendants().toList()) {
            d.destroyForcibly();
            all.add(d);
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (ProcessHandle d : all) {
            while (!exited(d.pid()) && System.nanoTime() < until) {
                Thread.sleep(1);
            }
            if (!exited(d.pid())) {
                out.println("torture: worker process " + d.pid() + " still running 30 s after SIGKILL");
            }
        }
        synchronized (live) {
            live.remove(p);
        }
    }

    /** Gone, or a zombie (it has closed every file, so its kernel-held tokens are released). */
    private static boolean exited(long pid) {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state == 'Z' || state == 'X';
        } catch (java.io.IOException | RuntimeException gone) {
            return true;
        }
    }

    void killAll() {
        List<Process> all;
        synchronized (live) {
            all = new ArrayList<>(live);
        }
        for (Process p : all) {
            try {
                kill(p);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Whether odd workers can run in fresh pid namespaces ({@code off}, {@code on}: required, {@code auto}). */
    boolean namespacesUsable(String namespaces) {
        if (namespaces.equals("off")) {
            return false;
        }
        boolean ok;
        try {
            Process p = new ProcessBuilder("unshare", "-p", "-f", "--mount-proc", "--kill-child", "true")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            ok = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (java.io.IOException | InterruptedException e) {
            ok = false;
        }
        if (!ok) {
            if (namespaces.equals("on")) {
                throw new IllegalStateException("--namespaces on: 'unshare -p -f --mount-proc' is refused here");
            }
            out.println("torture: pid namespaces unavailable ('unshare -p -f --mount-proc' refused): all workers in the host namespace");
        }
        return ok;
    }
}
