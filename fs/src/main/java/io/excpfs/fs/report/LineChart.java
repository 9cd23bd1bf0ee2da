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

        String format(double v) {
            return switch (this) {
                case BYTES -> bytes(v);
                case RATIO -> trim(v) + "x";
                case BITS -> trim(v);
                case PERCENT -> trim(v * 100) + "%";
                case PLAIN -> trim(v);
            };
        }

        private static String trim(double v) {
            double a = Math.abs(v);
            if (a == 0) return "0";
            if (a >= 100) return String.format(Locale.ROOT, "%.0f", v);
            if (a >= 10) return String.format(Locale.ROOT, "%.1f", v);
            if (a >= 0.1) return String.format(Locale.ROOT, "%.2f", v);
            return String.format(Locale.ROOT, "%.2g", v);
        }

        private static String bytes(double v) {
            String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
            int u = 0;
            while (Math.abs(v) >= 1024 && u < units.length - 1) {
                v /= 1024;
                u++;
            }
            return trim(v) + " " + units[u];
        }
    }

    /** True when no series has a single finite value. */
    boolean empty() {
        for (Series s : series) for (double v : s.values()) if (Double.isFinite(v)) return false;
        return true;
    }
}
