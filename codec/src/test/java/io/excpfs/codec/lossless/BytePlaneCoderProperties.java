package io.excpfs.codec.lossless;

import com.github.luben.zstd.Zstd;
import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.BytesOut;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BytePlaneCoderProperties {
    private static byte[] roundTrip(byte[] data, int width, boolean rotate, byte[] base) throws Exception {
        BytesOut out = new BytesOut(16);
        BytePlaneCoder.encode(data, width, rotate, base, out);
        byte[] stream = out.toByteArray();
        byte[] got = new byte[data.length];
        BytesIn in = new BytesIn(stream, 0, stream.length);
        BytePlaneCoder.decode(in, got, base);
        assertTrue(in.remaining() == 0);
        return got;
    }

    @Property(tries = 300)
    void anyBytesRoundTripAtAnyWidth(@ForAll @Size(max = 4000) byte[] raw, @ForAll @IntRange(min = 0, max = 3) int w,
                                     @ForAll boolean rotate, @ForAll boolean withBase, @ForAll long seed) throws Exception {
        int width = 1 << w;
        byte[] data = java.util.Arrays.copyOf(raw, raw.length / width * width);
        byte[] base = null;
        if (withBase) {
            base = data.clone();
            Random r = new Random(seed);
            for (int i = 0; i < base.length; i += 1 + r.nextInt(5)) base[i] ^= (byte) r.nextInt(256);
        }
        assertArrayEquals(data, roundTrip(data, width, rotate, base));
    }

    /** Trained-weight-like fp32: beats plain zstd -19 and byte grouping + zstd -19 (ZipNN style). */
    @Test
    void beatsZstdAndByteGroupingOnGaussianWeights() throws Exception {
        Random r = new Random(3);
        int n = 1 << 18;
        ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) b.putFloat((float) (r.nextGaussian() * 0.02 * (1 + (i / 512) % 3)));
        byte[] data = b.array();
        BytesOut out = new BytesOut(4 * n);
        BytePlaneCoder.encode(data, 4, true, null, out);
        long grouped = 0;
        for (int p = 0; p < 4; p++) {
            byte[] plane = new byte[n];
            for (int i = 0; i < n; i++) plane[i] = data[4 * i + p];
            grouped += Zstd.compress(plane, 19).length;
        }
        long plain = Zstd.compress(data, 19).length;
        assertTrue(out.size() < grouped && out.size() < plain, "planes " + out.size() + " grouped " + grouped + " zstd " + plain);
        assertArrayEquals(data, roundTrip(data, 4, true, null));
    }
}
