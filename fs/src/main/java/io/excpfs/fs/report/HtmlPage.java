package io.excpfs.fs.report;

import io.excpfs.fs.store.VersionInfo;

import java.util.List;
import java.util.Locale;

/**
 * The report page: well-formed XHTML (parses as XML and as HTML), inline CSS and SVG only. Totals and per-version
 * rows carry exact byte counts, so they can be checked against {@code excpfs stats --json}.
 */
final class HtmlPage {
    private static final String CSS = """
            body{font-family:sans-serif;margin:24px auto;max-width:940px;color:#222}
            h1{font-size:22px}h2{font-size:17px;margin-top:28px}
            table{border-collapse:collapse;font-size:12px;margin:8px 0}
            th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}
            td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
            .summary td{font-size:14px}.note{color:#666;font-size:12px}
            svg{display:block;max-width:100%;height:auto}
            """;

    private HtmlPage() {}

    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> {
                    if (c < 0x20 && c != '\n' && c != '\t') b.append('\uFFFD');
                    else b.append(c);
                }
            }
        }
        return b.toString();
    }

    private static String fixed(double v, int digits) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + digits + "f", v) : "–";
    }

    private static String percent(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.1f%%", v * 100) : "–";
    }

    private static String error(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.3g", v) : "–";
    }

    static String render(RunReport r, List<LineChart> charts, String pngName) {
        StringBuilder h = new StringBuilder(64 * 1024);
        h.append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
                .append("<title>").append(escape(r.title())).append("</title>\n<style>").append(CSS).append("</style>\n</head>\n<body>\n")
                .append("<h1>").append(escape(r.title())).append("</h1>\n");
        long encoded = r.checkpoints().stream().filter(Checkpoint::encoded).count();
        double params = r.checkpoints().stream().filter(c -> Double.isFinite(c.bitsPerParam())).mapToLong(Checkpoint::params).sum();
        double paramBits = r.checkpoints().stream().filter(c -> Double.isFinite(c.bitsPerParam())).mapToLong(Checkpoint::storedBytes).sum() * 8.0;
        h.append("<section id=\"summary\">\n<table class=\"summary\">\n");
        row(h, "versions", "total-versions", Integer.toString(r.versions().size()));
        row(h, "checkpoints", "total-checkpoints", r.checkpoints().size() + " (" + encoded + " with encode figures)");
        row(h, "raw bytes", "total-raw", Long.toString(r.rawBytes()));
        row(h, "stored bytes", "total-stored", Long.toString(r.storedBytes()));
        row(h, "ratio", "total-ratio", fixed(r.ratio(), 2));
        row(h, "bits per parameter (encoded checkpoints)", "total-bits", params > 0 ? fixed(paramBits / params, 3) : "–");
        List<Checkpoint> residual = r.checkpoints().stream()
                .filter(c -> Double.isFinite(c.bitsPerParam()) && c.versions().stream().anyMatch(v -> v.kind().equals("residual"))).toList();
        long residualParams = residual.stream().mapToLong(Checkpoint::params).sum();
        row(h, "bits per parameter (checkpoints with residuals)", "residual-bits",
                residualParams > 0 ? fixed(residual.stream().mapToLong(Checkpoint::storedBytes).sum() * 8.0 / residualParams, 3) : "–");
        h.append("</table>\n");
        if (pngName != null) h.append("<p class=\"note\">The first chart is also saved as <code>").append(escape(pngName)).append("</code>.</p>\n");
        h.append("</section>\n");
        for (LineChart c : charts) {
            h.append("<section id=\"chart-").append(c.id()).append("\" class=\"chart\">\n<h2>").append(escape(c.title())).append("</h2>\n")
                    .append(ChartPainter.svg(c, RunReport.CHART_WIDTH, RunReport.CHART_HEIGHT)).append('\n').append("</section>\n");
        }
        h.append("<p class=\"note\">Bits per parameter: the checkpoint's stored bytes × 8 over its parameters (float tensors of role PARAM), ")
                .append("so moments and everything else are included. Kept fractions and errors come from the encoder at demotion; ")
                .append("HOT versions and stores written before these figures were recorded have none (shown as –). ")
                .append("Errors are relative L2 errors ‖x̂−x‖/‖x‖ of the reconstructed tensors.</p>\n");
        checkpointTable(h, r);
        versionTable(h, r);
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    private static void row(StringBuilder h, String name, String id, String value) {
        h.append("<tr><th>").append(escape(name)).append("</th><td class=\"num\" id=\"").append(id).append("\">")
                .append(escape(value)).append("</td></tr>\n");
    }

    private static void checkpointTable(StringBuilder h, RunReport r) {
        h.append("<section id=\"checkpoints\">\n<h2>Checkpoints</h2>\n<table>\n<thead><tr><th>step</th><th>directory</th><th>kind</th>")
                .append("<th class=\"num\">raw</th><th class=\"num\">stored</th><th class=\"num\">ratio</th><th class=\"num\">bits/param</th>")
                .append("<th class=\"num\">kept W</th><th class=\"num\">kept m,v</th><th class=\"num\">err W</th>")
                .append("<th class=\"num\">err exp_avg</th><th class=\"num\">err exp_avg_sq</th></tr></thead>\n<tbody>\n");
        for (Checkpoint c : r.checkpoints()) {
            h.append("<tr><td>").append(escape(c.label())).append("</td><td>").append(escape(c.dir())).append("</td><td>")
                    .append(escape(c.kinds())).append("</td>");
            num(h, Long.toString(c.rawBytes()));
            num(h, Long.toString(c.storedBytes()));
            num(h, fixed(c.ratio(), 2));
            num(h, fixed(c.bitsPerParam(), 3));
            num(h, percent(c.keptWeights()));
            num(h, percent(c.keptMoments()));
            num(h, error(c.weightError()));
            num(h, error(c.expAvgError()));
            num(h, error(c.expAvgSqError()));
            h.append("</tr>\n");
        }
        h.append("</tbody>\n</table>\n</section>\n");
    }

    private static void versionTable(StringBuilder h, RunReport r) {
        h.append("<section id=\"versions\">\n<h2>Versions</h2>\n<table>\n<thead><tr><th class=\"num\">id</th><th>path</th><th>kind</th>")
                .append("<th>status</th><th class=\"num\">raw</th><th class=\"num\">stored</th><th class=\"num\">ratio</th>")
                .append("<th class=\"num\">base</th><th class=\"num\">depth</th></tr></thead>\n<tbody>\n");
        for (VersionInfo v : r.versions()) {
            h.append("<tr id=\"version-").append(v.id()).append("\">");
            num(h, Long.toString(v.id()));
            h.append("<td>").append(escape(v.path())).append("</td><td>").append(escape(v.kind())).append("</td><td>")
                    .append(v.status().name().toLowerCase(Locale.ROOT)).append("</td>");
            num(h, Long.toString(v.rawBytes()));
            num(h, Long.toString(v.storedBytes()));
            num(h, v.storedBytes() == 0 ? "–" : fixed((double) v.rawBytes() / v.storedBytes(), 2));
            num(h, v.base() == 0 ? "" : Long.toString(v.base()));
            num(h, Integer.toString(v.depth()));
            h.append("</tr>\n");
        }
        h.append("</tbody>\n</table>\n</section>\n");
    }

    private static void num(StringBuilder h, String s) {
        h.append("<td class=\"num\">").append(escape(s)).append("</td>");
    }
}
