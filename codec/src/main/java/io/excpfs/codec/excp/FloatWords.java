package io.excpfs.codec.excp;

import io.excpfs.codec.DType;

/**
 * Element access for float payload in its file dtype (little-endian): reading as fp32, and writing an fp32 result
 * back with round-to-nearest-even, exactly like {@code torch.Tensor.to(dtype)}. All arithmetic is Java float
 * arithmetic, which is deterministic, so encoder and decoder produce the same bits.
 */
public final class FloatWords {
    private FloatWords() {}

    public static float halfToFloat(int h) {
        int s = (h >>> 15) & 1, e = (h >>> 10) & 0x1F, m = h & 0x3FF;
        if (e == 0) {
            float v = m * 0x1p-24f;
            return s == 1 ? -v : v;
        }
        if (e == 31) return Float.intBitsToFloat((s << 31) | 0x7F800000 | (m << 13));
        return Float.intBitsToFloat((s << 31) | ((e - 15 + 127) << 23) | (m << 13));
    }

    public static int floatToHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7FFFFFFF;
        if (abs >= 0x7F800000) return abs == 0x7F800000 ? sign | 0x7C00 : sign | 0x7E00 | ((abs >>> 13) & 0x3FF);
        if (abs >= 0x477FF000) return sign | 0x7C00;
        if (abs < 0x38800000) return sign | (int) Math.rint(Float.intBitsToFloat(abs) * 0x1p24);
        int h = ((((abs >>> 23) - 127 + 15)) << 10) | ((abs & 0x7FFFFF) >>> 13);
        int rest = abs & 0x1FFF;
        if (rest > 0x1000 || (rest == 0x1000 && (h & 1) == 1)) h++;
        return sign | h;
    }

    public static float bf16ToFloat(int b) { return Float.intBitsToFloat(b << 16); }

    public static int floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) return ((bits >>> 16) | 0x40) & 0xFFFF;
        return ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16) & 0xFFFF;
    }

    private static int u16(byte[] b, int j) { return (b[j] & 0xFF) | (b[j + 1] & 0xFF) << 8; }

    private static int u32(byte[] b, int j) {
        return (b[j] & 0xFF) | (b[j + 1] & 0xFF) << 8 | (b[j + 2] & 0xFF) << 16 | (b[j + 3] & 0xFF) << 24;
    }

    private static long u64(byte[] b, int j) { return (u32(b, j) & 0xFFFFFFFFL) | ((long) u32(b, j + 4) << 32); }

    /** Element {@code i} as fp32 (f64 is rounded). */
    public static float get(byte[] b, DType t, int i) {
        return switch (t) {
            case F32 -> Float.intBitsToFloat(u32(b, i * 4));
            case F16 -> halfToFloat(u16(b, i * 2));
            case BF16 -> bf16ToFloat(u16(b, i * 2));
            case F64 -> (float) Double.longBitsToDouble(u64(b, i * 8));
            default -> throw new IllegalArgumentException("not a float dtype: " + t);
        };
    }

    /** The whole payload as fp32. */
    public static float[] toFloats(byte[] b, DType t) {
        int n = b.length / t.size();
        float[] out = new float[n];
        switch (t) {
            case F32 -> java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            case F16 -> { for (int i = 0, j = 0; i < n; i++, j += 2) out[i] = halfToFloat(u16(b, j)); }
            case BF16 -> { for (int i = 0, j = 0; i < n; i++, j += 2) out[i] = bf16ToFloat(u16(b, j)); }
            case F64 -> { for (int i = 0, j = 0; i < n; i++, j += 8) out[i] = (float) Double.longBitsToDouble(u64(b, j)); }
            default -> throw new IllegalArgumentException("not a float dtype: " + t);
        }
        return out;
    }

    /** Writes fp32 {@code v} as element {@code i} in dtype {@code t}. */
    public static void put(byte[] b, DType t, int i, float v) {
        switch (t) {
            case F32 -> put32(b, i * 4, Float.floatToRawIntBits(v));
            case F16 -> put16(b, i * 2, floatToHalf(v));
            case BF16 -> put16(b, i * 2, floatToBf16(v));
            case F64 -> put64(b, i * 8, Double.doubleToRawLongBits(v));
            default -> throw new IllegalArgumentException("not a float dtype: " + t);
        }
    }

    /**
     * Writes {@code base[i] + delta} as element {@code i}: in double for f64 (the base keeps its precision), in
     * float for the others, rounded to the dtype.
     */
    public static void putSum(byte[] dst, byte[] base, DType t, int i, float delta) {
        switch (t) {
            case F32 -> put32(dst, i * 4, Float.floatToRawIntBits(Float.intBitsToFloat(u32(base, i * 4)) + delta));
            case F16 -> put16(dst, i * 2, floatToHalf(halfToFloat(u16(base, i * 2)) + delta));
            case BF16 -> put16(dst, i * 2, floatToBf16(bf16ToFloat(u16(base, i * 2)) + delta));
            case F64 -> put64(dst, i * 8, Double.doubleToRawLongBits(Double.longBitsToDouble(u64(base, i * 8)) + delta));
            default -> throw new IllegalArgumentException("not a float dtype: " + t);
        }
    }

    private static void put16(byte[] b, int j, int v) {
        b[j] = (byte) v;
        b[j + 1] = (byte) (v >>> 8);
    }

    private static void put32(byte[] b, int j, int v) {
        b[j] = (byte) v;
        b[j + 1] = (byte) (v >>> 8);
        b[j + 2] = (byte) (v >>> 16);
        b[j + 3] = (byte) (v >>> 24);
    }

    private static void put64(byte[] b, int j, long v) {
        put32(b, j, (int) v);
        put32(b, j + 4, (int) (v >>> 32));
    }

    /** True when every element is finite (the lossy path is only taken for finite payloads). */
    public static boolean allFinite(float[] v) {
        for (float x : v) if (!Float.isFinite(x)) return false;
        return true;
    }
}
