package io.shmkit.bench.report;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.shmkit.bench.AllocatorProcessThroughput;
import io.shmkit.bench.OwnerDiedLatency;
import io.shmkit.sync.ShmCondition;
import io.shmkit.sync.ShmMutex;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ./shmkit bench}: runs the JMH suite and the non-JMH programs, then writes
 * {@code docs/BENCHMARKS.md}, one SVG per area and {@code docs/bench-results.json}.
 *
 * <pre>
 * Bench [--quick | --full | --smoke] [--filter REGEX] [--out DIR] [--root DIR] [--no-profile] [--report-only]
 * </pre>
 * {@code --quick} (the default) takes about 10 minutes on 2 cores, {@code --full} about three
 * times as long; {@code --smoke} runs every benchmark for a fraction of a second in this JVM
 * (the CI check that each still runs; its figures mean nothing). With {@code --filter} only the
 * matching benchmarks and programs run, and the report goes to
 * {@code shmkit-bench/target/bench-report/} unless {@code --out} says otherwise.
 * {@code --report-only} regenerates the page and plots from the JSON already in the output
 * directory.
 */
public final class Bench {

    /** How long everything runs. */
    record Mode(String name, int forks, int warmups, long warmupMs, int iterations, long iterationMs,
                int ownerDiedRounds, AllocatorProcessThroughput.Timing processes, long[] nativeTiming, int profiles) {
    }

    static final Mode QUICK = new Mode("quick", 1, 3, 300, 10, 400, 31,
            new AllocatorProcessThroughput.Timing(500, 250, 6), new long[] {300, 300, 8}, 4);
    static final Mode FULL = new Mode("full", 2, 3, 1000, 5, 1000, 41,
            new AllocatorProcessThroughput.Timing(1500, 500, 8), new long[] {1000, 1000, 10}, 8);
    static final Mode SMOKE = new Mode("smoke", 0, 0, 0, 1, 50, 2,
            new AllocatorProcessThroughput.Timing(20, 30, 2), new long[] {20, 20, 2}, 0);

    private final Mode mode;
    private final String filter;
    private final Path root;
    private final Path out;
    private final boolean profile;
    private final PrintStream log;
    private final List<Object> skipped = new ArrayList<>();

    Bench(Mode mode, String filter, Path root, Path out, boolean profile, PrintStream log) {
        this.mode = mode;
        this.filter = filter;
        this.root = root;
        this.out = out;
        this.profile = profile;
        this.log = log;
    }

    public static void main(String[] args) throws Exception {
        Mode mode = QUICK;
        String filter = null;
        Path root = Path.of(".");
        Path out = null;
        boolean profile = true;
        boolean reportOnly = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> mode = QUICK;
                case "--full" -> mode = FULL;
                case "--smoke" -> mode = SMOKE;
                case "--filter" -> filter = value(args, ++i);
                case "--out" -> out = Path.of(value(args, ++i));
                case "--root" -> root = Path.of(value(args, ++i));
                case "--no-profile" -> profile = false;
                case "--report-only" -> reportOnly = true;
                case "-h", "--help" -> {
                    System.out.println("usage: ./shmkit bench [--quick | --full | --smoke] [--filter REGEX] [--out DIR] [--no-profile] [--report-only]");
                    return;
                }
                default -> {
                    System.err.println("shmkit bench: unknown option " + args[i] + " (try --help)");
                    System.exit(2);
                }
            }
        }
        if (out == null) {
            out = filter == null ? root.resolve("docs") : root.resolve("shmkit-bench/target/bench-report");
        }
        if (reportOnly) {
            Path json = out.resolve(Report.RESULTS);
            Report.Run run = Report.Run.fromJson(Json.map(Json.parse(Files.readString(json, StandardCharsets.UTF_8))));
            Report.write(out, run, Areas.ALL);
            System.out.println("bench: wrote " + out.resolve(Report.PAGE) + " from " + json);
            return;
        }
        StringBuilder cmd = new StringBuilder("./shmkit bench --").append(mode.name());
        if (filter != null) {
            cmd.append(" --filter '").append(filter).append('\'');
        }
        Report.Run run = new Bench(mode, filter, root, out, profile, System.out).run(cmd.toString());
        summary(run, System.out);
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            System.err.println("shmkit bench: " + args[i - 1] + " needs a value");
            System.exit(2);
        }
        return args[i];
    }

    /** Runs everything, writes the JSON, the page and the plots into {@code out}, and returns the run. */
    Report.Run run(String command) throws Exception {
        Instant start = Instant.now();
        double loadStart = Machine.loadAverage();
        AtomicReference<Double> loadMax = new AtomicReference<>(loadStart);
        Thread sampler = Thread.ofPlatform().daemon().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                double l = Machine.loadAverage();
                loadMax.accumulateAndGet(l, (a, b) -> Double.isNaN(a) ? b : Double.isNaN(b) ? a : Math.max(a, b));
                try {
                    Thread.sleep(5000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        Files.createDirectories(out);
        Path work = Files.createTempDirectory("shmkit-bench-");
        List<Result> results = new ArrayList<>();
        String[] cc = NativeReference.compiler(root);
        // each native reference runs before and after the JMH suite, and its figures pool both
        // runs: on a machine whose load changes, they then span the conditions the JMH peers saw
        Map<NativeReference.Program, List<Result>> nativeBefore = new EnumMap<>(NativeReference.Program.class);
        for (NativeReference.Program p : NativeReference.Program.values()) {
            if (selected(p.prefix)) {
                nativeBefore.put(p, nativeReference(p, cc, work));
            }
        }
        Object jmhRaw = runJmh(work, results);
        nativeBefore.forEach((p, before) -> {
            if (!before.isEmpty()) {
                results.addAll(pool(before, nativeReference(p, cc, work)));
            }
        });
        if (selected("AllocatorProcessThroughput")) {
            log.println("bench: AllocatorProcessThroughput (1 and 2 processes)");
            try {
                AllocatorProcessThroughput.measure(mode.processes(), log).forEach((name, windows) ->
                        results.add(Result.ofSamples("AllocatorProcessThroughput." + name, "AllocatorProcessThroughput", "ops/us", windows)));
            } catch (Exception e) {
                skip("AllocatorProcessThroughput failed: " + e);
            }
        }
        if (selected("OwnerDiedLatency")) {
            log.println("bench: OwnerDiedLatency, " + mode.ownerDiedRounds() + " rounds");
            try {
                double[] ms = OwnerDiedLatency.measure(mode.ownerDiedRounds(), log);
                results.add(Result.median("OwnerDiedLatency.median", "OwnerDiedLatency", "ms", ms));
            } catch (Exception e) {
                skip("OwnerDiedLatency failed: " + e);
            }
        }
        List<Object> profiles = new ArrayList<>();
        if (profile && mode.profiles() > 0) {
            waitForJmhLock();
            profile(Report.missed(Report.evaluate(Areas.ALL, results)), results, work, profiles);
        }
        sampler.interrupt();
        Instant end = Instant.now();
        double loadEnd = Machine.loadAverage();
        Map<String, Object> meta = meta(command, start, end, loadStart, loadEnd, Math.max(loadMax.get(), loadEnd), cc);
        Report.Run run = new Report.Run(meta, results, profiles, skipped, jmhRaw);
        Files.writeString(out.resolve(Report.RESULTS), Json.write(run.toJson()), StandardCharsets.UTF_8);
        Report.write(out, run, Areas.ALL);
        log.println("bench: wrote " + out.resolve(Report.PAGE) + ", " + out.resolve(Report.RESULTS) + " and the plots");
        return run;
    }

    private boolean selected(String program) {
        return filter == null || Pattern.compile(filter).matcher(program).find();
    }

    private void skip(String why) {
        log.println("bench: " + why);
        skipped.add(why);
    }

    private ChainedOptionsBuilder options(Mode m) {
        ChainedOptionsBuilder o = new OptionsBuilder()
                .forks(m.forks())
                .warmupIterations(m.warmups())
                .measurementIterations(m.iterations())
                .measurementTime(TimeValue.milliseconds(m.iterationMs()))
                .jvmArgsPrepend("--enable-native-access=ALL-UNNAMED");
        if (m.warmups() > 0) {
            o.warmupTime(TimeValue.milliseconds(m.warmupMs()));
        }
        if (m == SMOKE) {
            o.shouldFailOnError(true).verbosity(VerboseMode.SILENT);
        }
        return o;
    }

    private Object runJmh(Path work, List<Result> results) throws IOException {
        String include = filter == null ? ".*" : filter;
        Set<String> expected = new HashSet<>();
        for (BenchmarkListEntry e : BenchmarkList.defaultList().find(
                OutputFormatFactory.createFormatInstance(log, VerboseMode.SILENT), List.of(include), List.of())) {
            expected.add(e.getUsername());
        }
        if (expected.isEmpty()) {
            log.println("bench: no JMH benchmark matches " + include);
            return List.of();
        }
        // A run without forks (the smoke run) cannot give a benchmark the JVM flags its @Fork
        // declares (Chronicle Map needs --add-opens/--add-exports): those run in one fork of their own.
        Set<String> ownFlags = new java.util.TreeSet<>();
        if (mode.forks() == 0) {
            for (BenchmarkListEntry e : BenchmarkList.defaultList().find(
                    OutputFormatFactory.createFormatInstance(log, VerboseMode.SILENT), List.of(include), List.of())) {
                if (e.getJvmArgsAppend().hasValue() && e.getJvmArgsAppend().get().stream()
                        .anyMatch(a -> a.startsWith("--add-opens") || a.startsWith("--add-exports"))) {
                    ownFlags.add(e.getUsername());
                }
            }
        }
        waitForJmhLock();
        List<Object> raw = new ArrayList<>();
        runJmhOnce(work.resolve("jmh.json"), options(mode).include(include), ownFlags, raw);
        if (!ownFlags.isEmpty()) {
            ChainedOptionsBuilder forked = options(mode).forks(1);
            ownFlags.forEach(n -> forked.include("^" + Pattern.quote(n) + "$"));
            runJmhOnce(work.resolve("jmh-forked.json"), forked, Set.of(), raw);
        }
        if (raw.isEmpty()) {
            skip("JMH wrote no results");
            return List.of();
        }
        results.addAll(Result.fromJmh(raw));
        for (Object o : raw) {
            expected.remove(Json.str(Json.map(o).get("benchmark")));
        }
        for (String missing : new java.util.TreeSet<>(expected)) {
            skip("JMH benchmark " + missing + " produced no result (it threw: see the run's output)");
        }
        return raw;
    }

    /** One JMH run of {@code o} without the benchmarks in {@code exclude}; appends its JSON results to {@code raw}. */
    private void runJmhOnce(Path json, ChainedOptionsBuilder o, Set<String> exclude, List<Object> raw) throws IOException {
        exclude.forEach(n -> o.exclude("^" + Pattern.quote(n) + "$"));
        try {
            new Runner(o.resultFormat(ResultFormatType.JSON).result(json.toString()).build()).run();
        } catch (RunnerException e) {
            if (mode == SMOKE) {
                throw new IllegalStateException("a benchmark failed: " + e.getMessage(), e);
            }
            skip("JMH stopped: " + e.getMessage());
        }
        if (Files.exists(json)) {
            raw.addAll(Json.list(Json.parse(Files.readString(json, StandardCharsets.UTF_8))));
        }
    }

    /**
     * JMH refuses to start while another JMH run holds {@code jmh.lock} in the temp directory
     * (two runs on one machine spoil each other's figures). Wait up to two minutes for it; then
     * go on regardless and say so in the report. The smoke run never waits: its figures mean
     * nothing.
     */
    private void waitForJmhLock() {
        if (mode == SMOKE) {
            System.setProperty("jmh.ignoreLock", "true");
            return;
        }
        Path lock = Path.of(System.getProperty("java.io.tmpdir"), "jmh.lock");
        long deadline = System.nanoTime() + 120_000_000_000L;
        boolean said = false;
        while (System.nanoTime() - deadline < 0) {
            try (FileChannel ch = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock l = ch.tryLock()) {
                if (l != null) {
                    return;
                }
            } catch (IOException | OverlappingFileLockException e) {
                break;
            }
            if (!said) {
                log.println("bench: another JMH run holds " + lock + "; waiting up to 2 minutes");
                said = true;
            }
            try {
                Thread.sleep(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        System.setProperty("jmh.ignoreLock", "true");
        skip("another JMH run held " + lock + " for more than 2 minutes: this run went on beside it (figures disturbed)");
    }

    private List<Result> nativeReference(NativeReference.Program program, String[] cc, Path work) {
        String what = "native reference " + program.exe;
        if (cc == null) {
            skip(what + " skipped: no C compiler (cc, gcc or clang) on this machine");
            return List.of();
        }
        try {
            return NativeReference.run(program, root, cc[0], work.resolve("native"), mode.nativeTiming(), log);
        } catch (IOException e) {
            skip(what + " skipped: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            skip(what + " interrupted");
        }
        return List.of();
    }

    /** One result per name with the samples of both runs (the first run's alone if the second failed). */
    static List<Result> pool(List<Result> first, List<Result> second) {
        Map<String, Result> later = Report.byName(second);
        List<Result> out = new ArrayList<>();
        for (Result a : first) {
            Result b = later.get(a.name());
            if (b == null) {
                out.add(a);
                continue;
            }
            double[] s = java.util.Arrays.copyOf(a.samples(), a.samples().length + b.samples().length);
            System.arraycopy(b.samples(), 0, s, a.samples().length, b.samples().length);
            out.add(Result.ofSamples(a.name(), a.source() + ", before and after the JMH suite", a.unit(), s));
        }
        return out;
    }

    private static final Pattern NAME = Pattern.compile("([^\\[]+)(?:\\[(.*)])?");

    /** Runs each missed JMH benchmark once more under JFR and summarises where its time goes. */
    private void profile(List<String> missed, List<Result> results, Path work, List<Object> profiles) {
        Map<String, Result> byName = Report.byName(results);
        int n = 0;
        for (String name : missed) {
            Result r = byName.get(name);
            if (r == null || !r.source().equals("jmh") || n++ >= mode.profiles()) {
                continue;
            }
            Matcher m = NAME.matcher(name);
            if (!m.matches()) {
                continue;
            }
            log.println("bench: profiling " + name + " (missed a target)");
            Path dir = work.resolve("jfr-" + n);
            ChainedOptionsBuilder o = new OptionsBuilder().forks(1).warmupIterations(2).warmupTime(TimeValue.milliseconds(300))
                    .measurementIterations(6).measurementTime(TimeValue.milliseconds(500))
                    .jvmArgsPrepend("--enable-native-access=ALL-UNNAMED")
                    .include("^" + Pattern.quote("io.shmkit.bench." + m.group(1)) + "$")
                    .addProfiler("jfr", "dir=" + dir);
            if (m.group(2) != null) {
                for (String kv : m.group(2).split(",")) {
                    String[] p = kv.split("=", 2);
                    o.param(p[0], p[1]);
                }
            }
            try {
                new Runner(o.build()).run();
                Path jfr = Profiles.find(dir);
                if (jfr == null) {
                    throw new IOException("JMH wrote no .jfr file under " + dir);
                }
                profiles.add(Profiles.summarise(name, jfr));
            } catch (RunnerException | IOException | RuntimeException e) {
                Map<String, Object> failed = new LinkedHashMap<>();
                failed.put("benchmark", name);
                failed.put("error", e.toString());
                profiles.add(failed);
            }
        }
    }

    private Map<String, Object> meta(String command, Instant start, Instant end, double loadStart, double loadEnd, double loadMax, String[] cc) {
        Map<String, Object> meta = new LinkedHashMap<>();
        DateTimeFormatter f = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm", Locale.ROOT).withZone(ZoneOffset.UTC);
        meta.put("command", command);
        meta.put("mode", mode.name());
        meta.put("date", f.format(start) + "–" + DateTimeFormatter.ofPattern("HH:mm", Locale.ROOT).withZone(ZoneOffset.UTC).format(end) + " UTC");
        Duration d = Duration.between(start, end);
        meta.put("duration", d.toMinutes() + " min " + d.toSecondsPart() + " s");
        String commit = Machine.command(root, List.of("git", "rev-parse", "--short", "HEAD"));
        String dirty = Machine.command(root, List.of("git", "status", "--porcelain", "--untracked-files=no"));
        meta.put("commit", commit == null ? "unknown" : commit + (dirty != null && !dirty.isEmpty() ? " (with uncommitted changes)" : ""));
        Map<String, Object> load = new LinkedHashMap<>();
        load.put("start", fmtLoad(loadStart));
        load.put("end", fmtLoad(loadEnd));
        load.put("max", fmtLoad(loadMax));
        meta.put("loadAverage", load);
        Map<String, Object> machine = Machine.describe();
        machine.put("cc", cc == null ? "none (native reference skipped)" : cc[0] + ": " + cc[1]);
        meta.put("machine", machine);
        meta.put("jmh", org.openjdk.jmh.util.Version.getPlainVersion() + "; forks " + mode.forks() + ", warmup " + mode.warmups() + " × " + mode.warmupMs() + " ms, measurement "
                + mode.iterations() + " × " + mode.iterationMs() + " ms per benchmark; errors at 99.9%");
        meta.put("netty", io.netty.util.Version.identify().getOrDefault("netty-buffer", null) == null ? "netty-buffer"
                : "netty-buffer " + io.netty.util.Version.identify().get("netty-buffer").artifactVersion()
                + "; default configuration: useCacheForAllThreads=" + PooledByteBufAllocator.defaultUseCacheForAllThreads()
                + ", leak detection " + ResourceLeakDetector.getLevel()
                + "; tuned: useCacheForAllThreads=true, -Dio.netty.leakDetection.level=disabled");
        meta.put("spin policy", "spin forks: ShmMutex spins " + ShmMutex.spinLimit() + ", ShmCondition awaitSpins " + ShmCondition.awaitSpinLimit()
                + " (the defaults; the ReentrantLock peer spins the same); park forks: -Dshmkit.sync.spins=0 -Dshmkit.sync.awaitSpins=0");
        return meta;
    }

    private static String fmtLoad(double l) {
        return Double.isNaN(l) ? "unknown" : String.format(Locale.ROOT, "%.2f", l);
    }

    static void summary(Report.Run run, PrintStream o) {
        for (Map.Entry<Area, List<Evaluation>> e : Report.evaluate(Areas.ALL, run.results()).entrySet()) {
            for (Evaluation x : e.getValue()) {
                if (x.hasTarget() && x.verdict() != Evaluation.Verdict.NOT_RUN) {
                    o.printf("bench: %-16s %-56s %-22s %-40s %s%n", e.getKey().id(), Svg.label(x), Report.valueText(x), x.targetText(), x.verdict().text.replace("*", ""));
                }
            }
        }
    }
}
