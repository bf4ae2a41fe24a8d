package io.shmkit.bench.report;

import java.util.List;

/**
 * One capability of the report: a title, a sentence saying what is compared, and its rows. The
 * areas themselves are listed in {@link Areas}.
 */
record Area(String id, String title, String intro, List<Row> rows) {

    Area {
        boolean limits = rows.stream().allMatch(r -> r instanceof Limit);
        boolean ratios = rows.stream().allMatch(r -> r instanceof Ratio);
        if (!limits && !ratios) {
            throw new IllegalArgumentException("area " + id + " mixes ratio and limit rows: one plot axis per area");
        }
    }

    /** A row of an area's table. */
    sealed interface Row permits Ratio, Limit {
        String label();
    }

    /**
     * shmkit against a peer, as "how many times better shmkit is": shmkit/peer for throughput,
     * peer/shmkit for time per operation. {@code target} null: shown without a verdict.
     */
    record Ratio(String label, String shmkit, String peerLabel, String peer, Target target) implements Row {
    }

    /** A figure that must stay below {@code max} {@code unit} (the result's own unit). */
    record Limit(String label, String benchmark, double max, String unit, String source) implements Row {
    }

    /** The ratio must be at least {@code min}; {@code text} says it as the issue does, {@code source} where it comes from. */
    record Target(double min, String text, String source) {
    }
}
