package io.excpfs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Draws the rate–quality curve of the real-trainer benchmark as a PNG: residual compression ratio against the
 * resume loss gap, one line per series (ExCP reference, excpfs published rule, excpfs budget rule, ...), each point
 * labelled with its setting (points of a series with {@code "line": false} are not joined). Input: the JSON list written by {@code bench/python/report.py --curve-data}.
 * Usage: {@code RateQualityChart POINTS.json OUT.png [WIDTHxHEIGHT]}.
 */
public final class RateQualityChart {
    private static final Color[] PALETTE = {new Color(0xd62728), new Color(0x1f77b4), new Color(0x2ca02c),
            new Color(0x9467bd), new Color(0xff7f0e), new Color(0x8c564b)};

    record Point(String series, String setting, double gapPercent, double ratio, boolean line) {}

    private RateQualityChart() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: RateQualityChart POINTS.json OUT.png [WIDTHxHEIGHT]");
            System.exit(2);
        }
        int w = 1000, h = 620;
        if (args.length > 2) {
            String[] p = args[2].split("x");
            w = Integer.parseInt(p[0]);
            h = Integer.parseInt(p[1]);
        }
        List<Point> points = read(Path.of(args[0]));
        if (points.isEmpty()) throw new IllegalArgumentException(args[0] + ": no points with a gap and a ratio");
        ImageIO.write(draw(points, w, h), "png", Path.of(args[1]).toFile());
        System.out.printf(Locale.ROOT, "wrote %s: %d points%n", args[1], points.size());
    }

    static List<Point> read(Path json) throws IOException {
        JsonNode root = new ObjectMapper().readTree(Files.readAllBytes(json));
        if (!root.isArray()) throw new IllegalArgumentException(json + ": expected a JSON list of points");
        List<Point> out = new ArrayList<>();
        for (JsonNode n : root) {
            if (!n.path("gap").isNumber() || !n.path("residual_ratio").isNumber()) continue;
            out.add(new Point(n.path("family").asText("?"), n.path("setting").asText(""),
                    100 * n.get("gap").asDouble(), n.get("residual_ratio").asDouble(), n.path("line").asBoolean(true)));
        }
        return out;
    }

    static BufferedImage draw(List<Point> points, int w, int h) {
        Map<String, List<Point>> series = new LinkedHashMap<>();
        for (Point p : points) series.computeIfAbsent(p.series(), k -> new ArrayList<>()).add(p);
        double minGap = points.stream().mapToDouble(Point::gapPercent).filter(g -> g > 0).min().orElse(0.01);
        double maxGap = points.stream().mapToDouble(Point::gapPercent).max().orElse(1);
        double lo = Math.pow(10, Math.floor(Math.log10(minGap)));
        double hi = Math.pow(10, Math.ceil(Math.log10(Math.max(maxGap, lo * 10))));
        double maxRatio = points.stream().mapToDouble(Point::ratio).max().orElse(1);
        double top = niceCeil(maxRatio * 1.1);

        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        int left = 80, right = w - 250, topY = 50, bottom = h - 60;
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.setColor(Color.BLACK);
        g.drawString("Rate–quality: residual compression ratio vs resume loss gap", left, 30);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));

        java.util.function.DoubleUnaryOperator x = gap -> {
            double v = Math.max(gap, lo);
            return left + (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) * (right - left);
        };
        java.util.function.DoubleUnaryOperator y = r -> bottom - r / top * (bottom - topY);
        g.setColor(new Color(0xdddddd));
        for (double d = lo; d <= hi * 1.0001; d *= 10) {
            for (int k = 1; k < 10 && d * k <= hi * 1.0001; k++) {
                int px = (int) x.applyAsDouble(d * k);
                g.setColor(k == 1 ? new Color(0xbbbbbb) : new Color(0xeeeeee));
                g.drawLine(px, topY, px, bottom);
                if (k == 1) {
                    g.setColor(Color.DARK_GRAY);
                    String label = trim(d) + "%";
                    g.drawString(label, px - g.getFontMetrics().stringWidth(label) / 2, bottom + 18);
                }
            }
        }
        double step = niceCeil(top / 8);
        for (double r = 0; r <= top + 1e-9; r += step) {
            int py = (int) y.applyAsDouble(r);
            g.setColor(new Color(0xdddddd));
            g.drawLine(left, py, right, py);
            g.setColor(Color.DARK_GRAY);
            String label = String.format(Locale.ROOT, "%sx", trim(r));
            g.drawString(label, left - 8 - g.getFontMetrics().stringWidth(label), py + 4);
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, topY, right - left, bottom - topY);
        g.drawString("resume loss gap (mean relative difference, log scale; gap 0 drawn at the left edge)", left, h - 20);
        Graphics2D gy = (Graphics2D) g.create();
        gy.rotate(-Math.PI / 2);
        gy.drawString("residual ratio (raw ÷ stored)", -bottom + 60, 25);
        gy.dispose();

        int legendY = topY + 10, i = 0;
        for (Map.Entry<String, List<Point>> e : series.entrySet()) {
            Color c = PALETTE[i++ % PALETTE.length];
            List<Point> ps = new ArrayList<>(e.getValue());
            ps.sort(Comparator.comparingDouble(Point::gapPercent));
            g.setColor(c);
            g.setStroke(new BasicStroke(2f));
            for (int k = 1; k < ps.size() && ps.get(k).line(); k++) {
                g.drawLine((int) x.applyAsDouble(ps.get(k - 1).gapPercent()), (int) y.applyAsDouble(ps.get(k - 1).ratio()),
                        (int) x.applyAsDouble(ps.get(k).gapPercent()), (int) y.applyAsDouble(ps.get(k).ratio()));
            }
            for (Point p : ps) {
                double px = x.applyAsDouble(p.gapPercent()), py = y.applyAsDouble(p.ratio());
                g.fill(new Ellipse2D.Double(px - 5, py - 5, 10, 10));
                g.drawString(p.setting(), (float) px + 7, (float) py - 6);
            }
            g.fillRect(right + 20, legendY - 9, 14, 10);
            g.setColor(Color.BLACK);
            g.drawString(e.getKey(), right + 40, legendY);
            legendY += 22;
        }
        g.dispose();
        return img;
    }

    private static String trim(double v) {
        String s = String.format(Locale.ROOT, "%.4f", v).replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }

    private static double niceCeil(double v) {
        if (v <= 0) return 1;
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[]{1, 2, 2.5, 5, 10}) if (m * p >= v) return m * p;
        return 10 * p;
    }
}
