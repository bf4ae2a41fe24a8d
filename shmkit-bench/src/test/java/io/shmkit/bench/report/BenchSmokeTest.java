package io.shmkit.bench.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CI smoke run: every JMH benchmark for one 50 ms iteration in this JVM, the non-JMH programs
 * in their tiny mode, the native references if a C compiler is here, then the report. Fails when
 * a benchmark stops compiling or throws; asserts no figure.
 */
class BenchSmokeTest {

    @Test
    void everyBenchmarkAndProgramRunsAndTheReportIsWritten(@TempDir Path out) throws Exception {
        Path root = Path.of("").toAbsolutePath().getParent(); // surefire runs in shmkit-bench/
        Report.Run run = new Bench(Bench.SMOKE, null, root, out, false, System.out).run("smoke test");

        Set<String> expected = new TreeSet<>();
        for (BenchmarkListEntry e : BenchmarkList.defaultList().find(
                OutputFormatFactory.createFormatInstance(System.out, VerboseMode.SILENT), List.of(".*"), List.of())) {
            expected.add(e.getUsername().substring("io.shmkit.bench.".length()));
        }
        Set<String> measured = new TreeSet<>();
        for (Result r : run.results()) {
            measured.add(r.name().replaceAll("\\[.*]$", ""));
        }
        assertThat(measured).containsAll(expected);
        assertThat(measured).contains("OwnerDiedLatency.median",
                "AllocatorProcessThroughput.fixedPool64", "AllocatorProcessThroughput.slabMixedThreadCached");
        // the only acceptable skip is a machine without a C compiler
        assertThat(run.skipped()).allSatisfy(s -> assertThat(s.toString()).contains("no C compiler"));
        if (run.skipped().isEmpty()) {
            assertThat(measured).contains("NativeMalloc.malloc64", "NativeMalloc.mallocMixed",
                    "NativeTable.floorBucketThenRow", "NativeTable.floorRowInBucket", "NativeTable.floorBucketThenRow_2t");
        }

        String page = Files.readString(out.resolve(Report.PAGE), StandardCharsets.UTF_8);
        for (Area a : Areas.ALL) {
            assertThat(page).contains("## " + a.title());
            assertThat(out.resolve(Report.plotName(a))).isNotEmptyFile();
        }
        // the page can be regenerated from the JSON alone
        Report.Run again = Report.Run.fromJson(Json.map(Json.parse(Files.readString(out.resolve(Report.RESULTS), StandardCharsets.UTF_8))));
        assertThat(again.results()).hasSameSizeAs(run.results());
    }
}
