package io.excpfs.codec;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Random layouts of random dtypes, roles and payloads (NaN, Inf and all): the codec's contracts hold for all. */
class CodecProperties {
    private static final DType[] DTYPES = {DType.F32, DType.F16, DType.BF16, DType.F64, DType.I64, DType.U8};
    private static final Role[] ROLES = Role.values();

    private static FakeCheckpoint randomFile(long seed, int regions, boolean wild, Random shapeRandom) {
        Random r = new Random(seed);
        FakeCheckpoint f = new FakeCheckpoint(seed);
        Random s = new Random(shapeRandom.nextLong());
        s.setSeed(42);
        for (int k = 0; k < regions; k++) {
            byte[] gap = new byte[s.nextInt(40)];
            r.nextBytes(gap);
            f.skeleton(gap);
            DType t = DTYPES[s.nextInt(DTYPES.length)];
            Role role = t.isFloat() ? ROLES[s.nextInt(4)] : Role.NON_FLOAT;
            int n = 1 + s.nextInt(2000);
            byte[] payload = new byte[n * t.size()];
            if (wild || !t.isFloat()) {
                r.nextBytes(payload);
            } else {
                float[] v = FakeCheckpoint.gaussian(r, n, 0.02);
                f.floats("t" + k, t, role, v, n);
                continue;
            }
            f.region("t" + k, t, role, new long[] {n}, payload);
        }
        return f;
    }

    @Property(tries = 40)
    void everyObjectDecodesToItsReconstructionAndLosslessIsExact(@ForAll long seed, @ForAll @IntRange(min = 0, max = 6) int regions,
                                                                 @ForAll boolean wild, @ForAll @IntRange(min = 0, max = 2) int setting) throws Exception {
        CodecParams p = List.of(CodecParams.defaults(), CodecParams.published(), CodecParams.lossless()).get(setting);
        Random shapes = new Random(seed);
        FakeCheckpoint first = randomFile(seed, regions, wild, shapes);
        FakeCheckpoint second = randomFile(seed + 1, regions, wild, shapes);
        EncodedFile a = CheckpointCodec.encodeSet(List.of(first.member("f", null)), Pairing.none("p"), p).get(0);
        assertArrayEquals(first.bytes(), CheckpointCodec.decode(a.object(), null).toByteArray(), "seeds are lossless");
        EncodedFile b = CheckpointCodec.encodeSet(List.of(second.member("f", a.reconstruction())), Pairing.none("p"), p).get(0);
        byte[] decoded = CheckpointCodec.decode(b.object(), a.reconstruction()).toByteArray();
        assertArrayEquals(b.reconstruction().toByteArray(), decoded);
        assertEquals(second.size(), decoded.length);
        if (p.mode() == CodecParams.Mode.LOSSLESS) assertArrayEquals(second.bytes(), decoded);
        List<TensorRegion> regs = new ArrayList<>(second.layout().regions());
        for (TensorRegion r : regs) {
            if (!r.role().lossy()) {
                byte[] want = java.util.Arrays.copyOfRange(second.bytes(), (int) r.offset(), (int) r.end());
                assertArrayEquals(want, b.reconstruction().region(r.key()), "non-lossy region " + r.key() + " is exact");
            }
        }
    }
}
