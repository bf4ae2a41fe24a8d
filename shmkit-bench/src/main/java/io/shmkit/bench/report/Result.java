package io.shmkit.bench.report;

import org.openjdk.jmh.util.ListStatistics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One measured figure: a JMH benchmark (with its parameters) or a figure of a non-JMH program.
 *
 * @param name    {@code Class.method}, parameters appended as {@code [k=v,...]}
 *                (e.g. {@code AllocatorBenchmark.slabMixed[sizes=8-1032]})
 * @param source  {@code jmh} or the program that produced it
 * @param unit    e.g. {@code ops/us}, {@code ns/op}, {@code ms}
 * @param score   the mean (or, for a latency distribution, the median)
 * @param low     lower end of the 99.9% confidence interval (NaN if unknown)
 * @param high    upper end of the 99.9% confidence interval (NaN if unknown)
 * @param samples the per-iteration (or per-round) figures
 */
record Result(String name, String source, String unit, double score, double low, double high, double[] samples) {

    static final double CONFIDENCE = 0.999;
    private static final String PACKAGE = "io.shmkit.bench.";

    /** Half the width of the confidence interval (NaN if unknown). */
    double error() {
        return (high - low) / 2;
    }

    /** Whether a higher score is better (throughput) rather than a lower one (time per operation, latency). */
    boolean higherIsBetter() {
        return unit.startsWith("ops/");
    }

    /** Mean and JMH's 99.9% error of {@code samples}. */
    static Result ofSamples(String name, String source, String unit, double[] samples) {
        ListStatistics st = new ListStatistics(samples);
        double mean = st.getMean();
        double err = samples.length > 1 ? st.getMeanErrorAt(CONFIDENCE) : Double.NaN;
        return new Result(name, source, unit, mean, mean - err, mean + err, samples.clone());
    }

    /**
     * The median of {@code samples} with a distribution-free 99.9% confidence interval from
     * order statistics (ranks n/2 ± 3.29·√n/2).
     */
    static Result median(String name, String source, String unit, double[] samples) {
        double[] s = samples.clone();
        java.util.Arrays.sort(s);
        int n = s.length;
        double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        double half = 3.29 * Math.sqrt(n) / 2;
        int lo = (int) Math.floor(n / 2.0 - half);
        int hi = (int) Math.ceil(n / 2.0 + half) - 1;
        double low = lo >= 0 ? s[lo] : Double.NaN;
        double high = hi < n ? s[hi] : Double.NaN;
        return new Result(name, source, unit, median, low, high, s);
    }

    /** The name a JMH result is reported under. */
    static String jmhName(String benchmark, Map<String, Object> params) {
        String n = benchmark.startsWith(PACKAGE) ? benchmark.substring(PACKAGE.length()) : benchmark;
        if (params.isEmpty()) {
            return n;
        }
        StringBuilder b = new StringBuilder(n).append('[');
        new TreeMap<>(params).forEach((k, v) -> b.append(b.charAt(b.length() - 1) == '[' ? "" : ",").append(k).append('=').append(v));
        return b.append(']').toString();
    }

    /** The results in a JMH JSON result file (its parsed array). */
    static List<Result> fromJmh(List<Object> runs) {
        List<Result> out = new ArrayList<>();
        for (Object o : runs) {
            Map<String, Object> r = Json.map(o);
            Map<String, Object> m = Json.map(r.get("primaryMetric"));
            List<Double> samples = new ArrayList<>();
            for (Object fork : Json.list(m.get("rawData"))) {
                for (Object v : Json.list(fork)) {
                    samples.add(Json.num(v));
                }
            }
            double score = Json.num(m.get("score"));
            double err = Json.num(m.get("scoreError"));
            out.add(new Result(jmhName(Json.str(r.get("benchmark")), Json.map(r.get("params"))), "jmh",
                    Json.str(m.get("scoreUnit")), score, score - err, score + err,
                    samples.stream().mapToDouble(Double::doubleValue).toArray()));
        }
        return out;
    }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("source", source);
        m.put("unit", unit);
        m.put("score", score);
        m.put("low", low);
        m.put("high", high);
        List<Object> s = new ArrayList<>();
        for (double v : samples) {
            s.add(v);
        }
        m.put("samples", s);
        return m;
    }

    static Result fromJson(Map<String, Object> m) {
        return new Result(Json.str(m.get("name")), Json.str(m.get("source")), Json.str(m.get("unit")),
                Json.num(m.get("score")), Json.num(m.get("low")), Json.num(m.get("high")),
                Json.list(m.get("samples")).stream().mapToDouble(Json::num).toArray());
    }
}
