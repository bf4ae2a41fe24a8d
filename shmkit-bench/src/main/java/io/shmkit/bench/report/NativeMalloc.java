package io.shmkit.bench.report;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The native floor: compiles {@code shmkit-bench/src/main/c/malloc_bench.c} with the machine's C
 * compiler ({@code cc}, {@code gcc} or {@code clang}, whichever answers first) and runs it.
 * Results are named {@code NativeMalloc.<name>} (see the C file for the names).
 */
final class NativeMalloc {

    static final String SOURCE = "shmkit-bench/src/main/c/malloc_bench.c";

    private NativeMalloc() {
    }

    /** The first C compiler found, as {@code name (first line of --version)}, or null. */
    static String[] compiler(Path root) {
        for (String cc : List.of("cc", "gcc", "clang")) {
            String v = Machine.command(root, List.of(cc, "--version"));
            if (v != null) {
                return new String[] {cc, v.lines().findFirst().orElse(cc)};
            }
        }
        return null;
    }

    /**
     * Compiles and runs the program.
     *
     * @param timing warm-up ms, iteration ms, iterations
     * @throws IOException if compiling or running fails (the caller reports it as skipped)
     */
    static List<Result> run(Path root, String cc, Path workDir, long[] timing, PrintStream log) throws IOException, InterruptedException {
        Path src = root.resolve(SOURCE);
        if (!Files.isRegularFile(src)) {
            throw new IOException("no C source at " + src);
        }
        Files.createDirectories(workDir);
        Path exe = workDir.resolve("malloc_bench");
        List<String> compile = List.of(cc, "-O2", "-fno-builtin-malloc", "-fno-builtin-free", "-o", exe.toString(), src.toString(), "-pthread");
        Process c = new ProcessBuilder(compile).redirectErrorStream(true).start();
        String out = new String(c.getInputStream().readAllBytes());
        if (c.waitFor() != 0) {
            throw new IOException(String.join(" ", compile) + " failed: " + out.strip());
        }
        log.println("bench: " + String.join(" ", compile));
        Process p = new ProcessBuilder(exe.toString(), Long.toString(timing[0]), Long.toString(timing[1]), Long.toString(timing[2]))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<Result> results = new ArrayList<>();
        for (String line : new String(p.getInputStream().readAllBytes()).split("\n")) {
            if (line.startsWith("RESULT ")) {
                String[] f = line.split(" ");
                double[] s = new double[f.length - 2];
                for (int i = 2; i < f.length; i++) {
                    s[i - 2] = Double.parseDouble(f[i]);
                }
                results.add(Result.ofSamples("NativeMalloc." + f[1], "native C (" + cc + " -O2)", "ops/us", s));
                log.println("bench: NativeMalloc." + f[1] + " " + Report.fmt(results.getLast().score()) + " ops/us");
            }
        }
        if (p.waitFor() != 0 || results.isEmpty()) {
            throw new IOException("malloc_bench exited with " + p.exitValue() + " and " + results.size() + " results");
        }
        return results;
    }
}
