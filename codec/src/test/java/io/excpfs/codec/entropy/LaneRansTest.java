package io.excpfs.codec.entropy;

import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.BytesOut;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The four-lane streams of format version 3: every model round trips through {@link ContextRans#decode} (the
 * decoder every caller uses) at every length, including the stretches where a lane runs out of words and the
 * checked one-symbol path takes over; damaged streams fail with a {@link CorruptObjectException}; committed streams
 * keep decoding; and the lanes cost next to nothing against the two-state streams of version 2.
 */
class LaneRansTest {
    private static LaneRans.Contexts model(byte[] s, int alphabet, int kind, int row, int contexts) {
        return switch (kind) {
            case 0 -> LaneRans.order0(s, s.length, alphabet);
            case 1 -> LaneRans.neighbour(s, s.length, alphabet, row);
            default -> LaneRans.previous(s, s.length, alphabet, LaneRans.pairCounts(s, s.length, alphabet), contexts);
        };
    }

    private static byte[] encode(byte[] s, int alphabet, int kind, int row, int contexts) {
        BytesOut out = new BytesOut(16);
        LaneRans.encode(s, s.length, alphabet, model(s, alphabet, kind, row, contexts), out);
        return out.toByteArray();
    }

    private static byte[] decode(byte[] stream, int n, int alphabet) throws CorruptObjectException {
        byte[] got = new byte[n];
        BytesIn in = new BytesIn(stream, 0, stream.length);
        ContextRans.decode(in, got, n, alphabet);
        assertEquals(0, in.remaining(), "stream consumed exactly");
        BytesIn skipped = new BytesIn(stream, 0, stream.length);
        ContextRans.skip(skipped, alphabet);
        assertEquals(0, skipped.remaining(), "skip ends where decode ends");
        return got;
    }

    @Test
    void everyModelRoundTripsAtEveryLength() throws Exception {
        Random cases = new Random(20261128L);
        for (int trial = 0; trial < 600; trial++) {
            long seed = cases.nextLong();
            Random r = new Random(seed);
            int alphabet = 1 << (1 + r.nextInt(8));
            int n = switch (r.nextInt(4)) {
                case 0 -> r.nextInt(9);
                case 1 -> r.nextInt(300);
                case 2 -> r.nextInt(5000);
                default -> r.nextInt(200_000);
            };
            int kind = r.nextInt(3);
            int row = r.nextInt(5) == 0 ? r.nextInt(3) : r.nextInt(300);
            int contexts = 1 + r.nextInt(LaneRans.MAX_PREVIOUS_CONTEXTS);
            byte[] s = RansStreams.symbols(r, n, alphabet);
            byte[] got = decode(encode(s, alphabet, kind, row, contexts), n, alphabet);
            assertArrayEquals(s, got, "seed " + seed + ": model " + kind + ", alphabet " + alphabet + ", n " + n + ", row " + row);
        }
    }

    @Test
    void oneSymbolEverywhereAndEverySymbolOnce() throws Exception {
        for (int n : new int[] {1, 4, 7, 100_003}) {
            byte[] same = new byte[n];
            Arrays.fill(same, (byte) 200);
            for (int kind = 0; kind < 3; kind++) assertArrayEquals(same, decode(encode(same, 256, kind, 3, 16), n, 256));
        }
        byte[] all = new byte[256 * 64];
        for (int i = 0; i < all.length; i++) all[i] = (byte) (i * 7);
        for (int kind = 0; kind < 3; kind++) assertArrayEquals(all, decode(encode(all, 256, kind, 256, 16), all.length, 256));
    }

    @Test
    void damagedStreamsFailCleanly() {
        RansStreams.damagedStreamsFailCleanly(
                (s, alphabet, r) -> encode(s, alphabet, r.nextInt(3), 1 + r.nextInt(90), 1 + r.nextInt(16)));
    }

    /** The same symbols under the four-lane streams and the two-state streams of format version 2. */
    @Test
    void lanesCostNextToNothingAgainstTwoStates() {
        Random r = new Random(7);
        long lanes = 0, twoStates = 0;
        for (int trial = 0; trial < 40; trial++) {
            int n = 50_000 + r.nextInt(200_000);
            boolean indices = trial % 2 == 0;
            int alphabet = indices ? 16 : 256;
            byte[] s = RansStreams.symbols(r, n, alphabet);
            BytesOut a = new BytesOut(16), b = new BytesOut(16);
            if (indices) {
                LaneRans.encode(s, n, alphabet, LaneRans.neighbour(s, n, alphabet, 512), a);
                ContextRans.encode(s, n, alphabet, ContextRans.Model.NEIGHBOUR, 512, b);
            } else {
                LaneRans.encode(s, n, alphabet, LaneRans.order0(s, n, alphabet), a);
                ContextRans.encode(s, n, alphabet, ContextRans.Model.ORDER0, 0, b);
            }
            lanes += a.size();
            twoStates += b.size();
        }
        assertTrue(lanes < 1.003 * twoStates, "four lanes " + lanes + " bytes, two states " + twoStates);
    }

    /**
     * Order 1 over 16 contexts of the previous symbol against full order 1 (256 contexts) on exponent-like runs whose
     * previous symbols mostly take 16 values or fewer (the exponents of one real tensor span about 25).
     */
    @Test
    void sixteenPreviousContextsKeepMostOfOrderOne() {
        Random r = new Random(11);
        int n = 400_000;
        byte[] s = new byte[n];
        int level = 120;
        for (int i = 0; i < n; i++) {
            if (r.nextInt(8) == 0) level = Math.max(112, Math.min(125, level + (int) Math.round(r.nextGaussian() * 3)));
            s[i] = (byte) (level - Math.abs((int) Math.round(r.nextGaussian())));
        }
        BytesOut order0 = new BytesOut(16), lanes = new BytesOut(16), full = new BytesOut(16);
        int[] pairs = LaneRans.pairCounts(s, n, 256);
        LaneRans.encode(s, n, 256, LaneRans.order0(pairs, 256), order0);
        LaneRans.encode(s, n, 256, LaneRans.previous(s, n, 256, pairs, 16), lanes);
        ContextRans.encode(s, n, 256, ContextRans.Model.PREVIOUS, 0, full);
        assertTrue(lanes.size() < 0.9 * order0.size(), "previous " + lanes.size() + " against order 0 " + order0.size());
        assertTrue(lanes.size() < 1.02 * full.size(), "16 contexts " + lanes.size() + " against 256 contexts " + full.size());
    }

    private static final String[] GOLDEN = {"order0", "neighbour", "previous"};

    private static byte[] goldenSymbols(int kind) {
        Random r = new Random(3000 + kind);
        return RansStreams.symbols(r, 3001 + kind, kind == 1 ? 16 : 256);
    }

    /**
     * Streams of each model written by the first version-3 encoder stay decodable; {@code -Dgolden.write=DIR}
     * (e.g. {@code src/test/resources/golden/v3}) writes them anew.
     */
    @Test
    void committedStreamsStillDecode() throws Exception {
        String write = System.getProperty("golden.write");
        for (int kind = 0; kind < 3; kind++) {
            byte[] s = goldenSymbols(kind);
            int alphabet = kind == 1 ? 16 : 256;
            String name = "rans-" + GOLDEN[kind] + ".bin";
            byte[] stream;
            if (write != null) {
                stream = encode(s, alphabet, kind, 61, 16);
                Files.write(Path.of(write, name), stream);
            } else {
                try (InputStream in = LaneRansTest.class.getResourceAsStream("/golden/v3/" + name)) {
                    assertNotNull(in, "golden stream " + name);
                    stream = in.readAllBytes();
                }
            }
            assertEquals(LaneRans.CODE_ORDER0 + kind, stream[0], "model code");
            assertArrayEquals(s, decode(stream, s.length, alphabet), GOLDEN[kind]);
        }
    }
}
