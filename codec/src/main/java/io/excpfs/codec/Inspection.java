package io.excpfs.codec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The text {@code ./excpfs inspect} prints: per file its format, size, skeleton bytes, every tensor region (key,
 * dtype, shape, bytes, role), aliases, metadata and checksums to patch; then the pairing of the set (method,
 * certainty, notes, pairs). Deterministic: the same input renders the same text, byte for byte (aliases and metadata
 * in the layout's own order, which the parser keeps as the file's object order).
 */
public final class Inspection {
    /** Longest metadata value shown; longer ones are cut with {@code ...}. */
    static final int MAX_VALUE = 80;

    private Inspection() {}

    /** Parses, pairs and renders the given files as one checkpoint set, named by the paths as given. */
    public static String of(List<Path> files) throws IOException {
        List<SetMember> members = new ArrayList<>();
        List<ByteSource> open = new ArrayList<>();
        try {
            for (Path p : files) {
                ByteSource src = ByteSource.open(p);
                open.add(src);
                members.add(new SetMember(p.toString(), src, Formats.parse(src), null));
            }
            return render(members, Pairer.pair(members));
        } finally {
            for (ByteSource s : open) s.close();
        }
    }

    /** Renders the files of one set (their bases are not used) and the pairing found for it. */
    public static String render(List<SetMember> files, Pairing pairing) {
        StringBuilder out = new StringBuilder();
        for (SetMember f : files) renderFile(out, f.name(), f.layout());
        renderPairing(out, pairing);
        return out.toString();
    }

    private static void renderFile(StringBuilder out, String name, Layout l) {
        out.append("== ").append(name).append('\n');
        field(out, "format", l.format().name().toLowerCase(Locale.ROOT));
        field(out, "size", bytes(l.size()));
        field(out, "skeleton", bytes(l.skeletonBytes()) + (l.size() > 0 ? String.format(Locale.ROOT, " (%.1f%%)", 100.0 * l.skeletonBytes() / l.size()) : ""));
        if (l.note() != null && !l.note().isEmpty()) field(out, "note", l.note());
        long lossy = 0, lossyCount = 0, exact = 0;
        for (TensorRegion r : l.regions()) {
            if (r.role().lossy()) {
                lossy += r.length();
                lossyCount++;
            } else {
                exact += r.length();
            }
        }
        field(out, "regions", l.regions().size() + (l.regions().isEmpty() ? "" : " (lossy " + lossyCount + ": " + bytes(lossy)
                + ", exact " + (l.regions().size() - lossyCount) + ": " + bytes(exact) + ")"));
        if (!l.regions().isEmpty()) {
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"key", "dtype", "shape", "bytes", "role"});
            for (TensorRegion r : l.regions()) {
                rows.add(new String[] {r.key(), r.dtype().name().toLowerCase(Locale.ROOT), Arrays.toString(r.shape()),
                        String.valueOf(r.length()), r.role().name().toLowerCase(Locale.ROOT)});
            }
            table(out, rows, 3);
        }
        if (!l.aliases().isEmpty()) {
            field(out, "aliases", String.valueOf(l.aliases().size()));
            for (Map.Entry<String, String> e : l.aliases().entrySet()) out.append("  ").append(e.getKey()).append(" -> ").append(e.getValue()).append('\n');
        }
        if (!l.metadata().isEmpty()) {
            field(out, "metadata", String.valueOf(l.metadata().size()));
            for (Map.Entry<String, String> e : l.metadata().entrySet()) out.append("  ").append(e.getKey()).append(" = ").append(cut(e.getValue())).append('\n');
        }
        if (!l.crcPatches().isEmpty()) field(out, "crc32 fields", l.crcPatches().size() + " entries recomputed on read");
        out.append('\n');
    }

    private static void renderPairing(StringBuilder out, Pairing p) {
        out.append("== pairing\n");
        field(out, "certainty", p.certainty().name().toLowerCase(Locale.ROOT));
        field(out, "method", p.method());
        if (!p.notes().isEmpty()) {
            field(out, "notes", String.valueOf(p.notes().size()));
            for (String n : p.notes()) out.append("  - ").append(n).append('\n');
        }
        field(out, "pairs", String.valueOf(p.pairs().size()));
        if (!p.pairs().isEmpty()) {
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"param", "exp_avg", "exp_avg_sq"});
            for (MomentPair m : p.pairs()) rows.add(new String[] {ref(m.param()), ref(m.expAvg()), ref(m.expAvgSq())});
            table(out, rows, -1);
        }
    }

    private static String ref(TensorRef r) { return r == null ? "-" : r.toString(); }

    private static void field(StringBuilder out, String label, String value) {
        out.append(String.format(Locale.ROOT, "%-12s", label)).append(' ').append(value).append('\n');
    }

    /** Left-aligned columns, two spaces apart; column {@code rightAligned} (or none: -1) aligned right. */
    private static void table(StringBuilder out, List<String[]> rows, int rightAligned) {
        int cols = rows.get(0).length;
        int[] w = new int[cols];
        for (String[] r : rows) for (int c = 0; c < cols; c++) w[c] = Math.max(w[c], r[c].length());
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder("  ");
            for (int c = 0; c < cols; c++) {
                String cell = r[c];
                String pad = " ".repeat(w[c] - cell.length());
                line.append(c == rightAligned ? pad + cell : c == cols - 1 ? cell : cell + pad);
                if (c < cols - 1) line.append("  ");
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
    }

    static String bytes(long n) {
        String exact = String.format(Locale.ROOT, "%,d bytes", n);
        if (n < 1024) return exact;
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return exact + String.format(Locale.ROOT, " (%.1f %s)", v, units[u]);
    }

    private static String cut(String s) {
        String one = s.replace("\n", "\\n");
        return one.length() <= MAX_VALUE ? one : one.substring(0, MAX_VALUE - 3) + "...";
    }
}
