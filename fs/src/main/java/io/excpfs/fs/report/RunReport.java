package io.excpfs.fs.report;

import io.excpfs.fs.ops.FsException;
import io.excpfs.fs.store.EncodeFigures;
import io.excpfs.fs.store.Store;
import io.excpfs.fs.store.VersionInfo;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The figures of a stored run, as a self-contained HTML page (inline SVG charts, no scripts, fonts or links to
 * fetch) and its main chart (stored vs raw bytes over the run) as a PNG. Checkpoints are the store's checkpoint
 * sets in seal order; totals are the same sums {@code excpfs stats} prints.
 */
public final class RunReport {
    static final int CHART_WIDTH = 880;
    static final int CHART_HEIGHT = 340;

    private final String title;
    private final List<VersionInfo> versions;
    private final List<Checkpoint> checkpoints;

    private RunReport(String title, List<VersionInfo> versions, List<Checkpoint> checkpoints) {
        this.title = title;
        this.versions = versions;
        this.checkpoints = checkpoints;
    }

    /** Reads every version and its encode figures from an open store (read-only access suffices). */
    public static RunReport read(Store store, String title) throws FsException {
        return of(title, store.versions(), store.encodeFigures());
    }

    public static RunReport of(String title, List<VersionInfo> versions, Map<Long, EncodeFigures> figures) {
        List<VersionInfo> sorted = versions.stream().sorted(Comparator.comparingLong(VersionInfo::id)).toList();
        Map<Long, List<VersionInfo>> sets = new LinkedHashMap<>();
        for (VersionInfo v : sorted) sets.computeIfAbsent(v.setId(), k -> new ArrayList<>()).add(v);
        List<Checkpoint> checkpoints = new ArrayList<>();
        for (List<VersionInfo> set : sets.values()) checkpoints.add(Checkpoint.of(set, figures));
        return new RunReport(title, sorted, List.copyOf(checkpoints));
    }

    public List<Checkpoint> checkpoints() { return checkpoints; }

    public List<VersionInfo> versions() { return versions; }

    public String title() { return title; }

    public long rawBytes() { return versions.stream().mapToLong(VersionInfo::rawBytes).sum(); }

    public long storedBytes() { return versions.stream().mapToLong(VersionInfo::storedBytes).sum(); }

    /** Raw over stored bytes of the whole store, 0 when nothing is stored (as {@code excpfs stats}). */
    public double ratio() {
        long s = storedBytes();
        return s == 0 ? 0.0 : (double) rawBytes() / s;
    }

    private List<String> labels() {
        return checkpoints.stream().map(Checkpoint::label).toList();
    }

    private double[] values(java.util.function.ToDoubleFunction<Checkpoint> f) {
        return checkpoints.stream().mapToDouble(f).toArray();
    }

    /** Cumulative raw and stored bytes after each checkpoint. */
    LineChart bytesChart() {
        double[] raw = new double[checkpoints.size()], stored = new double[checkpoints.size()];
        double r = 0, s = 0;
        for (int i = 0; i < checkpoints.size(); i++) {
            r += checkpoints.get(i).rawBytes();
            s += checkpoints.get(i).storedBytes();
            raw[i] = r;
            stored[i] = s;
        }
        return new LineChart("bytes", "Stored vs raw bytes over the run", "bytes (cumulative)", LineChart.Unit.BYTES, labels(),
                List.of(new LineChart.Series("raw", "#9e9e9e", raw), new LineChart.Series("stored", "#1f77b4", stored)));
    }

    List<LineChart> charts() {
        return List.of(bytesChart(),
                new LineChart("ratio", "Compression ratio per checkpoint", "raw / stored", LineChart.Unit.RATIO, labels(),
                        List.of(new LineChart.Series("ratio", "#2ca02c", values(Checkpoint::ratio)))),
                new LineChart("bits", "Bits per parameter per checkpoint", "stored bits / parameters", LineChart.Unit.BITS, labels(),
                        List.of(new LineChart.Series("bits per parameter", "#9467bd", values(Checkpoint::bitsPerParam)))),
                new LineChart("kept", "Kept fraction per checkpoint", "elements kept", LineChart.Unit.PERCENT, labels(),
                        List.of(new LineChart.Series("weight residuals", "#1f77b4", values(Checkpoint::keptWeights)),
                                new LineChart.Series("moments", "#ff7f0e", values(Checkpoint::keptMoments)))),
                new LineChart("error", "Reconstruction error per tensor role", "relative L2 error", LineChart.Unit.PLAIN, labels(),
                        List.of(new LineChart.Series("weights", "#1f77b4", values(Checkpoint::weightError)),
                                new LineChart.Series("exp_avg", "#ff7f0e", values(Checkpoint::expAvgError)),
                                new LineChart.Series("exp_avg_sq", "#d62728", values(Checkpoint::expAvgSqError)))));
    }

    /** The page; {@code pngName} is the main chart's file name beside it, or null. */
    public String html(String pngName) {
        return HtmlPage.render(this, charts(), pngName);
    }

    /** The main chart (stored vs raw bytes over the run). */
    public BufferedImage mainChart(int width, int height) {
        return ChartPainter.png(bytesChart(), width, height);
    }

    /** Writes the page to {@code html} and the main chart to {@code png} (when not null). */
    public void write(Path html, Path png, int pngWidth, int pngHeight) throws IOException {
        if (png != null) {
            BufferedImage img = mainChart(pngWidth, pngHeight);
            Path tmp = png.resolveSibling(png.getFileName() + ".tmp");
            if (!ImageIO.write(img, "png", tmp.toFile())) throw new IOException("no PNG writer in this Java runtime");
            Files.move(tmp, png, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        Path tmp = html.resolveSibling(html.getFileName() + ".tmp");
        Files.writeString(tmp, html(png == null ? null : png.getFileName().toString()), StandardCharsets.UTF_8);
        Files.move(tmp, html, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
