package io.excpfs.codec;

import io.excpfs.codec.CorruptObjectException.Reason;
import io.excpfs.codec.envelope.BytesOut;
import io.excpfs.codec.envelope.ObjectEnvelope;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CorruptObjectTest {
    private static EncodedFile[] seedAndResidual() throws Exception {
        Random r = new Random(11);
        float[] w = FakeCheckpoint.gaussian(r, 600, 0.02);
        float[] m = FakeCheckpoint.gaussian(r, 600, 1e-3);
        FakeCheckpoint v1 = new FakeCheckpoint(1).skeleton("hdr").floats("w", DType.F32, Role.PARAM, w, 20, 30)
                .floats("m", DType.BF16, Role.EXP_AVG, m).skeleton("end");
        float[] w2 = w.clone();
        for (int i = 0; i < w2.length; i++) w2[i] += (float) (r.nextGaussian() * 1e-4);
        FakeCheckpoint v2 = new FakeCheckpoint(1).skeleton("hdr").floats("w", DType.F32, Role.PARAM, w2, 20, 30)
                .floats("m", DType.BF16, Role.EXP_AVG, FakeCheckpoint.gaussian(r, 600, 1e-3)).skeleton("end");
        EncodedFile seed = CheckpointCodec.encodeSet(List.of(v1.member("f", null)), Pairing.none("t"), CodecParams.defaults()).get(0);
        EncodedFile res = CheckpointCodec.encodeSet(List.of(v2.member("f", seed.reconstruction())), Pairing.none("t"), CodecParams.defaults()).get(0);
        return new EncodedFile[] {seed, res};
    }

    @Test
    void everySingleByteFlipIsDetected() throws Exception {
        EncodedFile[] e = seedAndResidual();
        Reconstruction base = e[0].reconstruction();
        for (EncodedFile f : e) {
            byte[] good = f.object();
            byte[] expected = CheckpointCodec.decode(good, base).toByteArray();
            for (int i = 0; i < good.length; i++) {
                for (int bit : new int[] {0x01, 0x80, 0xFF}) {
                    byte[] bad = good.clone();
                    bad[i] ^= (byte) bit;
                    int at = i;
                    assertThrows(CorruptObjectException.class, () -> CheckpointCodec.decode(bad, base),
                            () -> "flip at " + at + " of " + good.length + " was not detected");
                }
            }
            assertArrayEquals(expected, CheckpointCodec.decode(good, base).toByteArray());
        }
    }

    @Test
    void truncationIsReported() throws Exception {
        byte[] good = seedAndResidual()[0].object();
        for (int len : new int[] {0, 10, 40, good.length / 2, good.length - 1}) {
            byte[] cut = java.util.Arrays.copyOf(good, len);
            CorruptObjectException ex = assertThrows(CorruptObjectException.class, () -> CheckpointCodec.decode(cut, null));
            assertEquals(Reason.TRUNCATED, ex.reason(), ex.getMessage());
            assertTrue(ex.getMessage().contains("offset"), ex.getMessage());
        }
    }

    /** An object identical to {@code good} but with another version number and a valid checksum. */
    private static byte[] withVersion(byte[] good, int version) {
        byte[] b = good.clone();
        int at = 4 + 1 + ObjectEnvelope.NAME.length();
        for (int i = 0; i < 4; i++) b[at + i] = (byte) (version >>> (8 * i));
        CRC32C crc = new CRC32C();
        crc.update(b, 0, b.length - 8);
        long v = crc.getValue();
        for (int i = 0; i < 8; i++) b[b.length - 8 + i] = (byte) (v >>> (8 * i));
        return b;
    }

    @Test
    void versionOutsideTheReadableRangeIsNamed() throws Exception {
        byte[] good = seedAndResidual()[0].object();
        CorruptObjectException tooNew = assertThrows(CorruptObjectException.class, () -> CheckpointCodec.decode(withVersion(good, CheckpointCodec.FORMAT_VERSION + 1), null));
        assertEquals(Reason.TOO_NEW, tooNew.reason());
        assertTrue(tooNew.getMessage().contains("offset 18"), tooNew.getMessage());
        CorruptObjectException tooOld = assertThrows(CorruptObjectException.class, () -> CheckpointCodec.peek(withVersion(good, 0)));
        assertEquals(Reason.TOO_OLD, tooOld.reason());
        assertEquals(Reason.TOO_NEW, assertThrows(CorruptObjectException.class, () -> CheckpointCodec.peek(withVersion(good, 7))).reason());
    }

    @Test
    void unknownFeatureFlagsAreFatal() throws Exception {
        BytesOut out = new BytesOut(64);
        ObjectEnvelope.writeHeader(out, 1, new byte[16], Kind.SEED, Format.OPAQUE, 0, 0x10);
        byte[] obj = ObjectEnvelope.finish(out);
        CorruptObjectException ex = assertThrows(CorruptObjectException.class, () -> CheckpointCodec.peek(obj));
        assertEquals(Reason.CORRUPT, ex.reason());
        assertTrue(ex.getMessage().contains("unknown feature flags"), ex.getMessage());
    }

    @Test
    void residualRefusesAMissingOrWrongBase() throws Exception {
        EncodedFile[] e = seedAndResidual();
        assertEquals(Reason.WRONG_BASE, assertThrows(CorruptObjectException.class, () -> CheckpointCodec.decode(e[1].object(), null)).reason());
        assertEquals(Reason.WRONG_BASE, assertThrows(CorruptObjectException.class,
                () -> CheckpointCodec.decode(e[1].object(), e[1].reconstruction())).reason());
    }

    @Test
    void garbageIsNotAnObject() {
        byte[] junk = new byte[200];
        new Random(1).nextBytes(junk);
        assertEquals(Reason.CORRUPT, assertThrows(CorruptObjectException.class, () -> CheckpointCodec.decode(junk, null)).reason());
    }
}
