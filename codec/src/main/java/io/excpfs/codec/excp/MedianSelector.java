package io.excpfs.codec.excp;

/** Exact order statistics of float arrays by quickselect (expected linear time, no full sort). */
public final class MedianSelector {
    private MedianSelector() {}

    /**
     * The lower median of {@code |values[i]|}: the element of rank {@code (n-1)/2} in ascending order, as
     * {@code torch.median} defines it. 0 for an empty array.
     */
    public static float lowerMedianAbs(float[] values) {
        int n = values.length;
        if (n == 0) return 0f;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = Math.abs(values[i]);
        return select(a, (n - 1) / 2);
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
