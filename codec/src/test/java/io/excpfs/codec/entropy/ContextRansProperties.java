package io.excpfs.codec.entropy;

import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.BytesOut;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ContextRansProperties {
    private static byte[] roundTrip(byte[] s, int alphabet, ContextRans.Model model, int row) throws Exception {
        BytesOut out = new BytesOut(16);
        ContextRans.encode(s, s.length, alphabet, model, row, out);
        byte[] stream = out.toByteArray();
        byte[] got = new byte[s.length];
        BytesIn in = new BytesIn(stream, 0, stream.length);
        ContextRans.decode(in, got, s.length, alphabet);
        assertTrue(in.remaining() == 0, "stream consumed exactly");
        return got;
    }

    @Test
    void anySymbolsRoundTrip() throws Exception {
        Random cases = new Random(20261128);
        for (int trial = 0; trial < 300; trial++) {
            long seed = cases.nextLong();
            Random r = new Random(seed);
            int alphabet = 1 << (1 + r.nextInt(8));
            byte[] s = new byte[r.nextInt(3001)];
            for (int i = 0; i < s.length; i++) s[i] = (byte) (r.nextInt(256) % alphabet);
            ContextRans.Model model = r.nextBoolean() ? ContextRans.Model.NEIGHBOUR : ContextRans.Model.ORDER0;
            assertArrayEquals(s, roundTrip(s, alphabet, model, r.nextInt(71)), "seed " + seed);
        }
    }

    /** The cheaper of order 0 and neighbour is chosen by its estimated size, and either decodes. */
    @Test
    void cheapestModelRoundTripsAndPicksOrder0WithoutContext() throws Exception {
        Random cases = new Random(99);
        for (int trial = 0; trial < 200; trial++) {
            long seed = cases.nextLong();
            Random r = new Random(seed);
            byte[] s = new byte[1 + r.nextInt(5000)];
            int zeroPerMille = r.nextInt(1000);
            boolean clustered = r.nextBoolean();
            for (int i = 0; i < s.length; i++) {
                boolean zero = clustered ? (i / 64) % 2 == 0 : r.nextInt(1000) < zeroPerMille;
                s[i] = zero ? 0 : (byte) (1 + r.nextInt(15));
            }
            BytesOut out = new BytesOut(16);
            ContextRans.encodeCheapest(s, s.length, 16, 0, out);
            byte[] stream = out.toByteArray();
            byte[] got = new byte[s.length];
            BytesIn in = new BytesIn(stream, 0, stream.length);
            ContextRans.decode(in, got, s.length, 16);
            assertArrayEquals(s, got, "seed " + seed);
            // i.i.d. symbols: the neighbour's context carries no information, so its extra tables never pay
            if (!clustered && s.length < 300) assertTrue(stream[0] == 0, "order 0 chosen, seed " + seed);
            // runs of zeros and non-zeros: the left neighbour predicts well
            if (clustered && s.length > 2000) assertTrue(stream[0] == 1, "neighbour chosen, seed " + seed);
        }
    }

    @Test
    void skewedSymbolsRoundTrip() throws Exception {
        Random cases = new Random(7);
        for (int trial = 0; trial < 60; trial++) {
            long seed = cases.nextLong();
            Random r = new Random(seed);
            int n = 1 + r.nextInt(200_000);
            int zeroPerMille = r.nextInt(1000);
            byte[] s = new byte[n];
            for (int i = 0; i < n; i++) s[i] = r.nextInt(1000) < zeroPerMille ? 0 : (byte) (1 + r.nextInt(15));
            assertArrayEquals(s, roundTrip(s, 16, ContextRans.Model.NEIGHBOUR, 37), "seed " + seed);
        }
    }

    @Test
    void codesCloseToTheEntropy() throws Exception {
        Random r = new Random(1);
        int n = 1 << 20;
        byte[] s = new byte[n];
        int[] counts = new int[16];
        for (int i = 0; i < n; i++) {
            s[i] = r.nextInt(10) < 7 ? 0 : (byte) (1 + Math.min(14, (int) Math.abs(r.nextGaussian() * 4)));
            counts[s[i]]++;
        }
        BytesOut out = new BytesOut(n);
        ContextRans.encode(s, n, 16, ContextRans.Model.ORDER0, 0, out);
        double entropyBytes = ContextRans.entropyBits(counts) / 8;
        assertTrue(out.size() < entropyBytes * 1.01 + 200, out.size() + " bytes vs entropy " + entropyBytes);
    }
}
