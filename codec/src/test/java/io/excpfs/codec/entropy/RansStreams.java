package io.excpfs.codec.entropy;

import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.envelope.BytesIn;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.fail;

/** Symbol streams and damage shared by the tests of both rANS coders (two-state and four-lane). */
final class RansStreams {
    private RansStreams() {}

    /** Encodes {@code s} (symbols below {@code alphabet}) with a model the coder picks from {@code r}. */
    @FunctionalInterface
    interface Coder {
        byte[] encode(byte[] s, int alphabet, Random r);
    }

    /** Symbols like an exponent plane (a few values, runs) or pruned indices (mostly zero, zeros in clusters). */
    static byte[] symbols(Random r, int n, int alphabet) {
        byte[] s = new byte[n];
        int zeroPerMille = r.nextInt(1001);
        int spread = 1 + r.nextInt(alphabet);
        int centre = r.nextInt(alphabet);
        for (int i = 0; i < n; i++) {
            boolean zero = r.nextInt(1000) < zeroPerMille || (i > 0 && s[i - 1] == 0 && r.nextInt(4) == 0);
            s[i] = zero ? 0 : (byte) Math.floorMod(centre + (int) (r.nextGaussian() * spread), alphabet);
        }
        return s;
    }

    /**
     * 600 streams of {@code coder}, each with one to four flipped bits and a quarter of them cut short, decoded
     * through {@link ContextRans#decode}: none may fail with anything but {@link CorruptObjectException}, and at
     * least 400 must be rejected (a flipped bit inside a payload can still decode to other symbols).
     */
    static void damagedStreamsFailCleanly(Coder coder) {
        Random cases = new Random(99);
        int rejected = 0;
        for (int trial = 0; trial < 600; trial++) {
            long seed = cases.nextLong();
            Random r = new Random(seed);
            int alphabet = 1 << (1 + r.nextInt(8));
            int n = 1 + r.nextInt(5000);
            byte[] stream = coder.encode(symbols(r, n, alphabet), alphabet, r);
            int flips = 1 + r.nextInt(4);
            for (int k = 0; k < flips; k++) stream[r.nextInt(stream.length)] ^= (byte) (1 << r.nextInt(8));
            if (r.nextInt(4) == 0) stream = Arrays.copyOf(stream, r.nextInt(stream.length));
            try {
                ContextRans.decode(new BytesIn(stream, 0, stream.length), new byte[n], n, alphabet);
            } catch (CorruptObjectException e) {
                rejected++;
            } catch (RuntimeException e) {
                fail("seed " + seed + ": " + e, e);
            }
        }
        if (rejected < 400) fail("only " + rejected + " of 600 damaged streams rejected");
    }
}
