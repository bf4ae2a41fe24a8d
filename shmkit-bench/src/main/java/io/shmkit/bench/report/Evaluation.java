package io.shmkit.bench.report;

import io.shmkit.bench.report.Area.Limit;
import io.shmkit.bench.report.Area.Ratio;
import io.shmkit.bench.report.Area.Row;

import java.util.Map;

/**
 * A row of an area evaluated against one run's results.
 *
 * @param value   the ratio ("times better than the peer") or, for a {@link Limit}, the figure
 * @param low     value minus its error (errors of both scores propagated into a ratio)
 * @param high    value plus its error
 * @param verdict against the row's target
 */
record Evaluation(Row row, Result shmkit, Result peer, double value, double low, double high, Verdict verdict) {

    enum Verdict {
        MET("met"), NOT_MET("**not met**"), UNDECIDED("undecided"), NO_TARGET(""), NOT_RUN("not run");

        final String text;

        Verdict(String text) {
            this.text = text;
        }
    }

    /** Whether the row has a target to meet. */
    boolean hasTarget() {
        return !(row instanceof Ratio r) || r.target() != null;
    }

    static Evaluation of(Row row, Map<String, Result> results) {
        return switch (row) {
            case Ratio r -> ratio(r, results.get(r.shmkit()), results.get(r.peer()));
            case Limit l -> limit(l, results.get(l.benchmark()));
        };
    }

    /**
     * The ratio with its error: for r = a/b, σr = r·√((σa/a)² + (σb/b)²), σ being each score's
     * 99.9% error. Met when r - σr reaches the target, not met when r + σr stays below it,
     * undecided when the band straddles it (or no error is known).
     */
    static Evaluation ratio(Ratio row, Result shm, Result peer) {
        if (shm == null || peer == null) {
            return new Evaluation(row, shm, peer, Double.NaN, Double.NaN, Double.NaN, Verdict.NOT_RUN);
        }
        double r = shm.higherIsBetter() ? shm.score() / peer.score() : peer.score() / shm.score();
        double rel = Math.hypot(shm.error() / shm.score(), peer.error() / peer.score());
        double e = r * rel;
        Verdict v;
        if (row.target() == null) {
            v = Verdict.NO_TARGET;
        } else {
            v = decide(r - e, r + e, row.target().min(), true);
        }
        return new Evaluation(row, shm, peer, r, r - e, r + e, v);
    }

    static Evaluation limit(Limit row, Result res) {
        if (res == null) {
            return new Evaluation(row, null, null, Double.NaN, Double.NaN, Double.NaN, Verdict.NOT_RUN);
        }
        return new Evaluation(row, res, null, res.score(), res.low(), res.high(), decide(res.low(), res.high(), row.max(), false));
    }

    /** {@code atLeast}: the value must reach {@code bound}; otherwise it must stay below it. */
    private static Verdict decide(double low, double high, double bound, boolean atLeast) {
        if (Double.isNaN(low) || Double.isNaN(high)) {
            return Verdict.UNDECIDED;
        }
        if (atLeast) {
            return low >= bound ? Verdict.MET : high < bound ? Verdict.NOT_MET : Verdict.UNDECIDED;
        }
        return high < bound ? Verdict.MET : low >= bound ? Verdict.NOT_MET : Verdict.UNDECIDED;
    }

    /** The bound the plot marks: a ratio row's target, a limit row's maximum; NaN if none. */
    double bound() {
        return switch (row) {
            case Ratio r -> r.target() == null ? Double.NaN : r.target().min();
            case Limit l -> l.max();
        };
    }

    String targetText() {
        return switch (row) {
            case Ratio r -> r.target() == null ? "" : "≥ " + Report.fmt(r.target().min()) + " (" + r.target().text() + ", " + r.target().source() + ")";
            case Limit l -> "< " + Report.fmt(l.max()) + " " + l.unit() + " (" + l.source() + ")";
        };
    }
}
