package io.excpfs.fs.report;

import java.util.ArrayList;
import java.util.List;

/** Lays out and draws a {@link LineChart}: title, legend, y grid with nice ticks from zero, thinned x labels. */
final class ChartPainter {
    private static final String INK = "#222222";
    private static final String GRID = "#dddddd";
    private static final String MUTED = "#666666";
    private static final int LEFT = 78;
    private static final int RIGHT = 24;
    private static final int TOP = 58;
    private static final int TOP_UNTITLED = 34;
    private static final int BOTTOM = 62;

    private ChartPainter() {}

    static String svg(LineChart chart, int width, int height) {
        SvgCanvas c = new SvgCanvas(width, height, chart.title());
        paint(chart, c, width, height, false);
        return c.finish();
    }

    static java.awt.image.BufferedImage png(LineChart chart, int width, int height) {
        RasterCanvas c = new RasterCanvas(width, height);
        paint(chart, c, width, height, true);
        return c.finish();
    }

    /** Draws the chart; {@code titled} draws its title too (the page has its own heading). */
    static void paint(LineChart chart, Canvas c, int width, int height, boolean titled) {
        c.rect(0, 0, width, height, "#ffffff");
        if (titled) c.text(LEFT, 24, chart.title(), Canvas.Anchor.START, 16, INK, true, false);
        int top = titled ? TOP : TOP_UNTITLED;
        double plotW = width - LEFT - RIGHT;
        double plotH = height - top - BOTTOM;
        double[] ticks = ticks(chart);
        double lo = ticks[0], hi = ticks[ticks.length - 1];
        for (double t : ticks) {
            double y = top + plotH - (t - lo) / (hi - lo) * plotH;
            c.line(LEFT, y, LEFT + plotW, y, GRID, 1, false);
            c.text(LEFT - 8, y + 4, chart.unit().tick(t, ticks.length > 1 ? ticks[1] - ticks[0] : 0, hi), Canvas.Anchor.END, 11, MUTED, false, false);
        }
        c.text(16, top + plotH / 2, chart.yLabel(), Canvas.Anchor.MIDDLE, 12, MUTED, false, true);
        c.line(LEFT, top + plotH, LEFT + plotW, top + plotH, INK, 1, false);
        c.line(LEFT, top, LEFT, top + plotH, INK, 1, false);
        int n = chart.xLabels().size();
        int every = Math.max(1, (int) Math.ceil(n / Math.max(1.0, plotW / 70)));
        for (int i = 0; i < n; i++) {
            double x = xOf(i, n, plotW);
            c.line(x, top + plotH, x, top + plotH + 4, INK, 1, false);
            if (i % every == 0 || i == n - 1 && n - 1 - (n - 1) / every * every > every / 2) {
                c.text(x, top + plotH + 18, chart.xLabels().get(i), Canvas.Anchor.MIDDLE, 11, MUTED, false, false);
            }
        }
        c.text(LEFT + plotW / 2, height - 14, "checkpoint (step, in the order they were written)", Canvas.Anchor.MIDDLE, 12, MUTED, false, false);
        if (chart.empty()) {
            c.text(LEFT + plotW / 2, top + plotH / 2, "no figures recorded for these checkpoints", Canvas.Anchor.MIDDLE, 13, MUTED, false, false);
        }
        double legendX = LEFT + plotW;
        for (int s = chart.series().size() - 1; s >= 0; s--) {
            LineChart.Series series = chart.series().get(s);
            double w = 7.2 * series.name().length() + 26;
            legendX -= w;
            c.line(legendX, top - 16, legendX + 16, top - 16, series.color(), 3, false);
            c.text(legendX + 20, top - 12, series.name(), Canvas.Anchor.START, 12, INK, false, false);
        }
        for (LineChart.Series series : chart.series()) {
            List<double[]> run = new ArrayList<>();
            double[] v = series.values();
            for (int i = 0; i <= n; i++) {
                if (i < n && Double.isFinite(v[i])) {
                    run.add(new double[]{xOf(i, n, plotW), top + plotH - (v[i] - lo) / (hi - lo) * plotH});
                    continue;
                }
                if (run.size() > 1) {
                    double[] xs = new double[run.size()], ys = new double[run.size()];
                    for (int k = 0; k < run.size(); k++) {
                        xs[k] = run.get(k)[0];
                        ys[k] = run.get(k)[1];
                    }
                    c.polyline(xs, ys, series.color(), 2);
                }
                if (n <= 60) for (double[] p : run) c.dot(p[0], p[1], 3, series.color());
                run.clear();
            }
        }
    }

    private static double xOf(int i, int n, double plotW) {
        return n == 1 ? LEFT + plotW / 2 : LEFT + 12 + i * (plotW - 24) / (n - 1);
    }

    /** Tick values from min(0, lowest) to a round value at or above the highest, 4–8 steps of 1, 2 or 5 × 10^k. */
    static double[] ticks(LineChart chart) {
        double lo = 0, hi = 0;
        for (LineChart.Series s : chart.series()) {
            for (double v : s.values()) {
                if (!Double.isFinite(v)) continue;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        if (hi <= lo) hi = lo + (chart.unit() == LineChart.Unit.PERCENT ? 1 : 1);
        double span = hi - lo;
        double step;
        if (chart.unit() == LineChart.Unit.BYTES) {
            double unit = Math.pow(1024, Math.max(0, Math.floor(Math.log(span / 4) / Math.log(1024))));
            step = unit * niceStep(span / unit / 5);
        } else {
            step = niceStep(span / 5);
        }
        double start = Math.floor(lo / step) * step;
        int count = (int) Math.ceil((hi - start) / step - 1e-9);
        double[] t = new double[count + 1];
        for (int i = 0; i <= count; i++) t[i] = start + i * step;
        return t;
    }

    private static double niceStep(double raw) {
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        double m = raw / p;
        return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
    }
}
