package io.excpfs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.DoubleUnaryOperator;
import java.util.regex.Pattern;

/**
 * Store size and ratio over a run, from {@code excpfs stats --json} of one or more stores holding the same run:
 * top panel the cumulative stored bytes of each store against the raw bytes, bottom panel each checkpoint's ratio
 * (raw ÷ stored of its files). A checkpoint is the directory of a file when that directory's name has a number
 * ({@code checkpoint-40/}, {@code step-40/}), else the file itself; checkpoints are ordered by first version id.
 * Prints the same figures as a markdown table. Usage: {@code StoreChart OUT.png LABEL=STATS.json [LABEL=STATS.json ...]}
 * (a label holds no {@code =}).
 */
public final class StoreChart {
    private static final Pattern NUMBERED = Pattern.compile(".*\\d.*");
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0x9467bd), new Color(0xff7f0e)};

    /** One checkpoint of one store: raw and stored bytes of its files. */
    record Checkpoint(String name, long raw, long stored) {}

    private StoreChart() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: StoreChart OUT.png LABEL=STATS.json [LABEL=STATS.json ...]");
            System.exit(2);
        }
        Map<String, List<Checkpoint>> stores = new LinkedHashMap<>();
        for (int i = 1; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("expected LABEL=STATS.json, got " + args[i]);
            stores.put(args[i].substring(0, eq), checkpoints(Path.of(args[i].substring(eq + 1))));
        }
        ImageIO.write(draw(stores, 1200, 760), "png", Path.of(args[0]).toFile());
        System.err.printf(Locale.ROOT, "wrote %s: %d stores, %d checkpoints%n", args[0], stores.size(),
                stores.values().iterator().next().size());
        System.out.print(table(stores));
    }

    /** Markdown: one row per checkpoint, raw bytes then stored bytes and ratio of each store, and a total row. */
    static String table(Map<String, List<Checkpoint>> stores) {
        StringBuilder b = new StringBuilder("| checkpoint | raw bytes |");
        StringBuilder rule = new StringBuilder("|---|---|");
        for (String label : stores.keySet()) {
            b.append(' ').append(label).append(": stored | ratio |");
            rule.append("---|---|");
        }
        b.append('\n').append(rule).append('\n');
        List<Checkpoint> first = stores.values().iterator().next();
        for (int i = 0; i <= first.size(); i++) {
            boolean total = i == first.size();
            long raw = total ? first.stream().mapToLong(Checkpoint::raw).sum() : first.get(i).raw();
            b.append(String.format(Locale.ROOT, "| %s | %,d |", total ? "**whole run**" : first.get(i).name().replaceAll("^/", ""), raw));
            for (List<Checkpoint> cs : stores.values()) {
                if (!total && i >= cs.size()) {
                    b.append(" — | — |");
                    continue;
                }
                long r = total ? cs.stream().mapToLong(Checkpoint::raw).sum() : cs.get(i).raw();
                long s = total ? cs.stream().mapToLong(Checkpoint::stored).sum() : cs.get(i).stored();
                b.append(String.format(Locale.ROOT, " %,d | %.2fx |", s, (double) r / Math.max(1, s)));
            }
            b.append('\n');
        }
        return b.toString();
    }

    static List<Checkpoint> checkpoints(Path stats) throws IOException {
        JsonNode root = new ObjectMapper().readTree(Files.readAllBytes(stats));
        Map<Long, String> order = new TreeMap<>();
        Map<String, long[]> sums = new LinkedHashMap<>();
        for (JsonNode v : root.path("versions")) {
            if (!"live".equals(v.path("status").asText("live"))) continue;
            String path = v.path("path").asText();
            int slash = path.lastIndexOf('/');
            String dir = slash > 0 ? path.substring(0, slash) : "";
            String unit = NUMBERED.matcher(dir.substring(dir.lastIndexOf('/') + 1)).matches() ? dir : path;
            long[] s = sums.computeIfAbsent(unit, k -> {
                order.put(v.path("id").asLong(), k);
                return new long[2];
            });
            s[0] += v.path("raw_bytes").asLong();
            s[1] += v.path("stored_bytes").asLong();
        }
        if (sums.isEmpty()) throw new IllegalArgumentException(stats + ": no live versions");
        List<Checkpoint> out = new ArrayList<>();
        for (String unit : order.values()) out.add(new Checkpoint(unit, sums.get(unit)[0], sums.get(unit)[1]));
        return out;
    }

    static BufferedImage draw(Map<String, List<Checkpoint>> stores, int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        List<Checkpoint> first = stores.values().iterator().next();
        int n = first.size();
        int left = 90, right = w - 220;
        int top1 = 50, bottom1 = h / 2 - 20, top2 = h / 2 + 30, bottom2 = h - 60;
        DoubleUnaryOperator x = i -> left + (n == 1 ? 0.5 : i / (n - 1.0)) * (right - left);

        double rawTotal = first.stream().mapToLong(Checkpoint::raw).sum();
        double bytesTop = nice(rawTotal * 1.05);
        double ratioMax = 1;
        for (List<Checkpoint> cs : stores.values()) {
            for (Checkpoint c : cs) ratioMax = Math.max(ratioMax, c.stored() == 0 ? 1 : (double) c.raw() / c.stored());
        }
        double ratioTop = nice(ratioMax * 1.1);

        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString("Store size over the run (cumulative) and ratio per checkpoint", left, 28);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        axes(g, left, right, top1, bottom1, bytesTop, v -> human(v), "bytes stored (cumulative)");
        axes(g, left, right, top2, bottom2, ratioTop, v -> String.format(Locale.ROOT, "%.0fx", v), "ratio of each checkpoint");
        int step = Math.max(1, (int) Math.ceil(n * 120.0 / (right - left)));
        g.setColor(Color.DARK_GRAY);
        for (int i = 0; i < n; i += step) {
            String label = first.get(i).name().replaceAll(".*/", "");
            int px = (int) x.applyAsDouble(i);
            g.drawString(label, px - g.getFontMetrics().stringWidth(label) / 2, bottom2 + 18);
        }
        g.drawString("checkpoint (in the order written)", left, h - 15);

        DoubleUnaryOperator y1 = v -> bottom1 - v / bytesTop * (bottom1 - top1);
        DoubleUnaryOperator y2 = v -> bottom2 - v / ratioTop * (bottom2 - top2);
        g.setStroke(new BasicStroke(2f));
        g.setColor(Color.GRAY);
        polyline(g, x, y1, cumulative(first, true));
        int legendY = top1 + 10;
        legend(g, Color.GRAY, "raw", right + 20, legendY);
        int c = 0;
        for (Map.Entry<String, List<Checkpoint>> e : stores.entrySet()) {
            Color col = PALETTE[c++ % PALETTE.length];
            List<Checkpoint> cs = e.getValue();
            g.setColor(col);
            polyline(g, x, y1, cumulative(cs, false));
            double[] ratios = new double[cs.size()];
            for (int i = 0; i < cs.size(); i++) ratios[i] = cs.get(i).stored() == 0 ? 0 : (double) cs.get(i).raw() / cs.get(i).stored();
            g.setColor(col);
            polyline(g, x, y2, ratios);
            long raw = cs.stream().mapToLong(Checkpoint::raw).sum(), stored = cs.stream().mapToLong(Checkpoint::stored).sum();
            legendY += 22;
            legend(g, col, String.format(Locale.ROOT, "%s (%.2fx)", e.getKey(), (double) raw / Math.max(1, stored)), right + 20, legendY);
        }
        g.dispose();
        return img;
    }

    private static double[] cumulative(List<Checkpoint> cs, boolean raw) {
        double[] out = new double[cs.size()];
        double sum = 0;
        for (int i = 0; i < cs.size(); i++) out[i] = sum += raw ? cs.get(i).raw() : cs.get(i).stored();
        return out;
    }

    private static void polyline(Graphics2D g, DoubleUnaryOperator x, DoubleUnaryOperator y, double[] v) {
        for (int i = 0; i < v.length; i++) {
            int px = (int) x.applyAsDouble(i), py = (int) y.applyAsDouble(v[i]);
            g.fillOval(px - 3, py - 3, 6, 6);
            if (i > 0) g.drawLine((int) x.applyAsDouble(i - 1), (int) y.applyAsDouble(v[i - 1]), px, py);
        }
    }

    private static void legend(Graphics2D g, Color c, String text, int x, int y) {
        g.setColor(c);
        g.fillRect(x, y - 9, 14, 10);
        g.setColor(Color.BLACK);
        g.drawString(text, x + 20, y);
    }

    private static void axes(Graphics2D g, int left, int right, int top, int bottom, double max,
                             java.util.function.DoubleFunction<String> label, String title) {
        double step = nice(max / 5);
        for (double v = 0; v <= max + 1e-9; v += step) {
            int py = (int) (bottom - v / max * (bottom - top));
            g.setColor(new Color(0xdddddd));
            g.drawLine(left, py, right, py);
            g.setColor(Color.DARK_GRAY);
            String s = label.apply(v);
            g.drawString(s, left - 8 - g.getFontMetrics().stringWidth(s), py + 4);
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, right - left, bottom - top);
        g.drawString(title, left + 6, top - 6);
    }

    private static String human(double bytes) {
        String[] units = {"B", "KB", "MB", "GB", "TB"};
        int u = 0;
        while (bytes >= 1000 && u < units.length - 1) {
            bytes /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, bytes >= 10 || bytes == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
    }

    private static double nice(double v) {
        if (v <= 0) return 1;
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[]{1, 2, 2.5, 5, 10}) if (m * p >= v) return m * p;
        return 10 * p;
    }
}
