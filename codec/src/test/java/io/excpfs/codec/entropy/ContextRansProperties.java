package io.excpfs.codec.entropy;

import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.BytesOut;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
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

    @Property(tries = 300)
    void anySymbolsRoundTrip(@ForAll @Size(max = 3000) byte[] raw, @ForAll @IntRange(min = 1, max = 8) int bits,
                             @ForAll boolean neighbour, @ForAll @IntRange(min = 0, max = 70) int row) throws Exception {
        int alphabet = 1 << bits;
        byte[] s = new byte[raw.length];
        for (int i = 0; i < s.length; i++) s[i] = (byte) ((raw[i] & 0xFF) % alphabet);
        ContextRans.Model model = neighbour ? ContextRans.Model.NEIGHBOUR : ContextRans.Model.ORDER0;
        assertArrayEquals(s, roundTrip(s, alphabet, model, row));
    }

    @Property(tries = 100)
    void skewedSymbolsRoundTripAndCompress(@ForAll @IntRange(min = 1, max = 200_000) int n, @ForAll @IntRange(min = 0, max = 999) int zeroPerMille,
                                           @ForAll long seed) throws Exception {
        Random r = new Random(seed);
        byte[] s = new byte[n];
        for (int i = 0; i < n; i++) s[i] = r.nextInt(1000) < zeroPerMille ? 0 : (byte) (1 + r.nextInt(15));
        assertArrayEquals(s, roundTrip(s, 16, ContextRans.Model.NEIGHBOUR, 37));
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
