package io.excpfs.codec.pairing;

import io.excpfs.codec.DType;
import io.excpfs.codec.Reconstruction;
import io.excpfs.codec.SetMember;
import io.excpfs.codec.TensorRegion;
import io.excpfs.codec.pairing.OptimizerState.Slot;
import io.excpfs.codec.pairing.ParamPool.Candidate;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Evidence from content that a parameter and an {@code exp_avg} belong together: Adam moves a weight against its
 * first moment, so the change since the base, {@code W − Wbase}, agrees in sign with {@code −exp_avg} far more often
 * for the right parameter than for another one of the same shape.
 *
 * <p>The score is {@code (agree − disagree) / counted} over a fixed sample of element positions (up to
 * {@value #BLOCKS} blocks of {@value #BLOCK} consecutive elements spread over the tensor) where both values are
 * non-zero and finite: about 0 for unrelated tensors (standard deviation {@code 1/sqrt(counted)}), 0.1–0.7 for the
 * right one. Tensors that share a feature axis (the layer-norm weights of a residual stream) also correlate, so a
 * decision needs a clear margin over the runner-up, see {@link #decisive}.
 *
 * <p>Only matrices (rank >= 2) are scored. Vectors (norm weights, biases) move coherently, all elements together,
 * so their sign test rests on few independent values: on a real AdamW run 200 steps apart a layer norm's own
 * {@code exp_avg} scored -0.53 against it and 0.72 against another layer's norm.
 */
final class ContentEvidence {
    static final int BLOCKS = 64, BLOCK = 64;
    /** Least score of an accepted pair. */
    static final double MIN_SCORE = 0.1;
    /** Least margin over the runner-up, and over {@code 4/sqrt(counted)}, the noise of an unrelated pair. */
    static final double MIN_MARGIN = 0.1;
    static final int MIN_COUNTED = 256;

    private final List<SetMember> members;
    private final Map<Candidate, float[]> deltas = new HashMap<>();
    private final Map<Slot, float[]> moments = new HashMap<>();

    ContentEvidence(List<SetMember> members) { this.members = members; }

    /** Whether any parameter can be compared with its base at all. */
    static boolean available(List<SetMember> members) {
        return members.stream().anyMatch(m -> m.base() != null);
    }

    /** A score, or null when there is no evidence (no base, no exp_avg, too few non-zero values). */
    record Score(double value, int counted) {
        double noise() { return 4 / Math.sqrt(counted); }
    }

    Score score(Slot slot, Candidate c) {
        if (c.shape().length < 2) return null;
        float[] d = delta(c), m = moment(slot);
        if (d == null || m == null || d.length != m.length) return null;
        int agree = 0, counted = 0;
        for (int i = 0; i < d.length; i++) {
            if (d[i] == 0 || m[i] == 0 || !Float.isFinite(d[i]) || !Float.isFinite(m[i])) continue;
            counted++;
            if ((d[i] > 0) != (m[i] > 0)) agree++;
        }
        if (counted < MIN_COUNTED) return null;
        return new Score((2.0 * agree - counted) / counted, counted);
    }

    /** True when {@code best} beats {@code runnerUp} (null: no rival) clearly enough to decide. */
    static boolean decisive(Score best, Score runnerUp) {
        if (best == null || best.value() < MIN_SCORE) return false;
        double rival = runnerUp == null ? 0 : Math.max(0, runnerUp.value());
        return best.value() - rival >= Math.max(MIN_MARGIN, best.noise());
    }

    private float[] delta(Candidate c) {
        return deltas.computeIfAbsent(c, k -> {
            SetMember m = members.get(k.member());
            if (m.base() == null) return null;
            TensorRegion r = k.region();
            byte[] base = m.base().region(r.key());
            TensorRegion baseRegion = regionOf(m.base(), r.key());
            if (base == null || baseRegion == null || baseRegion.dtype() != r.dtype() || base.length != r.length()) return null;
            float[] now = sample(m, r);
            float[] before = sample(base, r.dtype(), r.elements());
            for (int i = 0; i < now.length; i++) now[i] -= before[i];
            return now;
        });
    }

    private float[] moment(Slot s) {
        return moments.computeIfAbsent(s, k -> {
            if (k.expAvg() == null) return null;
            for (SetMember m : members) if (m.name().equals(k.file())) return sample(m, k.expAvg());
            return null;
        });
    }

    private static TensorRegion regionOf(Reconstruction base, String key) {
        for (TensorRegion r : base.layout().regions()) if (r.key().equals(key)) return r;
        return null;
    }

    /** Element positions sampled from a tensor of {@code n} elements: block starts, each block {@value #BLOCK} long. */
    static long[] blockStarts(long n) {
        if (n <= (long) BLOCKS * BLOCK) return new long[] {0};
        long[] starts = new long[BLOCKS];
        for (int b = 0; b < BLOCKS; b++) starts[b] = b * ((n - BLOCK) / (BLOCKS - 1));
        return starts;
    }

    static int blockLength(long n) { return (int) Math.min(n, n <= (long) BLOCKS * BLOCK ? n : BLOCK); }

    private static float[] sample(SetMember m, TensorRegion r) {
        long n = r.elements();
        long[] starts = blockStarts(n);
        int len = blockLength(n);
        int size = r.dtype().size();
        float[] out = new float[starts.length * len];
        try {
            for (int b = 0; b < starts.length; b++) {
                byte[] raw = m.bytes().read(r.offset() + starts[b] * size, len * size);
                decode(raw, 0, r.dtype(), out, b * len, len);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static float[] sample(byte[] payload, DType dtype, long n) {
        long[] starts = blockStarts(n);
        int len = blockLength(n);
        float[] out = new float[starts.length * len];
        for (int b = 0; b < starts.length; b++) decode(payload, (int) (starts[b] * dtype.size()), dtype, out, b * len, len);
        return out;
    }

    static void decode(byte[] src, int off, DType dtype, float[] dst, int dstOff, int count) {
        for (int i = 0; i < count; i++) {
            int p = off + i * dtype.size();
            dst[dstOff + i] = switch (dtype) {
                case F32 -> Float.intBitsToFloat(le32(src, p));
                case F64 -> (float) Double.longBitsToDouble((le32(src, p) & 0xffffffffL) | ((long) le32(src, p + 4) << 32));
                case BF16 -> Float.intBitsToFloat(le16(src, p) << 16);
                case F16 -> halfToFloat(le16(src, p));
                default -> Float.NaN;
            };
        }
    }

    private static int le32(byte[] b, int p) {
        return (b[p] & 0xff) | (b[p + 1] & 0xff) << 8 | (b[p + 2] & 0xff) << 16 | (b[p + 3] & 0xff) << 24;
    }

    private static int le16(byte[] b, int p) { return (b[p] & 0xff) | (b[p + 1] & 0xff) << 8; }

    static float halfToFloat(int h) {
        int sign = (h & 0x8000) << 16, exp = (h >>> 10) & 0x1f, mant = h & 0x3ff;
        if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | mant << 13);
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | (exp + 112) << 23 | mant << 13);
    }
}
