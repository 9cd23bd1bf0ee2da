package io.excpfs.codec;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Old formats stay readable: objects written by each format version are committed under {@code golden/v<N>/} with
 * the files they must decode to, and decoded on every build.
 */
class GoldenObjectTest {
    private static final String[] NAMES = {"seed", "residual-budget", "residual-published", "residual-lossless", "opaque"};

    /** The fixed inputs of the golden objects: a seed, then the next checkpoint under three settings. */
    static EncodedFile[] encodeAll() throws IOException {
        Random r = new Random(2024);
        int n = 48 * 32;
        float[] w = FakeCheckpoint.gaussian(r, n, 0.02), m = FakeCheckpoint.gaussian(r, n, 1e-3), v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (1e-6 * Math.exp(r.nextGaussian()));
        FakeCheckpoint first = file(w, m, v);
        for (int i = 0; i < n; i++) {
            w[i] += (float) (1e-3 * r.nextGaussian());
            m[i] = 0.9f * m[i] + (float) (1e-4 * r.nextGaussian());
            v[i] *= 1.05f;
        }
        FakeCheckpoint second = file(w, m, v);
        Pairing pairing = new Pairing(List.of(new MomentPair(new TensorRef("ckpt.pt", "model/w"), new TensorRef("ckpt.pt", "optimizer/state/0/exp_avg"),
                new TensorRef("ckpt.pt", "optimizer/state/0/exp_avg_sq"))), Certainty.CERTAIN, "golden", List.of());
        EncodedFile seed = CheckpointCodec.encodeSet(List.of(first.member("ckpt.pt", null)), pairing, CodecParams.defaults()).get(0);
        EncodedFile[] out = new EncodedFile[NAMES.length];
        out[0] = seed;
        CodecParams[] settings = {CodecParams.defaults(), CodecParams.published(), CodecParams.lossless()};
        for (int k = 0; k < 3; k++) {
            out[k + 1] = CheckpointCodec.encodeSet(List.of(second.member("ckpt.pt", seed.reconstruction())), pairing, settings[k]).get(0);
        }
        byte[] junk = "not a checkpoint, just some bytes ".repeat(40).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out[4] = CheckpointCodec.encodeSet(List.of(new SetMember("notes.txt", ByteSource.of(junk), Layout.opaque(junk.length, "text"), null)),
                Pairing.none("golden"), CodecParams.defaults()).get(0);
        return out;
    }

    private static FakeCheckpoint file(float[] w, float[] m, float[] v) {
        return new FakeCheckpoint(7).skeleton("PK-like header with a pickle that names model/w and the optimizer state")
                .floats("model/w", DType.F32, Role.PARAM, w, 48, 32).skeleton("...")
                .floats("optimizer/state/0/exp_avg", DType.BF16, Role.EXP_AVG, m, 48, 32)
                .floats("optimizer/state/0/exp_avg_sq", DType.F32, Role.EXP_AVG_SQ, v, 48, 32).skeleton("end of central directory");
    }

    private static byte[] resource(int version, String name) throws IOException {
        try (InputStream in = GoldenObjectTest.class.getResourceAsStream("/golden/v" + version + "/" + name)) {
            assertNotNull(in, "golden resource " + name);
            return in.readAllBytes();
        }
    }

    @Test
    void version1ObjectsStillDecodeToTheSameFiles() throws Exception {
        assertGoldenObjectsDecode(1);
    }

    /** Version 2 objects (the LINEAR_OVER_BASE codebook for exp_avg_sq) under {@code golden/v2/}, same inputs. */
    @Test
    void version2ObjectsStillDecodeToTheSameFiles() throws Exception {
        Reconstruction seed = assertGoldenObjectsDecode(2);
        // exp_avg_sq is positive everywhere in the seed: pruned elements came back as base · scale, none as 0
        byte[] v = CheckpointCodec.decode(resource(2, "residual-published.obj"), seed).region("optimizer/state/0/exp_avg_sq");
        for (int i = 0; i < v.length / 4; i++) assertTrue(io.excpfs.codec.excp.FloatWords.get(v, DType.F32, i) > 0, "v[" + i + "]");
    }

    /** Version 3 objects (four-lane rANS streams, compressed layout record) under {@code golden/v3/}, same inputs. */
    @Test
    void version3ObjectsStillDecodeToTheSameFiles() throws Exception {
        assertGoldenObjectsDecode(3);
    }

    /**
     * Decodes {@code golden/v<version>/}: the seed, then every other object against it, each to its committed
     * expected file, every object stamped with {@code version}. Returns the seed. Adding a format version writes its
     * directory first, from the codec's current version only:
     * {@code mvn -pl codec test -Dtest=GoldenObjectTest -Dgolden.write=src/test/resources/golden/vN}.
     */
    private static Reconstruction assertGoldenObjectsDecode(int version) throws Exception {
        String write = System.getProperty("golden.write");
        if (write != null && version == CheckpointCodec.FORMAT_VERSION) {
            EncodedFile[] all = encodeAll();
            Files.createDirectories(Path.of(write));
            for (int k = 0; k < NAMES.length; k++) {
                Files.write(Path.of(write, NAMES[k] + ".obj"), all[k].object());
                Files.write(Path.of(write, NAMES[k] + ".expected"), all[k].reconstruction().toByteArray());
            }
        }
        Reconstruction seed = CheckpointCodec.decode(resource(version, "seed.obj"), null);
        assertArrayEquals(resource(version, "seed.expected"), seed.toByteArray());
        for (int k = 1; k < NAMES.length; k++) {
            byte[] obj = resource(version, NAMES[k] + ".obj");
            assertEquals(version, CheckpointCodec.peek(obj).formatVersion());
            assertArrayEquals(resource(version, NAMES[k] + ".expected"), CheckpointCodec.decode(obj, seed).toByteArray(), NAMES[k]);
        }
        return seed;
    }

}
