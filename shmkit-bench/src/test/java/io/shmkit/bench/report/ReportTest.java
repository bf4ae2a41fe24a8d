package io.shmkit.bench.report;

import io.shmkit.bench.report.Area.Limit;
import io.shmkit.bench.report.Area.Ratio;
import io.shmkit.bench.report.Area.Target;
import io.shmkit.bench.report.Evaluation.Verdict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ReportTest {

    private static Result thrpt(String name, double score, double err) {
        return new Result(name, "jmh", "ops/us", score, score - err, score + err, new double[] {score});
    }

    private static Result time(String name, double score, double err) {
        return new Result(name, "jmh", "ns/op", score, score - err, score + err, new double[] {score});
    }

    private static Ratio ratio(double target) {
        return new Ratio("mine", "A.mine", "peer", "A.peer", new Target(target, "t", "test"));
    }

    @Test
    void propagatesBothErrorsIntoTheRatio() {
        Evaluation e = Evaluation.ratio(ratio(1.0), thrpt("A.mine", 200, 20), thrpt("A.peer", 100, 5));
        assertThat(e.value()).isEqualTo(2.0);
        // 2 * sqrt(0.1^2 + 0.05^2)
        assertThat((e.high() - e.low()) / 2).isCloseTo(2 * Math.hypot(0.1, 0.05), within(1e-12));
    }

    @Test
    void timeRatiosAreInvertedSoAboveOneMeansShmkitIsFaster() {
        Evaluation e = Evaluation.ratio(ratio(1.0), time("A.mine", 10, 0.1), time("A.peer", 20, 0.1));
        assertThat(e.value()).isEqualTo(2.0);
        assertThat(e.verdict()).isEqualTo(Verdict.MET);
    }

    @Test
    void verdictIsUndecidedWhenTheBandStraddlesTheTarget() {
        assertThat(Evaluation.ratio(ratio(1.0), thrpt("A.mine", 105, 10), thrpt("A.peer", 100, 1)).verdict()).isEqualTo(Verdict.UNDECIDED);
        assertThat(Evaluation.ratio(ratio(1.0), thrpt("A.mine", 150, 10), thrpt("A.peer", 100, 1)).verdict()).isEqualTo(Verdict.MET);
        assertThat(Evaluation.ratio(ratio(1.0), thrpt("A.mine", 50, 10), thrpt("A.peer", 100, 1)).verdict()).isEqualTo(Verdict.NOT_MET);
        Result noError = new Result("A.mine", "jmh", "ops/us", 150, Double.NaN, Double.NaN, new double[] {150});
        assertThat(Evaluation.ratio(ratio(1.0), noError, thrpt("A.peer", 100, 1)).verdict()).isEqualTo(Verdict.UNDECIDED);
        assertThat(Evaluation.ratio(ratio(1.0), null, thrpt("A.peer", 100, 1)).verdict()).isEqualTo(Verdict.NOT_RUN);
    }

    @Test
    void limitRowsMustStayBelowTheirMaximum() {
        Limit l = new Limit("latency", "X.median", 10, "ms", "test");
        assertThat(Evaluation.limit(l, new Result("X.median", "p", "ms", 5, 4, 6, new double[0])).verdict()).isEqualTo(Verdict.MET);
        assertThat(Evaluation.limit(l, new Result("X.median", "p", "ms", 9, 8, 11, new double[0])).verdict()).isEqualTo(Verdict.UNDECIDED);
        assertThat(Evaluation.limit(l, new Result("X.median", "p", "ms", 12, 10, 14, new double[0])).verdict()).isEqualTo(Verdict.NOT_MET);
    }

    @Test
    void medianIntervalComesFromOrderStatistics() {
        double[] v = new double[31];
        for (int i = 0; i < v.length; i++) {
            v[i] = 31 - i; // unsorted on purpose
        }
        Result r = Result.median("X.median", "p", "ms", v);
        assertThat(r.score()).isEqualTo(16);
        assertThat(r.low()).isLessThan(16).isGreaterThanOrEqualTo(1);
        assertThat(r.high()).isGreaterThan(16).isLessThanOrEqualTo(31);
        assertThat(Result.median("X.median", "p", "ms", new double[] {3, 1}).low()).isNaN();
    }

    @Test
    void aMeanOfSamplesCarriesJmhsError() {
        Result r = Result.ofSamples("N.x", "c", "ops/us", new double[] {10, 12, 11, 13});
        assertThat(r.score()).isEqualTo(11.5);
        assertThat(r.error()).isPositive();
        assertThat(Result.ofSamples("N.x", "c", "ops/us", new double[] {10}).error()).isNaN();
    }

    @Test
    void jmhNamesCarryTheirParameters() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("sizes", "8-1032");
        p.put("a", "1");
        assertThat(Result.jmhName("io.shmkit.bench.AllocatorBenchmark.slabMixed", p)).isEqualTo("AllocatorBenchmark.slabMixed[a=1,sizes=8-1032]");
        assertThat(Result.jmhName("org.other.B.m", Map.of())).isEqualTo("org.other.B.m");
    }

    @Test
    void readsJmhJson() {
        String json = """
                [ { "benchmark" : "io.shmkit.bench.X.m", "mode" : "thrpt", "params" : { "sizes" : "8-2048" },
                    "primaryMetric" : { "score" : 10.5, "scoreError" : "NaN", "scoreUnit" : "ops/us",
                                        "rawData" : [ [ 10.0, 11.0 ] ] } } ]
                """;
        List<Result> rs = Result.fromJmh(Json.list(Json.parse(json)));
        assertThat(rs).singleElement().satisfies(r -> {
            assertThat(r.name()).isEqualTo("X.m[sizes=8-2048]");
            assertThat(r.score()).isEqualTo(10.5);
            assertThat(r.error()).isNaN();
            assertThat(r.samples()).containsExactly(10.0, 11.0);
        });
    }

    @Test
    void jsonRoundTrips() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "a \"quoted\" \\ line\n");
        m.put("n", 1.5);
        m.put("i", 3.0);
        m.put("nan", Double.NaN);
        m.put("l", List.of(1.0, "x"));
        m.put("nested", List.of(Map.of("k", true)));
        m.put("null", null);
        Map<String, Object> back = Json.map(Json.parse(Json.write(m)));
        assertThat(back.get("s")).isEqualTo(m.get("s"));
        assertThat(back.get("n")).isEqualTo(1.5);
        assertThat(back.get("i")).isEqualTo(3.0);
        assertThat(Json.num(back.get("nan"))).isNaN();
        assertThat(back.get("l")).isEqualTo(List.of(1.0, "x"));
        assertThat(back.get("nested")).isEqualTo(List.of(Map.of("k", true)));
        assertThat(back).containsKey("null");
        assertThatThrownBy(() -> Json.parse("{\"a\": 1} x")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("offset=");
    }

    @Test
    void unmappedBenchmarksLandInOtherBenchmarksAndTheHandWrittenSectionIsKept(@TempDir Path dir) throws Exception {
        List<Result> results = new ArrayList<>(List.of(
                thrpt("AllocatorBenchmark.fixedPool64ThreadCached", 170, 10), thrpt("AllocatorBenchmark.mallocFfm64", 130, 5),
                thrpt("table.SharedTableBenchmark.get", 42, 1)));
        Report.Run run = new Report.Run(meta(), results, List.of(), List.of(), List.of());
        Files.writeString(dir.resolve(Report.PAGE), "old page\n" + Report.BEGIN + "\nkeep *this* prose\n" + Report.END + "\nrest",
                StandardCharsets.UTF_8);

        Report.write(dir, run, Areas.ALL);

        String page = Files.readString(dir.resolve(Report.PAGE), StandardCharsets.UTF_8);
        assertThat(page).doesNotContain("old page");
        assertThat(page).contains("keep *this* prose");
        assertThat(page).contains("| `table.SharedTableBenchmark.get` | 42.0 | ± 1.00 | ops/us |");
        assertThat(page).doesNotContain("| `AllocatorBenchmark.mallocFfm64` |"); // mapped: not in "other benchmarks"
        assertThat(page).contains("Load average");
        assertThat(Report.handWritten(page)).isEqualTo("keep *this* prose");
        String svg = Files.readString(dir.resolve("bench-fixedpool.svg"), StandardCharsets.UTF_8);
        assertThat(svg).startsWith("<svg").contains("target").contains("not run");
    }

    @Test
    void missedTargetsAreListedForProfiling() {
        List<Result> results = List.of(thrpt("AllocatorBenchmark.fixedPool64ThreadCached", 50, 1), thrpt("AllocatorBenchmark.mallocFfm64", 100, 1));
        assertThat(Report.missed(Report.evaluate(Areas.ALL, results))).containsExactly("AllocatorBenchmark.fixedPool64ThreadCached");
    }

    @Test
    void aMissedTargetSaysWhatWouldCloseIt() {
        List<Result> results = List.of(thrpt("AllocatorBenchmark.fixedPool64ThreadCached", 50, 1), thrpt("AllocatorBenchmark.mallocFfm64", 100, 1));
        Report.Run run = new Report.Run(meta(), results, List.of(), List.of(), List.of());
        String page = Report.markdown(run, Report.evaluate(Areas.ALL, results), null);
        assertThat(page).contains("### `AllocatorBenchmark.fixedPool64ThreadCached`")
                .contains("What would close it: " + Areas.IF_MISSED.get("AllocatorBenchmark.fixedPool64ThreadCached"))
                .contains("**not met**");
    }

    @Test
    void nativeRunsBeforeAndAfterArePooled() {
        Result a = Result.ofSamples("NativeMalloc.x", "c", "ops/us", new double[] {10, 11});
        Result b = Result.ofSamples("NativeMalloc.x", "c", "ops/us", new double[] {20, 21});
        Result only = Result.ofSamples("NativeMalloc.y", "c", "ops/us", new double[] {5, 6});
        List<Result> pooled = Bench.pool(List.of(a, only), List.of(b));
        assertThat(pooled).hasSize(2);
        assertThat(pooled.getFirst().samples()).containsExactly(10, 11, 20, 21);
        assertThat(pooled.getFirst().score()).isEqualTo(15.5);
        assertThat(pooled.get(1)).isSameAs(only);
    }

    @Test
    void everyRemedyNamesAFigureOfSomeRow() {
        List<String> figures = new ArrayList<>();
        for (Area a : Areas.ALL) {
            for (Area.Row r : a.rows()) {
                figures.add(r instanceof Ratio x ? x.shmkit() : ((Limit) r).benchmark());
            }
        }
        assertThat(figures).containsAll(Areas.IF_MISSED.keySet());
    }

    @Test
    void areasKeepOnePlotAxis() {
        assertThatThrownBy(() -> new Area("x", "X", "", List.of(ratio(1), new Limit("l", "b", 1, "ms", "s"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("mixes");
    }

    private static Map<String, Object> meta() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", "test");
        m.put("date", "today");
        m.put("commit", "abc");
        m.put("duration", "0 s");
        m.put("loadAverage", Map.of("start", "0.10", "end", "0.20", "max", "0.30"));
        m.put("machine", Map.of("cores", 2.0, "cpu", "test cpu"));
        return m;
    }
}
