import io.excpfs.codec.ByteSource;
import io.excpfs.codec.CheckpointCodec;
import io.excpfs.codec.CodecParams;
import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.EncodedFile;
import io.excpfs.codec.Formats;
import io.excpfs.codec.Layout;
import io.excpfs.codec.Pairer;
import io.excpfs.codec.Pairing;
import io.excpfs.codec.Reconstruction;
import io.excpfs.codec.SetMember;
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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Bytes of excpfs residual objects by part, over an HF run (checkpoint-N dirs, model.safetensors + optimizer.pt as one
 * set): envelope+layout, skeleton, and per region role: codebooks, entropy tables, entropy payload, lossless regions.
 * Usage: java -cp CODEC_CLASSES bench/scripts/ratio-breakdown/RatioBreakdown.java RUN [published|budget:X|alpha:X]
 */
public class RatioBreakdown {
    static final Map<String, long[]> parts = new TreeMap<>();

    static void add(String k, long bytes, long elements) {
        long[] a = parts.computeIfAbsent(k, x -> new long[2]);
        a[0] += bytes;
        a[1] += elements;
    }

    public static void main(String[] args) throws Exception {
        Path run = Path.of(args[0]);
        CodecParams p = CodecParams.defaults();
        if (args.length > 1) {
            String s = args[1];
            if (s.startsWith("budget:")) p = new CodecParams(CodecParams.Mode.EXCP, CodecParams.Keep.BUDGET, 5e-5, 2.0, 4, 4, Double.parseDouble(s.substring(7)));
            else if (s.startsWith("alpha:")) p = new CodecParams(CodecParams.Mode.EXCP, CodecParams.Keep.PUBLISHED, Double.parseDouble(s.substring(6)), 2.0, 4, 4, 1.0);
        }
        List<Path> dirs = new ArrayList<>();
        try (var s = Files.list(run)) { s.filter(d -> d.getFileName().toString().startsWith("checkpoint-")).forEach(dirs::add); }
        dirs.sort(Comparator.comparingInt(d -> Integer.parseInt(d.getFileName().toString().substring(11))));
        Map<String, Reconstruction> bases = new HashMap<>();
        long raw = 0, stored = 0;
        long cpu0 = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        long encodeNanos = 0, encodedBytes = 0;
        for (int n = 0; n < dirs.size(); n++) {
            List<SetMember> members = new ArrayList<>();
            for (String f : List.of("model.safetensors", "optimizer.pt")) {
                byte[] b = Files.readAllBytes(dirs.get(n).resolve(f));
                ByteSource src = ByteSource.of(b);
                members.add(new SetMember(f, src, Formats.parse(src), bases.get(f)));
            }
            Pairing pairing = Pairer.pair(members);
            var bean = java.lang.management.ManagementFactory.getThreadMXBean();
            long t0 = bean.getCurrentThreadCpuTime();
            List<EncodedFile> out = CheckpointCodec.encodeSet(members, pairing, p);
            long t1 = bean.getCurrentThreadCpuTime();
            for (int i = 0; i < out.size(); i++) {
                EncodedFile e = out.get(i);
                bases.put(e.name(), e.reconstruction());
                if (n == 0) continue;
                encodeNanos += t1 - t0;
                encodedBytes += members.get(i).layout().size();
                raw += members.get(i).layout().size();
                stored += e.object().length;
                walk(e.name(), e.object(), members.get(i).base());
            }
            if (n > 0) encodedBytes += 0;
        }
        System.out.printf("%s %s: residual raw %d stored %d ratio %.3fx%n", run, args.length > 1 ? args[1] : "defaults", raw, stored, (double) raw / stored);
        for (var e : parts.entrySet()) {
            long[] a = e.getValue();
            System.out.printf("  %-28s %10d bytes %6.2f%%  %s%n", e.getKey(), a[0], 100.0 * a[0] / stored,
                    a[1] > 0 ? String.format("%.4f bits/elem over %d", 8.0 * a[0] / a[1], a[1]) : "");
        }
    }

    static void walk(String file, byte[] object, Reconstruction base) throws CorruptObjectException {
        ObjectEnvelope.Header h = ObjectEnvelope.open(object, 1, 99);
        BytesIn in = new BytesIn(object, h.bodyStart(), h.bodyEnd());
        if (h.needsBase()) in.u32("fp");
        Layout layout = LayoutRecord.read(in);
        add("envelope+layout", in.position() + (object.length - h.bodyEnd()), 0);
        int at = in.position();
        SkeletonCoder.decode(in, base.skeleton(), (int) layout.skeletonBytes());
        add("skeleton", in.position() - at, 0);
        for (TensorRegion r : layout.regions()) {
            at = in.position();
            int coding = in.u8("coding");
            byte[] dst = new byte[(int) r.length()];
            String role = r.role().name();
            if (coding == 0) {
                BytePlaneCoder.decode(in, dst, base.region(r.key()));
                add("lossless " + role, in.position() - at, r.elements());
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
            int len = (int) in.varint("len");
            in.skip(len, "payload");
            add(role + " codebook", tablesAt - at, 0);
            add(role + " tables", payloadAt - tablesAt, 0);
            add(role + " payload", in.position() - payloadAt, r.elements());
        }
    }
}
