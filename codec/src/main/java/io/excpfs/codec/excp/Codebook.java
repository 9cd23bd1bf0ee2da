package io.excpfs.codec.excp;

import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.BytesOut;

/**
 * Values of the quantization indices: index 0 is always exact zero, indices 1..K the centres. Stored either as an
 * fp16 codebook relative to an fp32 scale ({@link #linear}: ExCP's fp16 codebook, made independent of the
 * magnitude of the tensor so tiny Adam moments do not underflow fp16), or as plain fp32 values ({@link #direct}:
 * the log-domain centres of exp_avg_sq, already exponentiated).
 *
 * <p>Stream: {@code u8 kind} (0 linear, 1 direct), {@code u8 K}, then kind 0: {@code f32 scale, K × u16 fp16};
 * kind 1: {@code K × f32}.
 */
public final class Codebook {
    private final int kind;
    private final float scale;
    private final int[] halves;
    private final float[] table;

    private Codebook(int kind, float scale, int[] halves, float[] table) {
        this.kind = kind;
        this.scale = scale;
        this.halves = halves;
        this.table = table;
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
        return new Codebook(0, scale, h, t);
    }

    public static Codebook direct(float[] values) {
        float[] t = new float[values.length + 1];
        System.arraycopy(values, 0, t, 1, values.length);
        return new Codebook(1, 1f, null, t);
    }

    /** table[0] = 0, table[j] = value of index j. Do not modify. */
    public float[] table() { return table; }

    public void write(BytesOut out) {
        out.u8(kind).u8(table.length - 1);
        if (kind == 0) {
            out.f32(scale);
            for (int h : halves) out.u8(h).u8(h >>> 8);
        } else {
            for (int j = 1; j < table.length; j++) out.f32(table[j]);
        }
    }

    public static Codebook read(BytesIn in) throws CorruptObjectException {
        int at = in.position();
        int kind = in.u8("codebook kind");
        int k = in.u8("codebook size");
        float[] t = new float[k + 1];
        if (kind == 0) {
            float scale = in.f32("codebook scale");
            if (!Float.isFinite(scale)) throw in.corrupt("codebook scale is not finite", at);
            for (int j = 1; j <= k; j++) t[j] = FloatWords.halfToFloat(in.u8("codebook entry") | in.u8("codebook entry") << 8) * scale;
        } else if (kind == 1) {
            for (int j = 1; j <= k; j++) t[j] = in.f32("codebook entry");
        } else {
            throw in.corrupt("unknown codebook kind " + kind, at);
        }
        return new Codebook(kind, 1f, null, t);
    }
}
