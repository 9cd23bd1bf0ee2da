package io.excpfs.codec.excp;

import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.BytesOut;

/**
 * Values of the quantization indices: index 0 is exact zero (or, for {@link #linearOverBase}, the base element
 * scaled), indices 1..K the centres. Stored either as an fp16 codebook relative to an fp32 scale ({@link #linear}:
 * ExCP's fp16 codebook, made independent of the magnitude of the tensor so tiny Adam moments do not underflow fp16),
 * or as plain fp32 values ({@link #direct}: the log-domain centres of exp_avg_sq, already exponentiated).
 *
 * <p>Stream: {@code u8 kind} (0 linear, 1 direct, 2 linear over base), {@code u8 K}, then kind 0:
 * {@code f32 scale, K × u16 fp16}; kind 1: {@code K × f32}; kind 2 (format version 2): as kind 0, then
 * {@code f32 baseScale}.
 */
public final class Codebook {
    public static final int LINEAR = 0, DIRECT = 1, LINEAR_OVER_BASE = 2;

    private final int kind;
    private final float scale;
    private final int[] halves;
    private final float[] table;
    private final float baseScale;

    private Codebook(int kind, float scale, int[] halves, float[] table, float baseScale) {
        this.kind = kind;
        this.scale = scale;
        this.halves = halves;
        this.table = table;
        this.baseScale = baseScale;
    }

    /** Rounds ascending centres to fp16 × scale; the table holds the values decode will use. */
    public static Codebook linear(float[] centres) {
        float max = 0;
        for (float c : centres) max = Math.max(max, Math.abs(c));
        float scale = max > 0 && Float.isFinite(max) ? max : 1f;
        int[] h = new int[centres.length];
        float[] t = new float[centres.length + 1];
        for (int j = 0; j < centres.length; j++) {
            h[j] = FloatWords.floatToHalf(centres[j] / scale);
            t[j + 1] = FloatWords.halfToFloat(h[j]) * scale;
        }
        return new Codebook(LINEAR, scale, h, t, 0f);
    }

    /**
     * As {@link #linear}, except that index 0 stands for the base element times {@code baseScale} (fp32 multiply,
     * rounded to the dtype) instead of zero: what pruned exp_avg_sq elements become.
     */
    public static Codebook linearOverBase(float[] centres, float baseScale) {
        Codebook c = linear(centres);
        return new Codebook(LINEAR_OVER_BASE, c.scale, c.halves, c.table, baseScale);
    }

    public static Codebook direct(float[] values) {
        float[] t = new float[values.length + 1];
        System.arraycopy(values, 0, t, 1, values.length);
        return new Codebook(DIRECT, 1f, null, t, 0f);
    }

    public int kind() { return kind; }

    /** The centres as coded (table[1..K]). */
    float[] centres() { return java.util.Arrays.copyOfRange(table, 1, table.length); }

    /** The factor of the base element that index 0 stands for ({@link #LINEAR_OVER_BASE}); 0 otherwise. */
    public float baseScale() { return baseScale; }

    /** table[0] = 0, table[j] = value of index j. Do not modify. */
    public float[] table() { return table; }

    public void write(BytesOut out) {
        out.u8(kind).u8(table.length - 1);
        if (kind == DIRECT) {
            for (int j = 1; j < table.length; j++) out.f32(table[j]);
            return;
        }
        out.f32(scale);
        for (int h : halves) out.u8(h).u8(h >>> 8);
        if (kind == LINEAR_OVER_BASE) out.f32(baseScale);
    }

    public static Codebook read(BytesIn in) throws CorruptObjectException {
        int at = in.position();
        int kind = in.u8("codebook kind");
        int k = in.u8("codebook size");
        float[] t = new float[k + 1];
        float baseScale = 0f;
        if (kind == LINEAR || kind == LINEAR_OVER_BASE) {
            float scale = in.f32("codebook scale");
            if (!Float.isFinite(scale)) throw in.corrupt("codebook scale is not finite", at);
            for (int j = 1; j <= k; j++) t[j] = FloatWords.halfToFloat(in.u8("codebook entry") | in.u8("codebook entry") << 8) * scale;
            if (kind == LINEAR_OVER_BASE) {
                baseScale = in.f32("codebook base scale");
                if (!Float.isFinite(baseScale) || baseScale < 0) throw in.corrupt("codebook base scale " + baseScale + " is not finite and non-negative", at);
            }
        } else if (kind == DIRECT) {
            for (int j = 1; j <= k; j++) t[j] = in.f32("codebook entry");
        } else {
            throw in.corrupt("unknown codebook kind " + kind, at);
        }
        return new Codebook(kind, 1f, null, t, baseScale);
    }
}
