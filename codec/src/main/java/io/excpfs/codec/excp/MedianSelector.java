package io.excpfs.codec.excp;

/**
 * Exact order statistics of float arrays: a histogram pass over the top 16 bits, then quickselect inside one
 * bucket (two linear passes, no full sort).
 */
public final class MedianSelector {
    private MedianSelector() {}

    /**
     * The lower median of {@code |values[i]|}: the element of rank {@code (n-1)/2} in ascending order, as
     * {@code torch.median} defines it. 0 for an empty array.
     */
    public static float lowerMedianAbs(float[] values) {
        int n = values.length;
        if (n == 0) return 0f;
        int k = (n - 1) / 2;
        if (n < 4096) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) a[i] = Math.abs(values[i]);
            return select(a, k);
        }
        // radix pre-pass: the bits of a non-negative float order like the float, so a histogram of the top 16 bits
        // finds the bucket holding rank k; quickselect then runs on that bucket only
        int[] hist = new int[1 << 16];
        for (float v : values) hist[(Float.floatToRawIntBits(v) & 0x7FFFFFFF) >>> 15]++;
        int bucket = 0, before = 0;
        while (before + hist[bucket] <= k) before += hist[bucket++];
        float[] a = new float[hist[bucket]];
        int m = 0;
        for (float v : values) {
            int bits = Float.floatToRawIntBits(v) & 0x7FFFFFFF;
            if (bits >>> 15 == bucket) a[m++] = Float.intBitsToFloat(bits);
        }
        return select(a, k - before);
    }

    /** The element of rank {@code k} (0-based, ascending) of {@code a}; reorders {@code a}. */
    public static float select(float[] a, int k) {
        int lo = 0, hi = a.length - 1;
        long seed = 0x9E3779B97F4A7C15L;
        while (hi > lo) {
            if (hi - lo < 16) {
                for (int i = lo + 1; i <= hi; i++) {
                    float x = a[i];
                    int j = i - 1;
                    while (j >= lo && a[j] > x) { a[j + 1] = a[j]; j--; }
                    a[j + 1] = x;
                }
                return a[k];
            }
            seed = seed * 6364136223846793005L + 1442695040888963407L;
            int r = lo + (int) Long.remainderUnsigned(seed >>> 16, hi - lo + 1);
            float pivot = median3(a[lo], a[r], a[hi]);
            int lt = lo, i = lo, gt = hi;
            while (i <= gt) {
                float x = a[i];
                if (x < pivot) { a[i++] = a[lt]; a[lt++] = x; }
                else if (x > pivot) { a[i] = a[gt]; a[gt--] = x; }
                else i++;
            }
            if (k < lt) hi = lt - 1;
            else if (k > gt) lo = gt + 1;
            else return pivot;
        }
        return a[k];
    }

    private static float median3(float a, float b, float c) {
        return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    }
}
