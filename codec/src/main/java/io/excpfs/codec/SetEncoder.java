package io.excpfs.codec;

import io.excpfs.codec.envelope.BytesOut;
import io.excpfs.codec.envelope.LayoutRecord;
import io.excpfs.codec.envelope.ObjectEnvelope;
import io.excpfs.codec.excp.ExcpRegionCoder;
import io.excpfs.codec.excp.FloatWords;
import io.excpfs.codec.lossless.BytePlaneCoder;
import io.excpfs.codec.lossless.SkeletonCoder;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Encodes one checkpoint set. Weights are coded first across all members, so that each moment, wherever it lives
 * (a separate optimizer.pt, or the same ckpt.pt), can be pruned jointly with its parameter's residual mask.
 */
final class SetEncoder {
    /**
     * Float regions with fewer elements stay lossless: below this a codebook and a model table cost about as much as
     * the lossless region. (LayerNorm and bias vectors of a few hundred elements are lossy: kept exact they cost
     * 5% of a residual checkpoint of a small GPT; the ExCP reference quantizes them too.)
     */
    static final int MIN_LOSSY_ELEMENTS = 32;

    private final List<SetMember> members;
    private final CodecParams params;
    private final Map<String, SetMember> byName = new HashMap<>();
    private final Map<TensorRef, MomentPair> byParam = new HashMap<>();
    private final Map<TensorRef, MomentPair> byMoment = new HashMap<>();
    private final Map<TensorRef, ExcpRegionCoder.Coded> coded = new HashMap<>();
    private final Map<TensorRef, Integer> codings = new HashMap<>();
    /** Mean of the set's exp_avg_sq for unpaired weights, computed when the first one needs it. */
    private double setMeanV = Double.NaN;
    private boolean setMeanKnown;

    SetEncoder(List<SetMember> members, Pairing pairing, CodecParams params) {
        this.members = List.copyOf(members);
        this.params = Objects.requireNonNull(params);
        for (SetMember m : members) {
            if (byName.put(m.name(), m) != null) throw new IllegalArgumentException("two set members named " + m.name());
        }
        if (pairing != null && pairing.usable()) {
            for (MomentPair p : pairing.pairs()) {
                if (p.param() == null) continue;
                byParam.put(p.param(), p);
                if (p.expAvg() != null) byMoment.put(p.expAvg(), p);
                if (p.expAvgSq() != null) byMoment.put(p.expAvgSq(), p);
            }
        }
    }

    List<EncodedFile> encode() throws IOException {
        List<Kind> kinds = new ArrayList<>();
        for (SetMember m : members) kinds.add(kindOf(m));
        if (params.mode() == CodecParams.Mode.EXCP) {
            for (int i = 0; i < members.size(); i++) if (kinds.get(i) == Kind.RESIDUAL) codeWeights(members.get(i));
            for (int i = 0; i < members.size(); i++) if (kinds.get(i) == Kind.RESIDUAL) codeMoments(members.get(i));
        }
        List<EncodedFile> out = new ArrayList<>();
        for (int i = 0; i < members.size(); i++) out.add(assemble(members.get(i), kinds.get(i)));
        return out;
    }

    static Kind kindOf(SetMember m) {
        Layout layout = m.layout();
        if (layout.isOpaque()) return Kind.OPAQUE;
        Reconstruction base = m.base();
        if (base == null || base.layout().isOpaque()) return Kind.SEED;
        Map<String, TensorRegion> prev = new HashMap<>();
        for (TensorRegion r : base.layout().regions()) if (r.role().lossy()) prev.put(r.key(), r);
        int lossy = 0;
        for (TensorRegion r : layout.regions()) {
            if (!r.role().lossy()) continue;
            lossy++;
            TensorRegion p = prev.get(r.key());
            if (p == null || p.dtype() != r.dtype() || p.length() != r.length()) return Kind.SEED;
        }
        return lossy == prev.size() ? Kind.RESIDUAL : Kind.SEED;
    }

    private boolean lossyEligible(TensorRegion r) {
        return r.role().lossy() && r.dtype().isFloat() && r.elements() >= MIN_LOSSY_ELEMENTS;
    }

    private static byte[] payload(SetMember m, TensorRegion r) throws IOException {
        if (r.length() > Integer.MAX_VALUE - 16) throw new IOException("region " + r.key() + " of " + m.name() + " is larger than 2 GiB");
        return m.bytes().read(r.offset(), (int) r.length());
    }

    private static int row(TensorRegion r) {
        long[] shape = r.shape();
        if (shape.length < 2) return 0;
        long last = shape[shape.length - 1];
        return last > 0 && last < r.elements() ? (int) last : 0;
    }

    /** The payload of a set tensor as fp32 when it exists with {@code elements} float elements, else null. */
    private float[] floats(TensorRef ref, long elements) throws IOException {
        if (ref == null) return null;
        SetMember m = byName.get(ref.file());
        if (m == null) return null;
        for (TensorRegion r : m.layout().regions()) {
            if (r.key().equals(ref.key())) {
                if (!r.dtype().isFloat() || r.elements() != elements) return null;
                return FloatWords.toFloats(payload(m, r), r.dtype());
            }
        }
        return null;
    }

    /** Element-weighted mean of every lossy exp_avg_sq in the set; NaN when there is none. */
    private double setMeanExpAvgSq() throws IOException {
        double sum = 0;
        long count = 0;
        for (SetMember m : members) {
            for (TensorRegion r : m.layout().regions()) {
                if (r.role() != Role.EXP_AVG_SQ || !lossyEligible(r)) continue;
                for (float x : FloatWords.toFloats(payload(m, r), r.dtype())) {
                    if (Float.isFinite(x)) {
                        sum += x;
                        count++;
                    }
                }
            }
        }
        return count == 0 ? Double.NaN : sum / count;
    }

    private void codeWeights(SetMember m) throws IOException {
        for (TensorRegion r : m.layout().regions()) {
            if (r.role() != Role.PARAM || !lossyEligible(r)) continue;
            TensorRef ref = new TensorRef(m.name(), r.key());
            MomentPair pair = byParam.get(ref);
            float[] v = params.keep() == CodecParams.Keep.PUBLISHED ? floats(pair == null ? null : pair.expAvgSq(), r.elements()) : null;
            if (params.keep() == CodecParams.Keep.PUBLISHED && v == null && !setMeanKnown) {
                setMeanV = setMeanExpAvgSq();
                setMeanKnown = true;
            }
            ExcpRegionCoder.Coded c = ExcpRegionCoder.weights(payload(m, r), m.base().region(r.key()), r.dtype(), row(r), v,
                    setMeanV, params);
            if (c != null) {
                coded.put(ref, c);
                codings.put(ref, ExcpRegionCoder.WEIGHT);
            }
        }
    }

    /** {@code .../state/3/exp_avg} for {@code .../state/3/exp_avg_sq}: one optimizer state entry. */
    private static TensorRef siblingExpAvg(TensorRef expAvgSq) {
        String key = expAvgSq.key();
        if (!key.endsWith("exp_avg_sq")) return null;
        return new TensorRef(expAvgSq.file(), key.substring(0, key.length() - "_sq".length()));
    }

    private boolean[] mask(TensorRef ref, long elements) {
        ExcpRegionCoder.Coded c = ref == null ? null : coded.get(ref);
        return c == null || c.kept().length != elements ? null : c.kept();
    }

    private void codeMoments(SetMember m) throws IOException {
        List<TensorRegion> squares = new ArrayList<>();
        for (TensorRegion r : m.layout().regions()) {
            if (r.role() == Role.EXP_AVG && lossyEligible(r)) {
                TensorRef ref = new TensorRef(m.name(), r.key());
                MomentPair pair = byMoment.get(ref);
                boolean[] weightKept = mask(pair == null ? null : pair.param(), r.elements());
                ExcpRegionCoder.Coded c = ExcpRegionCoder.expAvg(payload(m, r), r.dtype(), row(r), weightKept, params);
                if (c != null) {
                    coded.put(ref, c);
                    codings.put(ref, ExcpRegionCoder.MOMENT);
                }
            } else if (r.role() == Role.EXP_AVG_SQ && lossyEligible(r)) {
                squares.add(r);
            }
        }
        for (TensorRegion r : squares) {
            TensorRef ref = new TensorRef(m.name(), r.key());
            byte[] v = payload(m, r);
            ExcpRegionCoder.Coded c = null;
            MomentPair pair = byMoment.get(ref);
            // exp_avg_sq shares the mask of the exp_avg of the same optimizer state entry, paired or not
            boolean[] keep = mask(pair != null ? pair.expAvg() : siblingExpAvg(ref), r.elements());
            if (keep == null) keep = mask(pair == null ? null : pair.param(), r.elements());
            byte[] base = m.base().region(r.key());
            if (keep != null && base != null && base.length == v.length) {
                c = ExcpRegionCoder.expAvgSq(v, base, r.dtype(), row(r), keep, params.optBits());
            }
            if (c == null) c = ExcpRegionCoder.masked(v, r.dtype(), row(r), keep, params.optBits());
            if (c != null) {
                coded.put(ref, c);
                codings.put(ref, ExcpRegionCoder.MOMENT);
            }
        }
    }

    private static byte[] skeleton(SetMember m) throws IOException {
        Layout layout = m.layout();
        long n = layout.skeletonBytes();
        if (n > Integer.MAX_VALUE - 16) throw new IOException(m.name() + ": skeleton larger than 2 GiB is not supported");
        byte[] skel = new byte[(int) n];
        long filePos = 0;
        int at = 0;
        for (TensorRegion r : layout.regions()) {
            int gap = (int) (r.offset() - filePos);
            m.bytes().read(filePos, skel, at, gap);
            at += gap;
            filePos = r.end();
        }
        m.bytes().read(filePos, skel, at, (int) (layout.size() - filePos));
        return skel;
    }

    private EncodedFile assemble(SetMember m, Kind kind) throws IOException {
        Layout layout = m.layout();
        if (m.bytes().size() != layout.size()) {
            throw new IllegalArgumentException(m.name() + ": layout says " + layout.size() + " bytes, file has " + m.bytes().size());
        }
        Reconstruction base = kind == Kind.RESIDUAL ? m.base() : null;
        BytesOut out = new BytesOut((int) Math.min(64L << 20, layout.size() / 8 + 1024));
        ObjectEnvelope.writeHeader(out, CheckpointCodec.FORMAT_VERSION, ObjectEnvelope.randomId(), kind, layout.format(),
                layout.size(), base != null ? ObjectEnvelope.FLAG_NEEDS_BASE : 0);
        if (base != null) out.u32(BaseFingerprint.of(base));
        LayoutRecord.write(out, layout);
        byte[] skel = skeleton(m);
        SkeletonCoder.encode(skel, base == null ? null : base.skeleton(), out);

        Map<String, byte[]> regions = new HashMap<>();
        Stats stats = new Stats();
        for (TensorRegion r : layout.regions()) {
            TensorRef ref = new TensorRef(m.name(), r.key());
            ExcpRegionCoder.Coded c = coded.remove(ref);
            if (c != null) {
                int coding = codings.get(ref);
                out.u8(coding).bytes(c.stream());
                regions.put(r.key(), c.reconstruction());
                stats.add(r.role(), c);
                continue;
            }
            byte[] data = payload(m, r);
            byte[] prev = base == null ? null : base.region(r.key());
            TensorRegion prevRegion = prev == null ? null : baseRegion(base, r.key());
            if (prevRegion == null || prevRegion.dtype() != r.dtype() || prev.length != data.length) prev = null;
            out.u8(ObjectDecoder.PLANES);
            BytePlaneCoder.encode(data, r.dtype().size(), r.dtype().isFloat(), prev, out);
            regions.put(r.key(), data);
        }
        byte[] object = ObjectEnvelope.finish(out);
        Reconstruction recon = new Reconstruction(layout, skel, regions);
        return new EncodedFile(m.name(), object, recon, kind, stats.build(layout.size(), object.length));
    }

    private final Map<Reconstruction, Map<String, TensorRegion>> baseIndex = new HashMap<>();

    private TensorRegion baseRegion(Reconstruction base, String key) {
        return baseIndex.computeIfAbsent(base, b -> {
            Map<String, TensorRegion> index = new HashMap<>();
            for (TensorRegion r : b.layout().regions()) index.put(r.key(), r);
            return index;
        }).get(key);
    }

    private static final class Stats {
        long lossy, keptW, elemW, keptM, elemM;
        final double[] err = new double[3], norm = new double[3];

        void add(Role role, ExcpRegionCoder.Coded c) {
            long n = c.kept().length;
            lossy += n;
            int k = role == Role.PARAM ? 0 : role == Role.EXP_AVG ? 1 : 2;
            if (k == 0) { keptW += c.keptCount(); elemW += n; } else { keptM += c.keptCount(); elemM += n; }
            err[k] += c.errorSquared();
            norm[k] += c.normSquared();
        }

        private double rel(int k) { return norm[k] > 0 ? Math.sqrt(err[k] / norm[k]) : 0; }

        EncodeStats build(long raw, long stored) {
            return new EncodeStats(raw, stored, lossy, keptW, elemW, keptM, elemM, rel(0), rel(1), rel(2));
        }
    }
}
