package io.excpfs.codec;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LosslessRoundTripTest {
    /** Every 16-bit pattern, including NaN payloads, infinities, -0.0 and subnormals. */
    private static byte[] all16() {
        byte[] b = new byte[65536 * 2];
        for (int i = 0; i < 65536; i++) { b[2 * i] = (byte) i; b[2 * i + 1] = (byte) (i >>> 8); }
        return b;
    }

    private static byte[] special32(Random r, int n) {
        int[] specials = {0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7FA12345, 0xFFFFFFFF, 0x00000001, 0x807FFFFF, 0};
        byte[] b = new byte[n * 4];
        for (int i = 0; i < n; i++) {
            int v = i < specials.length ? specials[i] : Float.floatToRawIntBits((float) (r.nextGaussian() * 0.02));
            for (int k = 0; k < 4; k++) b[4 * i + k] = (byte) (v >>> (8 * k));
        }
        return b;
    }

    private static byte[] special64(Random r, int n) {
        long[] specials = {0x8000000000000000L, 0x7FF0000000000000L, 0x7FF8000000000001L, 0xFFF0000000000000L, 1L};
        byte[] b = new byte[n * 8];
        for (int i = 0; i < n; i++) {
            long v = i < specials.length ? specials[i] : Double.doubleToRawLongBits(r.nextGaussian());
            for (int k = 0; k < 8; k++) b[8 * i + k] = (byte) (v >>> (8 * k));
        }
        return b;
    }

    static FakeCheckpoint everyDtype(long seed) {
        Random r = new Random(seed);
        byte[] ints = new byte[800];
        r.nextBytes(ints);
        return new FakeCheckpoint(seed).skeleton("{\"header\": \"fake\"}")
                .region("bf16", DType.BF16, Role.PARAM, new long[] {256, 256}, all16())
                .skeleton("pad")
                .region("f16", DType.F16, Role.EXP_AVG, new long[] {65536}, all16())
                .region("f32", DType.F32, Role.PARAM, new long[] {100, 50}, special32(r, 5000))
                .region("f64", DType.F64, Role.EXP_AVG_SQ, new long[] {3000}, special64(r, 3000))
                .region("step", DType.F32, Role.OTHER_FLOAT, new long[] {}, special32(r, 1))
                .region("ids", DType.I64, Role.NON_FLOAT, new long[] {100}, ints)
                .skeleton("tail of the file");
    }

    @Test
    void seedRoundTripsEveryBitPatternOfEveryDtype() throws Exception {
        FakeCheckpoint f = everyDtype(1);
        for (CodecParams p : List.of(CodecParams.defaults(), CodecParams.published(), CodecParams.lossless())) {
            EncodedFile e = CheckpointCodec.encodeSet(List.of(f.member("a.safetensors", null)), Pairing.none("test"), p).get(0);
            assertEquals(Kind.SEED, e.kind());
            assertArrayEquals(f.bytes(), e.reconstruction().toByteArray());
            Reconstruction d = CheckpointCodec.decode(e.object(), null);
            assertArrayEquals(f.bytes(), d.toByteArray());
            ObjectInfo info = CheckpointCodec.peek(e.object());
            assertEquals(Kind.SEED, info.kind());
            assertFalse(info.needsBase());
            assertEquals(f.size(), info.rawBytes());
            assertEquals(Format.SAFETENSORS, info.format());
            assertEquals(32, info.id().length());
        }
    }

    @Test
    void opaqueFileRoundTrips() throws Exception {
        byte[] data = new byte[100_000];
        new Random(3).nextBytes(data);
        for (int i = 0; i < 50_000; i++) data[i] = (byte) (i % 7);
        SetMember m = new SetMember("x.bin", ByteSource.of(data), Layout.opaque(data.length, "unknown"), null);
        EncodedFile e = CheckpointCodec.encodeSet(List.of(m), Pairing.none("test"), CodecParams.defaults()).get(0);
        assertEquals(Kind.OPAQUE, e.kind());
        assertTrue(e.object().length < data.length - 40_000, "repetitive half compresses");
        assertArrayEquals(data, CheckpointCodec.decode(e.object(), null).toByteArray());
        assertEquals(Kind.OPAQUE, CheckpointCodec.peek(e.object()).kind());
    }

    @Test
    void emptyOpaqueFileRoundTrips() throws Exception {
        SetMember m = new SetMember("empty", ByteSource.of(new byte[0]), Layout.opaque(0, "empty"), null);
        EncodedFile e = CheckpointCodec.encodeSet(List.of(m), Pairing.none("test"), CodecParams.defaults()).get(0);
        assertEquals(0, CheckpointCodec.decode(e.object(), null).size());
    }

    @Test
    void losslessResidualIsExactAndSmallerThanItsSeed() throws Exception {
        Random r = new Random(5);
        float[] w = FakeCheckpoint.gaussian(r, 20_000, 0.02);
        float[] w2 = w.clone();
        for (int i = 0; i < w2.length; i += 3) w2[i] += (float) (r.nextGaussian() * 1e-5);
        FakeCheckpoint v1 = new FakeCheckpoint(1).skeleton("header v1").floats("w", DType.F32, Role.PARAM, w).skeleton("end");
        FakeCheckpoint v2 = new FakeCheckpoint(1).skeleton("header v2").floats("w", DType.F32, Role.PARAM, w2).skeleton("end");
        EncodedFile seed = CheckpointCodec.encodeSet(List.of(v1.member("m", null)), Pairing.none("t"), CodecParams.lossless()).get(0);
        EncodedFile res = CheckpointCodec.encodeSet(List.of(v2.member("m", seed.reconstruction())), Pairing.none("t"), CodecParams.lossless()).get(0);
        assertEquals(Kind.RESIDUAL, res.kind());
        assertTrue(CheckpointCodec.peek(res.object()).needsBase());
        Reconstruction base = CheckpointCodec.decode(seed.object(), null);
        assertArrayEquals(v2.bytes(), CheckpointCodec.decode(res.object(), base).toByteArray());
        assertArrayEquals(v2.bytes(), res.reconstruction().toByteArray());
        assertTrue(res.object().length < seed.object().length * 0.8, res.object().length + " vs seed " + seed.object().length);
    }

    @Test
    void changedTensorSetMakesASeed() throws Exception {
        FakeCheckpoint v1 = new FakeCheckpoint(1).floats("w", DType.F32, Role.PARAM, new float[1000]);
        FakeCheckpoint v2 = new FakeCheckpoint(1).floats("w", DType.F32, Role.PARAM, new float[1001]);
        EncodedFile seed = CheckpointCodec.encodeSet(List.of(v1.member("m", null)), Pairing.none("t"), CodecParams.defaults()).get(0);
        EncodedFile next = CheckpointCodec.encodeSet(List.of(v2.member("m", seed.reconstruction())), Pairing.none("t"), CodecParams.defaults()).get(0);
        assertEquals(Kind.SEED, next.kind());
        assertArrayEquals(v2.bytes(), CheckpointCodec.decode(next.object(), null).toByteArray());
    }

    @Test
    void crcPatchesAreRecomputedIdenticallyOnDecode() throws Exception {
        Random r = new Random(9);
        FakeCheckpoint f = new FakeCheckpoint(2).skeleton(new byte[30]);
        f.floats("w", DType.F32, Role.PARAM, FakeCheckpoint.gaussian(r, 4096, 0.02));
        int dataEnd = f.size();
        f.skeleton(new byte[8]).crcPatch(new CrcPatch(30, dataEnd - 30, List.of(4L, (long) dataEnd)));
        SetMember seedMember = f.member("m", null);
        EncodedFile seed = CheckpointCodec.encodeSet(List.of(seedMember), Pairing.none("t"), CodecParams.defaults()).get(0);
        float[] w2 = FakeCheckpoint.gaussian(r, 4096, 0.02);
        FakeCheckpoint g = new FakeCheckpoint(2).skeleton(new byte[30]).floats("w", DType.F32, Role.PARAM, w2)
                .skeleton(new byte[8]).crcPatch(new CrcPatch(30, dataEnd - 30, List.of(4L, (long) dataEnd)));
        EncodedFile res = CheckpointCodec.encodeSet(List.of(g.member("m", seed.reconstruction())), Pairing.none("t"), CodecParams.defaults()).get(0);
        assertEquals(Kind.RESIDUAL, res.kind());
        byte[] got = CheckpointCodec.decode(res.object(), CheckpointCodec.decode(seed.object(), null)).toByteArray();
        assertArrayEquals(res.reconstruction().toByteArray(), got);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(got, 30, dataEnd - 30);
        long stored = (got[4] & 0xFFL) | (got[5] & 0xFFL) << 8 | (got[6] & 0xFFL) << 16 | (got[7] & 0xFFL) << 24;
        assertEquals(crc.getValue(), stored);
        assertEquals(Map.of(), Map.of());
    }
}
