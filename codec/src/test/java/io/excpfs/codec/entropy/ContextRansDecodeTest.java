package io.excpfs.codec.entropy;

import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.BytesOut;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** The decode loops of every model (pairs while 4 payload bytes are left, then one symbol at a time) and bad streams. */
class ContextRansDecodeTest {
    private static byte[] encode(byte[] s, int alphabet, ContextRans.Model model, int row) {
        BytesOut out = new BytesOut(16);
        ContextRans.encode(s, s.length, alphabet, model, row, out);
        return out.toByteArray();
    }

    private static byte[] decode(byte[] stream, int n, int alphabet) throws CorruptObjectException {
        byte[] got = new byte[n];
        BytesIn in = new BytesIn(stream, 0, stream.length);
        ContextRans.decode(in, got, n, alphabet);
        assertEquals(0, in.remaining(), "stream consumed exactly");
        return got;
    }

    /** Symbols like an exponent plane (a few values, runs) or pruned indices (mostly zero, zeros in clusters). */
    private static byte[] symbols(Random r, int n, int alphabet) {
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

    @Test
    void everyModelRoundTrips() throws Exception {
        Random cases = new Random(20261128L);
        for (int trial = 0; trial < 400; trial++) {
            long seed = cases.nextLong();
            Random r = new Random(seed);
            int alphabet = 1 << (1 + r.nextInt(8));
            int n = r.nextInt(10) == 0 ? r.nextInt(5) : r.nextInt(r.nextBoolean() ? 300 : 70_000);
            ContextRans.Model model = ContextRans.Model.values()[r.nextInt(3)];
            int row = r.nextInt(5) == 0 ? r.nextInt(3) : r.nextInt(300);
            byte[] s = symbols(r, n, alphabet);
            byte[] got = decode(encode(s, alphabet, model, row), n, alphabet);
            assertArrayEquals(s, got, "seed " + seed + ": " + model + ", alphabet " + alphabet + ", n " + n + ", row " + row);
        }
    }

    @Test
    void damagedStreamsFailCleanly() {
        Random cases = new Random(99);
        int rejected = 0;
        for (int trial = 0; trial < 600; trial++) {
            long seed = cases.nextLong();
            Random r = new Random(seed);
            int alphabet = 1 << (1 + r.nextInt(8));
            int n = 1 + r.nextInt(5000);
            ContextRans.Model model = ContextRans.Model.values()[r.nextInt(3)];
            byte[] s = symbols(r, n, alphabet);
            byte[] stream = encode(s, alphabet, model, 1 + r.nextInt(90));
            int flips = 1 + r.nextInt(4);
            for (int k = 0; k < flips; k++) stream[r.nextInt(stream.length)] ^= (byte) (1 << r.nextInt(8));
            if (r.nextInt(4) == 0) stream = java.util.Arrays.copyOf(stream, r.nextInt(stream.length));
            try {
                byte[] got = new byte[n];
                ContextRans.decode(new BytesIn(stream, 0, stream.length), got, n, alphabet);
            } catch (CorruptObjectException e) {
                rejected++;
            } catch (RuntimeException e) {
                fail("seed " + seed + ": " + e, e);
            }
        }
        // a flipped bit inside a payload can still decode to other symbols; most damage must be caught
        if (rejected < 400) fail("only " + rejected + " of 600 damaged streams rejected");
    }
}
