package io.excpfs.codec.lossless;

import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.BytesOut;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Decoding located planes ({@link BytePlaneCoder#read} then {@link BytePlaneCoder.Planes#decode}) on payloads that
 * take every plane method (raw mantissas, rANS exponents, zstd for near-constant planes) with and without zero-word
 * flags, at every width, with and without a base.
 */
class BytePlaneDecodeTest {
    /** Float-like words: a few exponents, random mantissas; {@code zeros} of them 0, some in runs; {@code constant} planes. */
    private static byte[] payload(Random r, int n, int width, double zeros, boolean constantLow) {
        ByteBuffer b = ByteBuffer.allocate(n * width).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            boolean zero = r.nextDouble() < zeros || (i % 97 < 5 && zeros > 0);
            long w = 0;
            if (!zero) {
                double x = r.nextGaussian() * 0.02;
                w = switch (width) {
                    case 1 -> (byte) (1 + r.nextInt(3));
                    case 2 -> Short.toUnsignedLong((short) (Float.floatToRawIntBits((float) x) >>> 16));
                    case 4 -> Integer.toUnsignedLong(Float.floatToRawIntBits((float) x));
                    default -> Double.doubleToRawLongBits(x);
                };
                if (constantLow && width > 1) w &= ~0xFFL;
            }
            for (int k = 0; k < width; k++) b.put((byte) (w >>> (8 * k)));
        }
        return b.array();
    }

    @Test
    void locatedPlanesDecodeToThePayload() throws Exception {
        Random cases = new Random(4242);
        for (int trial = 0; trial < 250; trial++) {
            long seed = cases.nextLong();
            Random r = new Random(seed);
            int width = 1 << r.nextInt(4);
            int n = r.nextInt(4) == 0 ? r.nextInt(70) : r.nextInt(40_000);
            double zeros = r.nextInt(3) == 0 ? 0 : r.nextDouble() * 0.6;
            byte[] data = payload(r, n, width, zeros, r.nextBoolean());
            byte[] base = null;
            if (r.nextBoolean()) {
                base = data.clone();
                for (int i = 0; i < base.length; i += 1 + r.nextInt(40)) base[i] ^= (byte) r.nextInt(256);
            }
            BytesOut out = new BytesOut(16);
            BytePlaneCoder.encode(data, width, r.nextBoolean(), base, out);
            out.u8(0x5A); // whatever follows the stream stays unread
            byte[] stream = out.toByteArray();
            BytesIn in = new BytesIn(stream, 0, stream.length);
            BytePlaneCoder.Planes planes = BytePlaneCoder.read(in, data.length);
            assertEquals(1, in.remaining(), "seed " + seed + ": read stops at the end of the stream");
            assertEquals(base != null, planes.needsBase());
            byte[] got = new byte[data.length];
            planes.decode(got, base);
            assertArrayEquals(data, got, "seed " + seed + ", width " + width + ", n " + n + ", zeros " + zeros);
        }
    }

    @Test
    void missingBaseAndWrongLengthAreReported() throws Exception {
        Random r = new Random(5);
        byte[] data = payload(r, 5000, 4, 0.1, false);
        byte[] base = data.clone();
        base[17] ^= 1;
        BytesOut out = new BytesOut(16);
        BytePlaneCoder.encode(data, 4, true, base, out);
        byte[] stream = out.toByteArray();
        assertThrows(CorruptObjectException.class, () -> BytePlaneCoder.read(new BytesIn(stream, 0, stream.length), data.length + 4));
        BytePlaneCoder.Planes planes = BytePlaneCoder.read(new BytesIn(stream, 0, stream.length), data.length);
        assertThrows(CorruptObjectException.class, () -> planes.decode(new byte[data.length], null));
    }

    @Test
    void damagedStreamsFailCleanly() {
        Random cases = new Random(77);
        for (int trial = 0; trial < 300; trial++) {
            long seed = cases.nextLong();
            Random r = new Random(seed);
            int width = 1 << r.nextInt(4);
            byte[] data = payload(r, 1 + r.nextInt(3000), width, r.nextDouble() * 0.3, r.nextBoolean());
            BytesOut out = new BytesOut(16);
            BytePlaneCoder.encode(data, width, true, null, out);
            byte[] stream = out.toByteArray();
            for (int k = 0; k < 1 + r.nextInt(3); k++) stream[r.nextInt(stream.length)] ^= (byte) (1 << r.nextInt(8));
            try {
                BytePlaneCoder.decode(new BytesIn(stream, 0, stream.length), new byte[data.length], null);
            } catch (CorruptObjectException expected) {
                // reported as corrupt: fine
            } catch (RuntimeException e) {
                fail("seed " + seed + ": " + e, e);
            }
        }
    }
}
