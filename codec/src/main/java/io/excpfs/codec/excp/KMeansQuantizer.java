package io.excpfs.codec.excp;

import java.util.Arrays;

/**
 * 1-D k-means (Lloyd) on a bounded, evenly strided sample of the values. On a sorted sample every cluster is a
 * contiguous range, so one iteration is k binary searches over the midpoints plus prefix sums: the cost of fitting
 * does not grow with the tensor. Values are then assigned to their nearest centre by binary search over the
 * midpoints of the (already rounded) centres.
 */
public final class KMeansQuantizer {
    /** Sample size of the fit. */
    public static final int SAMPLE = 1 << 14;
    private static final int ITERATIONS = 40;

    private KMeansQuantizer() {}

    /**
     * Fits {@code k} centres to {@code values[0..count)} (finite). Returns them ascending; with fewer distinct values
     * than {@code k} some centres repeat.
     */
    public static float[] fit(float[] values, int count, int k) {
        float[] centres = new float[k];
        if (count == 0) return centres;
        int m = Math.min(count, SAMPLE);
        float[] sorted = new float[m];
        for (int i = 0; i < m; i++) sorted[i] = values[(int) ((long) i * count / m)];
        Arrays.sort(sorted);
        double[] s = new double[m];
        for (int i = 0; i < m; i++) s[i] = sorted[i];
        double[] prefix = new double[m + 1];
        for (int i = 0; i < m; i++) prefix[i + 1] = prefix[i] + s[i];
        double[] c = new double[k];
        for (int j = 0; j < k; j++) c[j] = s[(int) Math.min(m - 1, (long) ((j + 0.5) * m / k))];
        int[] start = new int[k + 1];
        for (int it = 0; it < ITERATIONS; it++) {
            start[0] = 0;
            start[k] = m;
            for (int j = 1; j < k; j++) start[j] = Math.max(start[j - 1], firstAbove(s, (c[j - 1] + c[j]) / 2));
            boolean moved = false;
            for (int j = 0; j < k; j++) {
                int a = start[j], b = start[j + 1];
                if (b > a) {
                    double mean = (prefix[b] - prefix[a]) / (b - a);
                    if (mean != c[j]) { c[j] = mean; moved = true; }
                }
            }
            Arrays.sort(c);
            if (!moved) break;
        }
        for (int j = 0; j < k; j++) centres[j] = (float) c[j];
        return centres;
    }

    private static int firstAbove(double[] s, double x) {
        int lo = 0, hi = s.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (s[mid] <= x) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /**
     * Midpoints between consecutive ascending centres, for {@link #assign}, padded with +Inf to a power of two
     * minus one entries so the search is branch-free.
     */
    public static float[] midpoints(float[] centres) {
        int real = Math.max(0, centres.length - 1);
        int padded = Integer.highestOneBit(real) * 2 - 1;
        float[] mids = new float[Math.max(padded, real)];
        java.util.Arrays.fill(mids, Float.POSITIVE_INFINITY);
        for (int j = 0; j < real; j++) mids[j] = (float) (((double) centres[j] + centres[j + 1]) / 2);
        return mids;
    }

    /** Index (0-based) of the nearest centre: the number of midpoints strictly below {@code x}. */
    public static int assign(float x, float[] mids) {
        int idx = 0;
        for (int step = (mids.length + 1) >>> 1; step > 0; step >>>= 1) idx += mids[idx + step - 1] < x ? step : 0;
        return idx;
    }
}
