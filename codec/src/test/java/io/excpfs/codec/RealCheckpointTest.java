package io.excpfs.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.luben.zstd.Zstd;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Real AdamW checkpoints of a small GPT trained by torch (bench/scripts/real_checkpoints.py, 20 steps apart): the
 * lossless codec beats zstd -19 and byte grouping + zstd -19 on the seed and on the residual, and ExCP residuals
 * are many times smaller, decode to their reconstruction and keep the weights close.
 */
@Tag("slow")
class RealCheckpointTest {
    @TempDir
    static Path dir;
    static byte[][] files = new byte[2][];
    static Layout layout;
    static Pairing pairing;

    @BeforeAll
    static void train() throws Exception {
        Path script = Path.of("..", "bench", "scripts", "real_checkpoints.py").toAbsolutePath();
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")) && Files.exists(script), "needs /usr/bin/python3 and the dump script");
        Process probe = new ProcessBuilder("/usr/bin/python3", "-c", "import torch").redirectErrorStream(true).start();
        assumeTrue(probe.waitFor(120, TimeUnit.SECONDS) && probe.exitValue() == 0, "needs torch in /usr/bin/python3");
        Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), dir.toString(), "40", "20", "128", "2")
                .redirectErrorStream(true).redirectOutput(dir.resolve("train.log").toFile()).start();
        assertTrue(p.waitFor(15, TimeUnit.MINUTES) && p.exitValue() == 0, () -> "training failed: " + read(dir.resolve("train.log")));
        for (int k = 0; k < 2; k++) files[k] = Files.readAllBytes(dir.resolve("step-" + (20 * (k + 1))).resolve("tensors.bin"));
        JsonNode index = new ObjectMapper().readTree(dir.resolve("step-20").resolve("index.json").toFile());
        List<TensorRegion> regions = new ArrayList<>();
        Map<String, String[]> byParam = new LinkedHashMap<>();
        for (JsonNode t : index) {
            long[] shape = new long[t.get("shape").size()];
            for (int i = 0; i < shape.length; i++) shape[i] = t.get("shape").get(i).asLong();
            Role role = Role.valueOf(t.get("role").asText());
            regions.add(new TensorRegion(t.get("key").asText(), DType.F32, shape, t.get("offset").asLong(), t.get("length").asLong(), role));
            byParam.computeIfAbsent(t.get("param").asText(), x -> new String[3])[role.ordinal()] = t.get("key").asText();
        }
        List<MomentPair> pairs = new ArrayList<>();
        for (String[] r : byParam.values()) pairs.add(new MomentPair(new TensorRef("ckpt", r[0]), new TensorRef("ckpt", r[1]), new TensorRef("ckpt", r[2])));
        layout = new Layout(Format.SAFETENSORS, files[0].length, regions, List.of(), "torch dump", Map.of(), Map.of());
        pairing = new Pairing(pairs, Certainty.CERTAIN, "dump index", List.of());
    }

    private static String read(Path p) {
        try { return Files.readString(p); } catch (Exception e) { return e.toString(); }
    }

    private static SetMember member(int k, Reconstruction base) { return new SetMember("ckpt", ByteSource.of(files[k]), layout, base); }

    private static long grouped(byte[] b, byte[] base) {
        int n = b.length / 4;
        long total = 0;
        for (int p = 0; p < 4; p++) {
            byte[] plane = new byte[n];
            for (int i = 0; i < n; i++) plane[i] = (byte) (b[4 * i + p] ^ (base == null ? 0 : base[4 * i + p]));
            total += Zstd.compress(plane, 19).length;
        }
        return total;
    }

    @Test
    void losslessBeatsZstdAndByteGroupingOnSeedAndResidual() throws Exception {
        EncodedFile seed = CheckpointCodec.encodeSet(List.of(member(0, null)), pairing, CodecParams.lossless()).get(0);
        long plain = Zstd.compress(files[0], 19).length, byteGroups = grouped(files[0], null);
        assertTrue(seed.object().length < plain && seed.object().length < byteGroups,
                "seed " + seed.object().length + " vs zstd -19 " + plain + ", byte groups + zstd -19 " + byteGroups);
        EncodedFile res = CheckpointCodec.encodeSet(List.of(member(1, seed.reconstruction())), pairing, CodecParams.lossless()).get(0);
        long xorGroups = grouped(files[1], files[0]);
        System.out.printf("real %d bytes: seed excpfs %d, zstd -19 %d, byte groups + zstd -19 %d; residual excpfs %d, XOR + byte groups + zstd -19 %d%n",
                files[0].length, seed.object().length, plain, byteGroups, res.object().length, xorGroups);
        assertTrue(res.object().length < xorGroups, "residual " + res.object().length + " vs XOR + byte groups + zstd -19 " + xorGroups);
        assertArrayEquals(files[1], CheckpointCodec.decode(res.object(), CheckpointCodec.decode(seed.object(), null)).toByteArray());
    }

    @Test
    void excpResidualsAreSmallAndClose() throws Exception {
        for (CodecParams p : List.of(CodecParams.published(), CodecParams.defaults())) {
            EncodedFile seed = CheckpointCodec.encodeSet(List.of(member(0, null)), pairing, p).get(0);
            assertEquals(Kind.SEED, seed.kind());
            EncodedFile res = CheckpointCodec.encodeSet(List.of(member(1, seed.reconstruction())), pairing, p).get(0);
            assertEquals(Kind.RESIDUAL, res.kind());
            assertArrayEquals(res.reconstruction().toByteArray(), CheckpointCodec.decode(res.object(), seed.reconstruction()).toByteArray());
            double ratio = (double) files[1].length / res.object().length;
            System.out.printf("real %s: residual %d bytes (%.1fx), weights kept %d/%d, rel err w %.2e m %.3f v %.3f%n", p.keep(),
                    res.object().length, ratio, res.stats().keptWeights(), res.stats().weightElements(), res.stats().weightRelError(),
                    res.stats().expAvgRelError(), res.stats().expAvgSqRelError());
            assertTrue(ratio > 10, p.keep() + " residual ratio " + ratio);
            assertTrue(res.stats().weightRelError() < 0.05, p.keep() + " weight error " + res.stats().weightRelError());
            assertTrue(res.stats().keptWeights() > 0 && res.stats().keptWeights() < res.stats().weightElements());
        }
    }
}
