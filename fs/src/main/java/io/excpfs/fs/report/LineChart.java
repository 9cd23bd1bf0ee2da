package io.excpfs.fs.report;

import java.util.List;
import java.util.Locale;

/**
 * A line chart over the checkpoints of a run: a category x axis (one slot per checkpoint, labelled) and named series
 * of y values, one per slot; NaN leaves a gap (no figure for that checkpoint).
 */
record LineChart(String id, String title, String yLabel, Unit unit, List<String> xLabels, List<Series> series) {
    LineChart {
        xLabels = List.copyOf(xLabels);
        series = List.copyOf(series);
        for (Series s : series) {
            if (s.values().length != xLabels.size()) {
                throw new IllegalArgumentException("series " + s.name() + " has " + s.values().length + " values for " + xLabels.size() + " checkpoints");
            }
        }
    }

    /** One line: its legend name, its colour as {@code #rrggbb}, a value per checkpoint. */
    record Series(String name, String color, double[] values) {}

    /** How values of the y axis read. */
    enum Unit {
        BYTES, RATIO, BITS, PERCENT, PLAIN;

        /** A tick label: as many decimals as the tick step needs, bytes in the unit of the axis' top {@code top}. */
        String tick(double v, double step, double top) {
            if (this == BYTES) {
                String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
                int u = 0;
                double scale = 1;
                while (Math.abs(top) >= 1024 * scale && u < units.length - 1) {
                    scale *= 1024;
                    u++;
                }
                return decimals(v / scale, step / scale) + " " + units[u];
            }
            return switch (this) {
                case RATIO -> decimals(v, step) + "x";
                case PERCENT -> decimals(v * 100, step * 100) + "%";
                default -> decimals(v, step);
            };
        }

        private static String decimals(double v, double step) {
            int d = step <= 0 ? 0 : (int) Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
            if (d > 5) return v == 0 ? "0" : String.format(Locale.ROOT, "%.3g", v);
            return String.format(Locale.ROOT, "%." + d + "f", v);
        }
    }

    /** True when no series has a single finite value. */
    boolean empty() {
        for (Series s : series) for (double v : s.values()) if (Double.isFinite(v)) return false;
        return true;
    }
}
