package io.excpfs.codec.entropy;

import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.BytesOut;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
            byte[] s = RansStreams.symbols(r, n, alphabet);
            byte[] got = decode(encode(s, alphabet, model, row), n, alphabet);
            assertArrayEquals(s, got, "seed " + seed + ": " + model + ", alphabet " + alphabet + ", n " + n + ", row " + row);
        }
    }

    @Test
    void damagedStreamsFailCleanly() {
        RansStreams.damagedStreamsFailCleanly((s, alphabet, r) -> {
            ContextRans.Model model = ContextRans.Model.values()[r.nextInt(3)];
            return encode(s, alphabet, model, 1 + r.nextInt(90));
        });
    }
}
