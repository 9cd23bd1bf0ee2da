package io.excpfs.codec.excp;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class MedianSelectorProperties {
    @Test
    void lowerMedianOfAbsMatchesSorting() {
        Random cases = new Random(17);
        for (int trial = 0; trial < 60; trial++) {
            long seed = cases.nextLong();
            Random r = new Random(seed);
            int n = 1 + r.nextInt(20_000);
            boolean ties = r.nextBoolean();
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = ties ? (r.nextInt(7) - 3) * 0.25f : (float) (r.nextGaussian() * Math.exp(r.nextGaussian() * 3));
            float[] sorted = new float[n];
            for (int i = 0; i < n; i++) sorted[i] = Math.abs(v[i]);
            Arrays.sort(sorted);
            assertEquals(sorted[(n - 1) / 2], MedianSelector.lowerMedianAbs(v), "seed " + seed);
        }
    }
}
