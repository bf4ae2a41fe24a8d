package io.shmkit.bench.report;

import io.shmkit.bench.report.Area.Limit;
import io.shmkit.bench.report.Area.Ratio;
import io.shmkit.bench.report.Evaluation.Verdict;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One area's plot as a self-contained SVG: a horizontal bar per row with its error band as
 * whiskers and its target as a dashed red mark. Ratio areas use a log axis with bars growing
 * from 1 (right: shmkit better); limit areas a linear axis from 0.
 */
final class Svg {

    private static final int WIDTH = 960;
    private static final int LABEL_X = 8;
    private static final int PLOT_X0 = 420;
    private static final int PLOT_X1 = 850;
    private static final int LABEL_CHARS = 66;
    private static final int ROW = 26;
    private static final int TOP = 34;

    private Svg() {
    }

    static String plot(Area area, List<Evaluation> rows) {
        boolean log = area.rows().getFirst() instanceof Ratio;
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Evaluation e : rows) {
            for (double v : new double[] {e.value(), e.low(), e.high(), e.bound(), log ? 1 : 0}) {
                if (!Double.isNaN(v) && !Double.isInfinite(v) && (!log || v > 0)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (lo == Double.POSITIVE_INFINITY) {
            lo = log ? 0.5 : 0;
            hi = log ? 2 : 1;
        }
        Scale x = log ? new Scale(true, lo / 1.4, hi * 1.4) : new Scale(false, 0, hi * 1.15 + 1e-9);
        int height = TOP + rows.size() * ROW + 62;
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                + "font-family=\"sans-serif\" font-size=\"12\">%n", WIDTH, height, WIDTH, height));
        b.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, height));
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"20\" font-size=\"14\" font-weight=\"bold\">%s</text>%n", LABEL_X, esc(area.title())));
        int axisY = TOP + rows.size() * ROW;
        for (double t : x.ticks()) {
            double px = x.at(t);
            b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e0e0e0\"/>%n", px, TOP - 4, px, axisY));
            b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%s</text>%n",
                    px, axisY + 15, t == Math.rint(t) ? String.format(Locale.ROOT, "%,d", (long) t) : Report.fmt(t)));
        }
        String unit = rows.stream().map(Evaluation::shmkit).filter(r -> r != null).map(Result::unit).findFirst().orElse("");
        String caption = log ? "times better than the peer (log scale; right of 1: shmkit better)" : unit + " (lower is better)";
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#333\">%s</text>%n",
                (PLOT_X0 + PLOT_X1) / 2, axisY + 34, esc(caption)));
        double origin = x.at(log ? 1 : 0);
        b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333\"/>%n", origin, TOP - 4, origin, axisY));
        for (int i = 0; i < rows.size(); i++) {
            bar(b, x, rows.get(i), TOP + i * ROW, origin);
        }
        int ly = height - 8;
        legend(b, 8, ly, color(Verdict.MET), "met");
        legend(b, 62, ly, color(Verdict.NOT_MET), "not met");
        legend(b, 136, ly, color(Verdict.UNDECIDED), "undecided (error band straddles the target)");
        legend(b, 440, ly, color(Verdict.NO_TARGET), "no target");
        b.append(String.format(Locale.ROOT, "<line x1=\"530\" y1=\"%d\" x2=\"530\" y2=\"%d\" stroke=\"#d32f2f\" stroke-width=\"2\" stroke-dasharray=\"3,2\"/>"
                + "<text x=\"536\" y=\"%d\">target</text>"
                + "<path d=\"M600 %dH640M600 %dV%dM640 %dV%d\" stroke=\"#212121\" stroke-width=\"1.5\"/><text x=\"646\" y=\"%d\">± error (99.9%%)</text>%n",
                ly - 10, ly + 2, ly, ly - 4, ly - 8, ly, ly - 8, ly, ly));
        return b.append("</svg>\n").toString();
    }

    private static void bar(StringBuilder b, Scale x, Evaluation e, int y, double origin) {
        String label = label(e);
        String shown = label.length() > LABEL_CHARS ? label.substring(0, LABEL_CHARS - 1) + "…" : label;
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\"><title>%s</title>%s</text>%n",
                LABEL_X, y + 16, esc(label), esc(shown)));
        if (e.verdict() == Verdict.NOT_RUN || Double.isNaN(e.value())) {
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"#777\">not run</text>%n", PLOT_X0 + 4, y + 16));
            return;
        }
        double v = x.at(e.value());
        double left = Math.min(origin, v);
        b.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" opacity=\"0.85\"/>%n",
                left, y + 5, Math.max(1, Math.abs(v - origin)), ROW - 10, color(e.verdict())));
        double right = Math.max(v, origin);
        if (!Double.isNaN(e.low()) && !Double.isNaN(e.high())) {
            double a = x.at(e.low());
            double c = x.at(e.high());
            int mid = y + ROW / 2;
            // no cap where the band leaves the axis (a ratio's band can reach below 0)
            String leftCap = x.inside(e.low()) ? String.format(Locale.ROOT, "M%.1f %dV%d", a, mid - 5, mid + 5) : "";
            String rightCap = x.inside(e.high()) ? String.format(Locale.ROOT, "M%.1f %dV%d", c, mid - 5, mid + 5) : "";
            b.append(String.format(Locale.ROOT, "<path d=\"M%.1f %dH%.1f%s%s\" stroke=\"#212121\" stroke-width=\"1.5\" fill=\"none\"/>%n",
                    a, mid, c, leftCap, rightCap));
            right = Math.max(right, c);
        }
        if (!Double.isNaN(e.bound())) {
            double t = x.at(e.bound());
            b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#d32f2f\" stroke-width=\"2\" stroke-dasharray=\"3,2\"/>%n",
                    t, y + 1, t, y + ROW - 1));
            right = Math.max(right, t);
        }
        String value = Report.fmt(e.value()) + (Double.isNaN(e.low()) ? "" : " ± " + Report.fmt((e.high() - e.low()) / 2));
        b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" fill=\"#212121\">%s</text>%n", Math.min(right + 6, PLOT_X1 + 4), y + 16, esc(value)));
    }

    static String label(Evaluation e) {
        return switch (e.row()) {
            case Ratio r -> r.label() + " vs " + r.peerLabel();
            case Limit l -> l.label();
        };
    }

    private static void legend(StringBuilder b, int x, int y, String color, String text) {
        b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s</text>%n",
                x, y - 9, color, x + 14, y, esc(text)));
    }

    private static String color(Verdict v) {
        return switch (v) {
            case MET -> "#43a047";
            case NOT_MET -> "#e53935";
            case UNDECIDED -> "#9e9e9e";
            case NO_TARGET, NOT_RUN -> "#1e88e5";
        };
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** Maps values to x pixels over [min, max], logarithmic or linear. */
    private record Scale(boolean log, double min, double max) {

        boolean inside(double v) {
            return v >= min && v <= max;
        }

        double at(double v) {
            double c = Math.max(min, Math.min(max, v));
            double f = log ? Math.log(c / min) / Math.log(max / min) : (c - min) / (max - min);
            return PLOT_X0 + f * (PLOT_X1 - PLOT_X0);
        }

        List<Double> ticks() {
            List<Double> t = new ArrayList<>();
            if (log) {
                // 1-2-5 ticks over a narrow range, powers of ten only over a wide one
                double[] steps = Math.log10(max / min) > 2.2 ? new double[] {1} : new double[] {1, 2, 5};
                for (double d = Math.pow(10, Math.floor(Math.log10(min))); d <= max; d *= 10) {
                    for (double m : steps) {
                        if (d * m >= min && d * m <= max) {
                            t.add(d * m);
                        }
                    }
                }
                return t;
            }
            double raw = (max - min) / 6;
            double mag = Math.pow(10, Math.floor(Math.log10(raw)));
            double step = raw / mag < 2 ? 2 * mag : raw / mag < 5 ? 5 * mag : 10 * mag;
            for (double v = 0; v <= max; v += step) {
                t.add(v);
            }
            return t;
        }
    }
}
