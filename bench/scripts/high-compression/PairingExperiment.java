import io.excpfs.codec.ByteSource;
import io.excpfs.codec.Certainty;
import io.excpfs.codec.CheckpointCodec;
import io.excpfs.codec.CodecParams;
import io.excpfs.codec.EncodedFile;
import io.excpfs.codec.Formats;
import io.excpfs.codec.Layout;
import io.excpfs.codec.MomentPair;
import io.excpfs.codec.Pairer;
import io.excpfs.codec.Pairing;
import io.excpfs.codec.Reconstruction;
import io.excpfs.codec.Role;
import io.excpfs.codec.SetMember;
import io.excpfs.codec.TensorRef;
import io.excpfs.codec.TensorRegion;
import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.LayoutRecord;
import io.excpfs.codec.envelope.ObjectEnvelope;
import io.excpfs.codec.excp.Codebook;
import io.excpfs.codec.excp.ExcpRegionCoder;
import io.excpfs.codec.lossless.BytePlaneCoder;
import io.excpfs.codec.lossless.SkeletonCoder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How much the weight ↔ moment pairing costs excpfs on an HF run (checkpoint-N dirs, model.safetensors sorted by
 * name + optimizer.pt indexed in module order). Encodes the run as a residual chain (first checkpoint a seed, like
 * an import with hot=0) with one of three pairings and writes the reconstruction of the newest checkpoint, for
 * resume.py:
 * <ul>
 *   <li>{@code auto}: {@link Pairer#pair} as the store does (unique shapes, then content evidence);</li>
 *   <li>{@code layers}: the proposal: besides {@code auto}'s pairs, a shape all of whose model tensors share one name
 *       pattern (digits abstracted, e.g. {@code transformer.h.*.mlp.c_fc.weight}) pairs its tensors in numeric name
 *       order with its optimizer indices in index order (layers of a ModuleList are registered in order);</li>
 *   <li>{@code truth:FILE}: the true pairing, one "name index" line per parameter (from the model's module order).</li>
 * </ul>
 * Prints one JSON line: residual raw/stored bytes of the two files, ratio, kept fractions, pairs per checkpoint, and
 * the residual bytes by part (as bench/scripts/ratio-breakdown: envelope+layout, skeleton, per role codebook, entropy
 * tables, payload, lossless).
 * Usage: java -cp CODEC_CLASSES:LIBS PairingExperiment.java RUN OUT_DIR PAIRING published:ALPHA|budget:B
 */
public class PairingExperiment {
    static final List<String> FILES = List.of("model.safetensors", "optimizer.pt");
    static final Pattern STATE = Pattern.compile("state/(\\d+)/(exp_avg|exp_avg_sq)");

    public static void main(String[] args) throws Exception {
        Path run = Path.of(args[0]), out = Path.of(args[1]);
        String mode = args[2];
        String rule = args[3];
        CodecParams p = rule.startsWith("budget:")
                ? new CodecParams(CodecParams.Mode.EXCP, CodecParams.Keep.BUDGET, 5e-5, 2.0, 4, 4, Double.parseDouble(rule.substring(7)))
                : new CodecParams(CodecParams.Mode.EXCP, CodecParams.Keep.PUBLISHED, Double.parseDouble(rule.substring(rule.indexOf(':') + 1)), 2.0, 4, 4, 1.0);
        Map<String, Integer> truth = new HashMap<>();
        if (mode.startsWith("truth:")) {
            for (String line : Files.readAllLines(Path.of(mode.substring(6)))) {
                String[] f = line.trim().split("\\s+");
                if (f.length == 2) truth.put(f[0], Integer.parseInt(f[1]));
            }
        }
        List<Path> dirs = new ArrayList<>();
        try (var s = Files.list(run)) { s.filter(d -> d.getFileName().toString().startsWith("checkpoint-")).forEach(dirs::add); }
        dirs.sort(Comparator.comparingInt(d -> Integer.parseInt(d.getFileName().toString().substring(11))));
        Map<String, Reconstruction> bases = new HashMap<>();
        long raw = 0, stored = 0, keptW = 0, elemW = 0, keptM = 0, elemM = 0;
        List<Integer> pairsPerCheckpoint = new ArrayList<>();
        for (int n = 0; n < dirs.size(); n++) {
            List<SetMember> members = new ArrayList<>();
            for (String f : FILES) {
                ByteSource src = ByteSource.of(Files.readAllBytes(dirs.get(n).resolve(f)));
                members.add(new SetMember(f, src, Formats.parse(src), bases.get(f)));
            }
            Pairing auto = Pairer.pair(members);
            Pairing pairing = switch (mode.startsWith("truth:") ? "truth" : mode) {
                case "auto" -> auto;
                case "layers" -> layers(members, auto);
                case "truth" -> fromTruth(members, truth);
                default -> throw new IllegalArgumentException("pairing " + mode);
            };
            pairsPerCheckpoint.add(pairing.pairs().size());
            List<EncodedFile> enc = CheckpointCodec.encodeSet(members, pairing, p);
            for (int i = 0; i < enc.size(); i++) {
                EncodedFile e = enc.get(i);
                bases.put(e.name(), e.reconstruction());
                if (n == 0) continue;
                raw += members.get(i).layout().size();
                stored += e.object().length;
                keptW += e.stats().keptWeights();
                elemW += e.stats().weightElements();
                keptM += e.stats().keptMoments();
                elemM += e.stats().momentElements();
                walk(e.object(), members.get(i).base());
            }
        }
        Path last = dirs.get(dirs.size() - 1);
        Path dest = out.resolve(last.getFileName().toString());
        Files.createDirectories(dest);
        try (var s = Files.list(last)) {
            for (Path f : s.toList()) Files.copy(f, dest.resolve(f.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
        }
        for (String f : FILES) Files.write(dest.resolve(f), bases.get(f).toByteArray());
        System.out.printf("{\"pairing\": \"%s\", \"rule\": \"%s\", \"raw\": %d, \"stored\": %d, \"ratio\": %.3f, \"weights_kept\": %.4f,"
                        + " \"moments_kept\": %.4f, \"pairs\": %s, \"parts\": %s, \"checkpoint\": \"%s\"}%n", mode.startsWith("truth:") ? "truth" : mode, rule,
                raw, stored, (double) raw / stored, (double) keptW / elemW, (double) keptM / Math.max(1, elemM), pairsPerCheckpoint,
                parts.entrySet().stream().map(e -> "\"" + e.getKey() + "\": " + e.getValue()).collect(java.util.stream.Collectors.joining(", ", "{", "}")), dest);
    }

    static final Map<String, Long> parts = new TreeMap<>();

    static void add(String part, long bytes) { parts.merge(part, bytes, Long::sum); }

    /** Bytes of one object by part, walking its stream as bench/scripts/ratio-breakdown/RatioBreakdown.java does. */
    static void walk(byte[] object, Reconstruction base) throws Exception {
        ObjectEnvelope.Header h = ObjectEnvelope.open(object, 1, 99);
        BytesIn in = new BytesIn(object, h.bodyStart(), h.bodyEnd());
        if (h.needsBase()) in.u32("fp");
        Layout layout = LayoutRecord.read(in);
        add("envelope+layout", in.position() + (object.length - h.bodyEnd()));
        int at = in.position();
        SkeletonCoder.decode(in, base.skeleton(), (int) layout.skeletonBytes());
        add("skeleton", in.position() - at);
        for (TensorRegion r : layout.regions()) {
            at = in.position();
            int coding = in.u8("coding");
            String role = r.role().name();
            if (coding == 0) {
                BytePlaneCoder.decode(in, new byte[(int) r.length()], base.region(r.key()));
                add("lossless " + role, in.position() - at);
                continue;
            }
            int bits = in.u8("bits");
            Codebook.read(in);
            if (coding == ExcpRegionCoder.LOG_RATIO_MOMENT) Codebook.read(in);
            int tablesAt = in.position();
            int model = in.u8("model");
            if (model == 1) in.varint("row");
            int nc = model == 0 ? 1 : model == 1 ? 4 : 1 << bits;
            for (int c = 0; c < nc; c++) {
                for (int s = 0; s < 1 << bits; s++) {
                    long f = in.varint("f");
                    if (f == 0) s += (int) in.varint("run");
                }
            }
            int payloadAt = in.position();
            in.skip((int) in.varint("len"), "payload");
            add(role + " codebook", tablesAt - at);
            add(role + " tables", payloadAt - tablesAt);
            add(role + " payload", in.position() - payloadAt);
        }
    }

    /** Optimizer index → its exp_avg / exp_avg_sq region keys, of the member named optimizer.pt. */
    static Map<Integer, String[]> moments(SetMember opt) {
        Map<Integer, String[]> out = new TreeMap<>();
        for (TensorRegion r : opt.layout().regions()) {
            Matcher m = STATE.matcher(r.key());
            if (!m.matches()) continue;
            String[] pair = out.computeIfAbsent(Integer.parseInt(m.group(1)), k -> new String[2]);
            pair[m.group(2).equals("exp_avg") ? 0 : 1] = r.key();
        }
        return out;
    }

    static Map<String, TensorRegion> regions(SetMember m) {
        Map<String, TensorRegion> out = new LinkedHashMap<>();
        for (TensorRegion r : m.layout().regions()) out.put(r.key(), r);
        return out;
    }

    static MomentPair pair(String name, int index, Map<Integer, String[]> moments) {
        String[] k = moments.get(index);
        return new MomentPair(new TensorRef("model.safetensors", name), new TensorRef("optimizer.pt", k[0]), new TensorRef("optimizer.pt", k[1]));
    }

    static Pairing fromTruth(List<SetMember> members, Map<String, Integer> truth) {
        Map<Integer, String[]> moments = moments(members.get(1));
        List<MomentPair> pairs = new ArrayList<>();
        for (String name : regions(members.get(0)).keySet()) {
            Integer i = truth.get(name);
            if (i != null && moments.containsKey(i)) pairs.add(pair(name, i, moments));
        }
        return new Pairing(pairs, Certainty.CERTAIN, "truth", List.of());
    }

    static String shape(TensorRegion r) { return java.util.Arrays.toString(r.shape()); }

    /** The proposal: auto's pairs, plus per-shape layer order where every tensor of the shape has one name pattern. */
    static Pairing layers(List<SetMember> members, Pairing auto) {
        Map<String, TensorRegion> model = regions(members.get(0));
        Map<String, TensorRegion> opt = regions(members.get(1));
        Map<Integer, String[]> moments = moments(members.get(1));
        List<MomentPair> pairs = new ArrayList<>(auto.pairs());
        java.util.Set<String> pairedNames = new java.util.HashSet<>();
        java.util.Set<String> pairedMoments = new java.util.HashSet<>();
        for (MomentPair m : auto.pairs()) {
            pairedNames.add(m.param().key());
            pairedMoments.add(m.expAvg().key());
        }
        Map<String, List<String>> namesByShape = new TreeMap<>();
        for (TensorRegion r : model.values()) {
            if (r.role() == Role.PARAM && !pairedNames.contains(r.key())) namesByShape.computeIfAbsent(shape(r), k -> new ArrayList<>()).add(r.key());
        }
        Map<String, List<Integer>> indicesByShape = new TreeMap<>();
        for (Map.Entry<Integer, String[]> e : moments.entrySet()) {
            if (e.getValue()[0] == null || e.getValue()[1] == null || pairedMoments.contains(e.getValue()[0])) continue;
            indicesByShape.computeIfAbsent(shape(opt.get(e.getValue()[0])), k -> new ArrayList<>()).add(e.getKey());
        }
        for (Map.Entry<String, List<String>> e : namesByShape.entrySet()) {
            List<String> names = e.getValue();
            List<Integer> indices = indicesByShape.getOrDefault(e.getKey(), List.of());
            if (names.size() != indices.size()) continue;
            if (names.stream().map(s -> s.replaceAll("\\d+", "*")).distinct().count() != 1) continue;
            names.sort(PairingExperiment::numericOrder);
            for (int i = 0; i < names.size(); i++) pairs.add(pair(names.get(i), indices.get(i), moments));
        }
        return new Pairing(pairs, Certainty.LIKELY, auto.method() + " + layer order per name pattern", auto.notes());
    }

    /** Name order with digit runs compared as numbers (h.2 before h.10). */
    static int numericOrder(String a, String b) {
        Matcher x = Pattern.compile("\\d+|\\D+").matcher(a), y = Pattern.compile("\\d+|\\D+").matcher(b);
        while (x.find() && y.find()) {
            String s = x.group(), t = y.group();
            int c = Character.isDigit(s.charAt(0)) && Character.isDigit(t.charAt(0)) ? Long.compare(Long.parseLong(s), Long.parseLong(t)) : s.compareTo(t);
            if (c != 0) return c;
        }
        return Integer.compare(a.length(), b.length());
    }
}
