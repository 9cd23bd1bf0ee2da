package io.excpfs.codec.excp;

import io.excpfs.codec.CodecParams;
import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.DType;
import io.excpfs.codec.entropy.ContextRans;
import io.excpfs.codec.entropy.LaneRans;
import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.BytesOut;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Lossy coding of one float region: prune (ExCP step 2), quantize the survivors with k-means (step 3), entropy-code
 * the indices with zero meaning "pruned" (step 4) under a neighbour context model. Four codings:
 * <ul>
 *   <li>{@link #WEIGHT}: residual against the base payload; index 0 keeps the base element bit for bit.</li>
 *   <li>{@link #MOMENT}: values; index 0 is +0.0 (pruned moments become 0, as published), or, with a
 *       {@link Codebook#LINEAR_OVER_BASE} codebook (exp_avg_sq, format version 2), the base element scaled.</li>
 *   <li>{@link #LOG_MOMENT}: exp_avg_sq kept everywhere, quantized in the log domain (index 0 only for exact
 *       zeros), so Adam's denominators stay right where exp_avg was pruned.</li>
 *   <li>{@link #LOG_RATIO_MOMENT}: the same, as log-ratio to the base's exp_avg_sq (absolute log values where the
 *       base is 0); stream: bits, ratio codebook, absolute codebook, indices.</li>
 * </ul>
 * Stream: {@code u8 bits}, {@link Codebook}, {@link ContextRans} stream of one index per element
 * (alphabet 2^bits, order-0 or neighbour model, row = last dimension for rank ≥ 2).
 */
public final class ExcpRegionCoder {
    public static final int WEIGHT = 1, MOMENT = 2, LOG_MOMENT = 3, LOG_RATIO_MOMENT = 4;

    private ExcpRegionCoder() {}

    /**
     * One coded region.
     *
     * @param stream         bytes of the region's stream
     * @param reconstruction payload decode returns, in the region's dtype
     * @param kept           per element: survived pruning (index != 0)
     * @param keptCount      number of survivors
     * @param errorSquared   Σ (x̂ − x)², in double
     * @param normSquared    Σ x², in double
     */
    public record Coded(byte[] stream, byte[] reconstruction, boolean[] kept, long keptCount, double errorSquared,
                        double normSquared) {}

    /**
     * Codes weights {@code w} against {@code base}; null when either holds a non-finite value (caller stays
     * lossless).
     */
    public static Coded weights(byte[] w, byte[] base, DType t, int row, float[] expAvgSq, CodecParams p) {
        return weights(w, base, t, row, expAvgSq, Double.NaN, p);
    }

    /** As above; {@code setMeanV} stands in for an unpaired weight's exp_avg_sq mean (see {@link JointPruner}). */
    public static Coded weights(byte[] w, byte[] base, DType t, int row, float[] expAvgSq, double setMeanV, CodecParams p) {
        float[] cur = FloatWords.toFloats(w, t);
        float[] prev = FloatWords.toFloats(base, t);
        int n = cur.length;
        float[] delta = new float[n];
        float check = 0;
        for (int i = 0; i < n; i++) {
            float d = cur[i] - prev[i];
            delta[i] = d;
            check += (cur[i] - cur[i]) + (prev[i] - prev[i]) + (d - d);
        }
        if (check != 0) return null; // x - x is NaN exactly for NaN and ±Inf, so is the sum
        float thr = JointPruner.weightThreshold(delta, expAvgSq, setMeanV, p);
        boolean[] keep = new boolean[n];
        for (int i = 0; i < n; i++) keep[i] = Math.abs(delta[i]) > thr;
        Quantized q = quantizeLinear(delta, keep, p.bits());
        byte[] recon = new byte[w.length];
        applyResidual(q.symbols, q.codebook.table(), base, recon, t);
        return finish(q, p.bits(), row, recon, cur, t);
    }

    /** Codes Adam's first moment: β rule, joined with the paired weight mask when given. */
    public static Coded expAvg(byte[] m, DType t, int row, boolean[] weightKept, CodecParams p) {
        float[] cur = FloatWords.toFloats(m, t);
        if (!FloatWords.allFinite(cur)) return null;
        float thr = JointPruner.momentThreshold(cur, p.beta());
        boolean[] keep = new boolean[cur.length];
        for (int i = 0; i < cur.length; i++) keep[i] = Math.abs(cur[i]) > thr && (weightKept == null || weightKept[i]);
        return values(cur, keep, t, row, p.optBits());
    }

    /** Codes a moment as values where {@code mask} is true (null: everywhere), zero elsewhere. */
    public static Coded masked(byte[] v, DType t, int row, boolean[] mask, int bits) {
        float[] cur = FloatWords.toFloats(v, t);
        if (!FloatWords.allFinite(cur)) return null;
        boolean[] keep = new boolean[cur.length];
        for (int i = 0; i < cur.length; i++) keep[i] = (mask == null || mask[i]) && cur[i] != 0;
        return values(cur, keep, t, row, bits);
    }

    /**
     * Codes exp_avg_sq as values where {@code mask} (the kept exp_avg) is true and v is non-zero; every other element
     * becomes its base element times one scale per tensor, {@code 2^mean(log2(v / v_base))} over those elements
     * (codebook {@link Codebook#LINEAR_OVER_BASE}). ExCP sets them to 0, which turns Adam's first steps after a
     * resume there into {@code lr · m / eps}; the scaled base keeps each element's own magnitude at no cost per
     * element. Falls back to {@link #masked} (zeros) when no element has both v and its base positive. Null when v
     * or the base is not finite.
     */
    public static Coded expAvgSq(byte[] v, byte[] base, DType t, int row, boolean[] mask, int bits) {
        float[] cur = FloatWords.toFloats(v, t);
        float[] prev = FloatWords.toFloats(base, t);
        if (!FloatWords.allFinite(cur) || !FloatWords.allFinite(prev)) return null;
        int n = cur.length;
        boolean[] keep = new boolean[n];
        double logSum = 0;
        long pruned = 0;
        for (int i = 0; i < n; i++) {
            float x = cur[i];
            keep[i] = mask[i] && x != 0;
            if (!keep[i] && x > 0 && prev[i] > 0) {
                logSum += log2(x) - log2(prev[i]);
                pruned++;
            }
        }
        if (pruned == 0) return values(cur, keep, t, row, bits);
        float baseScale = (float) StrictMath.pow(2.0, logSum / pruned);
        Quantized linear = quantizeLinear(cur, keep, bits);
        Codebook book = Codebook.linearOverBase(linear.codebook.centres(), baseScale);
        byte[] recon = new byte[v.length];
        applyOverBase(linear.symbols, book.table(), baseScale, base, recon, t);
        return finish(new Quantized(linear.symbols, keep, linear.keptCount, book), bits, row, recon, cur, t);
    }

    /** dst[i] = table[index] for index != 0, else base[i] · baseScale (fp32 multiply), rounded to the dtype. */
    static void applyOverBase(byte[] sym, float[] table, float baseScale, byte[] base, byte[] dst, DType t) {
        int n = sym.length;
        if (t == DType.F32) {
            int[] bits = new int[table.length];
            for (int k = 1; k < table.length; k++) bits[k] = Float.floatToRawIntBits(table[k]);
            for (int i = 0, j = 0; i < n; i++, j += 4) {
                int s = sym[i] & 0xFF;
                int scaled = Float.floatToRawIntBits(Float.intBitsToFloat((int) INT_LE.get(base, j)) * baseScale);
                int kept = -s >> 31;
                INT_LE.set(dst, j, (bits[s] & kept) | (scaled & ~kept));
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            int s = sym[i] & 0xFF;
            FloatWords.put(dst, t, i, s != 0 ? table[s] : FloatWords.get(base, t, i) * baseScale);
        }
    }

    /**
     * Codes exp_avg_sq densely in the log domain; null when it is not finite and non-negative. Since format version 2
     * the encoder codes every exp_avg_sq with {@link #expAvgSq} (smaller and a lower loss gap on the real-trainer
     * benchmark); this and {@link #logRatioMoment} stay as the writers of the version 1 codings they decode.
     */
    public static Coded logMoment(byte[] v, DType t, int row, int bits) {
        float[] cur = FloatWords.toFloats(v, t);
        int n = cur.length;
        float[] logs = new float[n];
        int k = 0;
        for (int i = 0; i < n; i++) {
            float x = cur[i];
            if (!(x >= 0) || x == Float.POSITIVE_INFINITY) return null;
            if (x > 0) logs[k++] = log2(x);
        }
        int centres = (1 << bits) - 1;
        float[] logCentres = KMeansQuantizer.fit(logs, k, centres);
        float[] values = new float[centres];
        for (int j = 0; j < centres; j++) values[j] = (float) StrictMath.pow(2.0, logCentres[j]);
        float[] mids = KMeansQuantizer.midpoints(logCentres);
        Codebook book = Codebook.direct(values);
        byte[] sym = new byte[n];
        boolean[] keep = new boolean[n];
        long kept = 0;
        for (int i = 0, j = 0; i < n; i++) {
            if (cur[i] > 0) {
                sym[i] = (byte) (1 + KMeansQuantizer.assign(logs[j++], mids));
                keep[i] = true;
                kept++;
            }
        }
        byte[] recon = new byte[v.length];
        applyValues(sym, book.table(), recon, t);
        return finish(new Quantized(sym, keep, kept, book), bits, row, recon, cur, t);
    }

    /**
     * log2 for the encoder's assignment (decode only reads the table): exponent plus a cubic fit of log2 on the
     * mantissa in [1, 2), error below 0.01, negligible next to a 4-bit log-domain step.
     */
    static float log2(float x) {
        int bits = Float.floatToRawIntBits(x);
        int e = (bits >>> 23) & 0xFF;
        if (e == 0) return (float) (Math.log(x) / Math.log(2));
        float m = Float.intBitsToFloat((bits & 0x7FFFFF) | 0x3F800000) - 1f;
        return (e - 127) + m * (1.4425449f + m * (-0.7181452f + m * 0.2753627f));
    }

    /**
     * Codes exp_avg_sq densely as its log-ratio to the base's exp_avg_sq, which moves slowly (an EMA with β2 close to
     * 1), so 2^bits − 1 ratio centres are fine where absolute log-domain centres must span dozens of binades.
     * Elements whose base is 0 use a second, absolute log-domain codebook. Null when either tensor has negative or
     * non-finite elements.
     */
    public static Coded logRatioMoment(byte[] v, byte[] base, DType t, int row, int bits) {
        float[] cur = FloatWords.toFloats(v, t);
        float[] prev = FloatWords.toFloats(base, t);
        int n = cur.length;
        float[] ratioLogs = new float[n], absLogs = new float[n];
        int nr = 0, na = 0;
        for (int i = 0; i < n; i++) {
            float x = cur[i], b = prev[i];
            if (!(x >= 0) || !(b >= 0) || x == Float.POSITIVE_INFINITY || b == Float.POSITIVE_INFINITY) return null;
            if (x > 0) {
                if (b > 0) ratioLogs[nr++] = log2(x) - log2(b);
                else absLogs[na++] = log2(x);
            }
        }
        int k = (1 << bits) - 1;
        float[] ratioCentres = KMeansQuantizer.fit(ratioLogs, nr, k), absCentres = KMeansQuantizer.fit(absLogs, na, k);
        float[] ratios = new float[k], absolutes = new float[k];
        for (int j = 0; j < k; j++) {
            ratios[j] = (float) StrictMath.pow(2.0, ratioCentres[j]);
            absolutes[j] = (float) StrictMath.pow(2.0, absCentres[j]);
        }
        float[] ratioMids = KMeansQuantizer.midpoints(ratioCentres), absMids = KMeansQuantizer.midpoints(absCentres);
        byte[] sym = new byte[n];
        boolean[] keep = new boolean[n];
        long kept = 0;
        for (int i = 0, jr = 0, ja = 0; i < n; i++) {
            if (cur[i] > 0) {
                sym[i] = (byte) (1 + (prev[i] > 0 ? KMeansQuantizer.assign(ratioLogs[jr++], ratioMids) : KMeansQuantizer.assign(absLogs[ja++], absMids)));
                keep[i] = true;
                kept++;
            }
        }
        Codebook ratioBook = Codebook.direct(ratios), absBook = Codebook.direct(absolutes);
        byte[] recon = new byte[v.length];
        applyRatios(sym, ratioBook.table(), absBook.table(), prev, recon, t);
        BytesOut out = new BytesOut(n / 2 + 256);
        out.u8(bits);
        ratioBook.write(out);
        absBook.write(out);
        LaneRans.encodeCheapest(sym, n, 1 << bits, row, out);
        double err = 0, norm = 0;
        float[] got = FloatWords.toFloats(recon, t);
        for (int i = 0; i < n; i++) {
            double d = (double) got[i] - cur[i];
            err += d * d;
            norm += (double) cur[i] * cur[i];
        }
        return new Coded(out.toByteArray(), recon, keep, kept, err, norm);
    }

    /** dst[i] = 0 for index 0, else base[i] · ratio[index] where base[i] > 0, else absolute[index]. */
    static void applyRatios(byte[] sym, float[] ratio, float[] absolute, float[] base, byte[] dst, DType t) {
        if (t == DType.F32) {
            for (int i = 0, j = 0; i < sym.length; i++, j += 4) {
                int s = sym[i] & 0xFF;
                float b = base[i];
                INT_LE.set(dst, j, Float.floatToRawIntBits(s == 0 ? 0f : b > 0 ? b * ratio[s] : absolute[s]));
            }
            return;
        }
        for (int i = 0; i < sym.length; i++) {
            int s = sym[i] & 0xFF;
            FloatWords.put(dst, t, i, s == 0 ? 0f : base[i] > 0 ? base[i] * ratio[s] : absolute[s]);
        }
    }

    private static Coded values(float[] cur, boolean[] keep, DType t, int row, int bits) {
        Quantized q = quantizeLinear(cur, keep, bits);
        byte[] recon = new byte[cur.length * t.size()];
        applyValues(q.symbols, q.codebook.table(), recon, t);
        return finish(q, bits, row, recon, cur, t);
    }

    private record Quantized(byte[] symbols, boolean[] kept, long keptCount, Codebook codebook) {}

    private static Quantized quantizeLinear(float[] x, boolean[] keep, int bits) {
        int n = x.length;
        float[] keptValues = new float[n];
        int k = 0;
        // without branches: about half the elements are kept, in no order a predictor could follow
        for (int i = 0; i < n; i++) {
            keptValues[k] = x[i];
            k += keep[i] ? 1 : 0;
        }
        Codebook book = Codebook.linear(KMeansQuantizer.fit(keptValues, k, (1 << bits) - 1));
        float[] table = book.table();
        float[] mids = KMeansQuantizer.midpoints(java.util.Arrays.copyOfRange(table, 1, table.length));
        byte[] sym = new byte[n];
        for (int i = 0; i < n; i++) sym[i] = (byte) ((1 + KMeansQuantizer.assign(x[i], mids)) & -(keep[i] ? 1 : 0));
        return new Quantized(sym, keep, k, book);
    }

    private static Coded finish(Quantized q, int bits, int row, byte[] recon, float[] original, DType t) {
        BytesOut out = new BytesOut(q.symbols.length / 4 + 256);
        out.u8(bits);
        q.codebook.write(out);
        LaneRans.encodeCheapest(q.symbols, q.symbols.length, 1 << bits, row, out);
        double err = 0, norm = 0;
        float[] got = FloatWords.toFloats(recon, t);
        for (int i = 0; i < original.length; i++) {
            double d = (double) got[i] - original[i];
            err += d * d;
            norm += (double) original[i] * original[i];
        }
        return new Coded(out.toByteArray(), recon, q.kept, q.keptCount, err, norm);
    }

    /** Moves {@code in} past one region stream of the given coding without decoding its indices. */
    public static void skip(int coding, BytesIn in) throws CorruptObjectException {
        int at = in.position();
        int bits = in.u8("quantization bits");
        if (bits < 1 || bits > 8) throw in.corrupt("quantization bits " + bits + " out of range", at);
        Codebook.read(in);
        if (coding == LOG_RATIO_MOMENT) Codebook.read(in);
        ContextRans.skip(in, 1 << bits);
    }

    /** Decodes a region stream of the given coding into {@code dst}. */
    public static void decode(int coding, BytesIn in, DType t, byte[] base, byte[] dst) throws CorruptObjectException {
        int at = in.position();
        int bits = in.u8("quantization bits");
        if (bits < 1 || bits > 8) throw in.corrupt("quantization bits " + bits + " out of range", at);
        Codebook book = Codebook.read(in);
        if (book.kind() == Codebook.LINEAR_OVER_BASE && coding != MOMENT) throw in.corrupt("codebook over base in coding " + coding, at);
        if (coding == LOG_RATIO_MOMENT) {
            float[] absolute = Codebook.read(in).table();
            if (book.table().length != 1 << bits || absolute.length != 1 << bits) throw in.corrupt("codebook size does not match " + bits + " bits", at);
            if (base == null || base.length != dst.length) throw in.corrupt("log-ratio moment without a matching base region", at);
            int n = dst.length / t.size();
            byte[] sym = new byte[n];
            ContextRans.decode(in, sym, n, 1 << bits);
            applyRatios(sym, book.table(), absolute, FloatWords.toFloats(base, t), dst, t);
            return;
        }
        float[] table = book.table();
        if (table.length != 1 << bits) throw in.corrupt("codebook has " + (table.length - 1) + " centres for " + bits + " bits", at);
        int n = dst.length / t.size();
        byte[] sym = new byte[n];
        ContextRans.decode(in, sym, n, 1 << bits);
        if (coding == WEIGHT) {
            if (base == null || base.length != dst.length) throw in.corrupt("weight residual without a matching base region", at);
            applyResidual(sym, table, base, dst, t);
        } else if (book.kind() == Codebook.LINEAR_OVER_BASE) {
            if (base == null || base.length != dst.length) throw in.corrupt("moment over base without a matching base region", at);
            applyOverBase(sym, table, book.baseScale(), base, dst, t);
        } else {
            applyValues(sym, table, dst, t);
        }
    }

    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    /** dst[i] = base[i] where the index is 0, else base[i] + table[index] rounded to the dtype. */
    static void applyResidual(byte[] sym, float[] table, byte[] base, byte[] dst, DType t) {
        int n = sym.length;
        if (t == DType.F32) {
            // without a branch: which elements were kept follows no pattern a predictor could learn
            for (int i = 0, j = 0; i < n; i++, j += 4) {
                int s = sym[i] & 0xFF;
                int bits = (int) INT_LE.get(base, j);
                int sum = Float.floatToRawIntBits(Float.intBitsToFloat(bits) + table[s]);
                int kept = -s >> 31;
                INT_LE.set(dst, j, (sum & kept) | (bits & ~kept));
            }
            return;
        }
        System.arraycopy(base, 0, dst, 0, dst.length);
        for (int i = 0; i < n; i++) {
            int s = sym[i] & 0xFF;
            if (s != 0) FloatWords.putSum(dst, base, t, i, table[s]);
        }
    }

    /** dst[i] = table[index] rounded to the dtype (each table entry is rounded once). */
    static void applyValues(byte[] sym, float[] table, byte[] dst, DType t) {
        int size = t.size();
        byte[] patterns = new byte[table.length * size];
        for (int k = 0; k < table.length; k++) FloatWords.put(patterns, t, k, table[k]);
        int n = sym.length;
        if (t == DType.F32) {
            int[] bits = new int[table.length];
            for (int k = 0; k < table.length; k++) bits[k] = (int) INT_LE.get(patterns, 4 * k);
            for (int i = 0, j = 0; i < n; i++, j += 4) INT_LE.set(dst, j, bits[sym[i] & 0xFF]);
            return;
        }
        for (int i = 0; i < n; i++) System.arraycopy(patterns, (sym[i] & 0xFF) * size, dst, i * size, size);
    }
}
