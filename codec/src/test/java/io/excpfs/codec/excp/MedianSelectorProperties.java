package io.excpfs.codec.excp;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class MedianSelectorProperties {
    @Property(tries = 60)
    void lowerMedianOfAbsMatchesSorting(@ForAll @IntRange(min = 1, max = 20_000) int n, @ForAll long seed, @ForAll boolean ties) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = ties ? (r.nextInt(7) - 3) * 0.25f : (float) (r.nextGaussian() * Math.exp(r.nextGaussian() * 3));
        float[] sorted = new float[n];
        for (int i = 0; i < n; i++) sorted[i] = Math.abs(v[i]);
        Arrays.sort(sorted);
        assertEquals(sorted[(n - 1) / 2], MedianSelector.lowerMedianAbs(v));
    }
}
