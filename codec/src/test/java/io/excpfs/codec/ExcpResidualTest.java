package io.excpfs.codec;

import io.excpfs.codec.excp.FloatWords;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExcpResidualTest {
    private static final int N = 256;

    /** model file: one weight; optimizer file: its two moments. */
    private static List<SetMember> set(float[] w, float[] m, float[] v, DType t, Reconstruction modelBase, Reconstruction optBase) {
        FakeCheckpoint model = new FakeCheckpoint(1).skeleton("model header").floats("w", t, Role.PARAM, w, 16, w.length / 16).skeleton("end");
        FakeCheckpoint opt = new FakeCheckpoint(2).skeleton("opt header").floats("state/0/exp_avg", t, Role.EXP_AVG, m)
                .skeleton("x").floats("state/0/exp_avg_sq", t, Role.EXP_AVG_SQ, v);
        return List.of(model.member("model.safetensors", modelBase), opt.member("optimizer.pt", optBase));
    }

    private static Pairing pairing() {
        return new Pairing(List.of(new MomentPair(new TensorRef("model.safetensors", "w"), new TensorRef("optimizer.pt", "state/0/exp_avg"),
                new TensorRef("optimizer.pt", "state/0/exp_avg_sq"))), Certainty.CERTAIN, "test", List.of());
    }

    private static float[] constant(int n, float x) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, x);
        return a;
    }

    /** Encodes (zeros) as seed, then (w, m, v) as residual; returns the residual's files. */
    private static List<EncodedFile> residual(float[] w, float[] m, float[] v, CodecParams p, Pairing pairing) throws Exception {
        List<EncodedFile> seeds = CheckpointCodec.encodeSet(set(new float[w.length], new float[m.length], new float[v.length], DType.F32, null, null),
                pairing, p);
        List<EncodedFile> res = CheckpointCodec.encodeSet(set(w, m, v, DType.F32, seeds.get(0).reconstruction(), seeds.get(1).reconstruction()),
                pairing, p);
        for (int i = 0; i < 2; i++) {
            assertEquals(Kind.RESIDUAL, res.get(i).kind());
            assertArrayEquals(res.get(i).reconstruction().toByteArray(),
                    CheckpointCodec.decode(res.get(i).object(), seeds.get(i).reconstruction()).toByteArray());
        }
        return res;
    }

    private static boolean[] nonZero(Reconstruction r, String key) {
        byte[] b = r.region(key);
        boolean[] out = new boolean[b.length / 4];
        for (int i = 0; i < out.length; i++) out[i] = FloatWords.get(b, DType.F32, i) != 0f;
        return out;
    }

    /** ΔW_i = ±(i+1)/256 against a zero base: |ΔW| has lower median 128/256 = 0.5. */
    private static float[] ramp() {
        float[] w = new float[N];
        for (int i = 0; i < N; i++) w[i] = (i % 2 == 0 ? 1 : -1) * (i + 1) / 256f;
        return w;
    }

    /** |m| = 10 on [160, 224), 1 elsewhere: mean |m| = 3.25, so β = 2 keeps exactly [160, 224). */
    private static float[] moments() {
        float[] m = constant(N, 1f);
        for (int i = 160; i < 224; i++) m[i] = (i % 3 == 0) ? -10f : 10f;
        return m;
    }

    private static void assertKeptFrom(boolean[] kept, int from, int to) {
        for (int i = 0; i < kept.length; i++) assertEquals(i >= from && i < to, kept[i], "element " + i);
    }

    @Test
    void publishedRuleMatchesTheFormulaByHand() throws Exception {
        float[] v = constant(N, 1e-6f);
        // mean(v) = 1e-6, sqrt = 1e-3. α = 1.5e-3: factor min(2.5, 1.5) = 1.5, threshold 0.75 → keep (i+1)/256 > 0.75, i ≥ 192.
        CodecParams p = new CodecParams(CodecParams.Mode.EXCP, CodecParams.Keep.PUBLISHED, 1.5e-3, 2.0, 4, 4, 1.0);
        List<EncodedFile> res = residual(ramp(), moments(), v, p, pairing());
        assertKeptFrom(nonZero(res.get(0).reconstruction(), "w"), 192, N);
        assertEquals(64, res.get(0).stats().keptWeights());
        // moments: β rule keeps [160, 224), joined with the weight mask [192, 256) → [192, 224); v shares the mask.
        assertKeptFrom(nonZero(res.get(1).reconstruction(), "state/0/exp_avg"), 192, 224);
        assertKeptFrom(nonZero(res.get(1).reconstruction(), "state/0/exp_avg_sq"), 192, 224);

        // α = 5e-5: factor 0.05, threshold 0.025 → keep (i+1)/256 > 0.025, i ≥ 6.
        p = new CodecParams(CodecParams.Mode.EXCP, CodecParams.Keep.PUBLISHED, 5e-5, 2.0, 4, 4, 1.0);
        assertKeptFrom(nonZero(residual(ramp(), moments(), v, p, pairing()).get(0).reconstruction(), "w"), 6, N);
        // α = 5e-3: factor 5 is capped at 2.5, threshold 1.25 → nothing kept.
        p = new CodecParams(CodecParams.Mode.EXCP, CodecParams.Keep.PUBLISHED, 5e-3, 2.0, 4, 4, 1.0);
        assertKeptFrom(nonZero(residual(ramp(), moments(), v, p, pairing()).get(0).reconstruction(), "w"), N, N);
    }

    @Test
    void unpairedUsesTheSetMeanOfExpAvgSqAndTheBetaRuleAlone() throws Exception {
        CodecParams p = new CodecParams(CodecParams.Mode.EXCP, CodecParams.Keep.PUBLISHED, 1.5e-3, 2.0, 4, 4, 1.0);
        List<EncodedFile> res = residual(ramp(), moments(), constant(N, 1e-6f), p, Pairing.none("unsure"));
        // no pair, but the set's exp_avg_sq mean is 1e-6: factor min(2.5, 1.5e-3/1e-3) = 1.5, threshold 0.75, i ≥ 192
        assertKeptFrom(nonZero(res.get(0).reconstruction(), "w"), 192, N);
        // a larger set mean lowers the factor: v = 1e-4 → factor 0.15, threshold 0.075 → (i+1)/256 > 0.075, i ≥ 19
        res = residual(ramp(), moments(), constant(N, 1e-4f), p, Pairing.none("unsure"));
        assertKeptFrom(nonZero(res.get(0).reconstruction(), "w"), 19, N);
        assertKeptFrom(nonZero(res.get(1).reconstruction(), "state/0/exp_avg"), 160, 224);
        // unpaired v follows the exp_avg of its own optimizer state entry, as in ExCP
        assertKeptFrom(nonZero(res.get(1).reconstruction(), "state/0/exp_avg_sq"), 160, 224);
    }

    @Test
    void budgetRuleIsRelativeToTheRms() throws Exception {
        // RMS of k/256, k = 1..256: sqrt(257·513/6)/256 = 0.57905 → budget 1 keeps k ≥ 149, i ≥ 148.
        CodecParams p = new CodecParams(CodecParams.Mode.EXCP, CodecParams.Keep.BUDGET, 5e-5, 2.0, 4, 4, 1.0);
        Random r = new Random(4);
        float[] v = new float[N];
        for (int i = 0; i < N; i++) v[i] = (float) Math.exp(-14 - 6 * r.nextDouble());
        List<EncodedFile> res = residual(ramp(), moments(), v, p, pairing());
        assertKeptFrom(nonZero(res.get(0).reconstruction(), "w"), 148, N);
        assertKeptFrom(nonZero(res.get(1).reconstruction(), "state/0/exp_avg"), 160, 224);
        // v shares the exp_avg mask (its base here is all zeros, so pruned elements stay 0)
        assertKeptFrom(nonZero(res.get(1).reconstruction(), "state/0/exp_avg_sq"), 160, 224);
        // the same weights at a 1000× smaller scale keep exactly the same elements
        float[] small = ramp();
        for (int i = 0; i < N; i++) small[i] *= 1e-3f;
        assertKeptFrom(nonZero(residual(small, moments(), v, p, pairing()).get(0).reconstruction(), "w"), 148, N);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16", "F64"})
    void chainOfResidualsIsClosedLoopForEveryFloatDtype(DType t) throws Exception {
        Random r = new Random(t.ordinal());
        int n = 64 * 80;
        float[] w = FakeCheckpoint.gaussian(r, n, 0.05);
        float[] m = FakeCheckpoint.gaussian(r, n, 1e-3);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (1e-6 * Math.exp(r.nextGaussian()));
        Reconstruction[] bases = {null, null};
        double firstRel = 0;
        for (int step = 0; step < 4; step++) {
            for (int i = 0; i < n; i++) {
                float g = (float) r.nextGaussian();
                m[i] = 0.9f * m[i] + 0.1f * g * 1e-3f;
                w[i] -= 1e-3f * (float) (r.nextGaussian());
            }
            for (CodecParams p : List.of(new CodecParams(CodecParams.Mode.EXCP, CodecParams.Keep.BUDGET, 5e-5, 2.0, 4, 4, 1.0))) {
                List<EncodedFile> out = CheckpointCodec.encodeSet(set(w, m, v, t, bases[0], bases[1]), pairing(), p);
                for (int k = 0; k < 2; k++) {
                    EncodedFile e = out.get(k);
                    assertEquals(step == 0 ? Kind.SEED : Kind.RESIDUAL, e.kind());
                    Reconstruction decoded = CheckpointCodec.decode(e.object(), bases[k]);
                    assertArrayEquals(e.reconstruction().toByteArray(), decoded.toByteArray(), "step " + step + " file " + k);
                    bases[k] = decoded;
                }
                if (step > 0) {
                    EncodeStats s = out.get(0).stats();
                    assertTrue(s.weightRelError() > 0 && s.weightRelError() < 0.05, "weight error " + s.weightRelError());
                    assertTrue(s.keptWeights() > 0 && s.keptWeights() < s.weightElements());
                    if (step == 1) firstRel = s.weightRelError();
                    else assertTrue(s.weightRelError() < 3 * firstRel + 1e-3, "errors do not accumulate: " + s.weightRelError());
                    assertTrue(out.get(1).stats().expAvgRelError() < 1.0);
                    assertTrue(out.get(1).stats().expAvgSqRelError() < 0.1, "v error " + out.get(1).stats().expAvgSqRelError());
                    assertTrue(out.get(1).object().length < n * t.size(), "moments compress");
                }
            }
        }
    }

    /**
     * exp_avg_sq where exp_avg was pruned is its base times one scale per tensor, the geometric mean of v / v_base
     * over those elements (not 0, as ExCP), in every float dtype, and decode returns exactly the encoder's result.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16", "F64"})
    void prunedExpAvgSqIsItsBaseTimesOneScale(DType t) throws Exception {
        Random r = new Random(11 + t.ordinal());
        float[] v0 = new float[N], v1 = new float[N];
        for (int i = 0; i < N; i++) {
            v0[i] = (float) Math.exp(-8 - 4 * r.nextDouble());
            v1[i] = (float) (v0[i] * 0.5 * Math.exp(0.2 * r.nextGaussian()));
        }
        CodecParams p = new CodecParams(CodecParams.Mode.EXCP, CodecParams.Keep.PUBLISHED, 1.5e-3, 2.0, 4, 4, 1.0);
        List<EncodedFile> seeds = CheckpointCodec.encodeSet(set(new float[N], moments(), v0, t, null, null), pairing(), p);
        Reconstruction optBase = seeds.get(1).reconstruction();
        List<EncodedFile> res = CheckpointCodec.encodeSet(set(ramp(), moments(), v1, t, seeds.get(0).reconstruction(), optBase), pairing(), p);
        for (int k = 0; k < 2; k++) {
            assertArrayEquals(res.get(k).reconstruction().toByteArray(),
                    CheckpointCodec.decode(res.get(k).object(), seeds.get(k).reconstruction()).toByteArray(), "file " + k);
        }
        byte[] base = optBase.region("state/0/exp_avg_sq"), got = res.get(1).reconstruction().region("state/0/exp_avg_sq");
        float[] b = FloatWords.toFloats(base, t), stored = FloatWords.toFloats(encodedV(v1, t), t);
        float[] mHat = FloatWords.toFloats(res.get(1).reconstruction().region("state/0/exp_avg"), t);
        boolean[] mKept = new boolean[N];
        int pruned = 0;
        for (int i = 0; i < N; i++) {
            mKept[i] = mHat[i] != 0;
            pruned += mKept[i] ? 0 : 1;
        }
        assertTrue(pruned >= N - 64 && pruned < N, "exp_avg pruned outside (part of) [160, 224): " + pruned);
        float[] cur = FloatWords.toFloats(got, t);
        double logSum = 0;
        for (int i = 0; i < N; i++) if (!mKept[i]) logSum += Math.log(stored[i] / b[i]);
        float scale = (float) Math.exp(logSum / pruned);
        assertTrue(Math.abs(scale - 0.5) < 0.05, "scale " + scale);
        for (int i = 0; i < N; i++) {
            if (mKept[i]) continue;
            byte[] one = new byte[t.size()];
            FloatWords.put(one, t, 0, b[i] * scale);
            double expected = FloatWords.get(one, t, 0);
            assertEquals(expected, cur[i], Math.abs(expected) * 2e-2, "element " + i);
        }
    }

    /** v as stored in dtype t (what the encoder reads). */
    private static byte[] encodedV(float[] v, DType t) {
        byte[] b = new byte[v.length * t.size()];
        for (int i = 0; i < v.length; i++) FloatWords.put(b, t, i, v[i]);
        return b;
    }

    @Test
    void nonFiniteWeightsStayLossless() throws Exception {
        float[] w = ramp();
        w[3] = Float.NaN;
        w[4] = Float.NEGATIVE_INFINITY;
        List<EncodedFile> res = residual(w, moments(), constant(N, 1e-6f), CodecParams.defaults(), pairing());
        byte[] got = res.get(0).reconstruction().region("w");
        for (int i = 0; i < N; i++) assertEquals(Float.floatToRawIntBits(w[i]), Float.floatToRawIntBits(FloatWords.get(got, DType.F32, i)));
    }
}
