package io.shmkit.bench.report;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The native floors: C programs under {@code shmkit-bench/src/main/c/}, compiled with the
 * machine's C compiler ({@code cc}, {@code gcc} or {@code clang}, whichever answers first) and
 * run. Each takes {@code WARMUP_MS ITERATION_MS ITERATIONS} and prints
 * {@code RESULT <name> <ops/us per iteration>...}; results are named {@code <prefix>.<name>}
 * (see each C file for its names).
 */
final class NativeReference {

    /** The programs. */
    enum Program {
        /** glibc malloc + free, the allocators' floor. */
        MALLOC("NativeMalloc", "malloc_bench", List.of("-fno-builtin-malloc", "-fno-builtin-free")),
        /** A SharedTable get's memory walk, the table's floor. */
        TABLE("NativeTable", "table_floor", List.of());

        final String prefix;
        final String exe;
        final List<String> flags;

        Program(String prefix, String exe, List<String> flags) {
            this.prefix = prefix;
            this.exe = exe;
            this.flags = flags;
        }

        String source() {
            return "shmkit-bench/src/main/c/" + exe + ".c";
        }
    }

    private NativeReference() {
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
     * Compiles and runs one program.
     *
     * @param timing warm-up ms, iteration ms, iterations
     * @throws IOException if compiling or running fails (the caller reports it as skipped)
     */
    static List<Result> run(Program program, Path root, String cc, Path workDir, long[] timing, PrintStream log)
            throws IOException, InterruptedException {
        Path src = root.resolve(program.source());
        if (!Files.isRegularFile(src)) {
            throw new IOException("no C source at " + src);
        }
        Files.createDirectories(workDir);
        Path exe = workDir.resolve(program.exe);
        List<String> compile = new ArrayList<>(List.of(cc, "-O2"));
        compile.addAll(program.flags);
        compile.addAll(List.of("-o", exe.toString(), src.toString(), "-pthread"));
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
                results.add(Result.ofSamples(program.prefix + "." + f[1], "native C (" + cc + " -O2)", "ops/us", s));
                log.println("bench: " + program.prefix + "." + f[1] + " " + Report.fmt(results.getLast().score()) + " ops/us");
            }
        }
        if (p.waitFor() != 0 || results.isEmpty()) {
            throw new IOException(program.exe + " exited with " + p.exitValue() + " and " + results.size() + " results");
        }
        return results;
    }
}
