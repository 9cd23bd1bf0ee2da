package io.excpfs.codec.pairing;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.Certainty;
import io.excpfs.codec.DType;
import io.excpfs.codec.Format;
import io.excpfs.codec.Layout;
import io.excpfs.codec.MomentPair;
import io.excpfs.codec.Pairer;
import io.excpfs.codec.Pairing;
import io.excpfs.codec.Reconstruction;
import io.excpfs.codec.SetMember;
import io.excpfs.codec.TensorRef;
import io.excpfs.codec.TensorRegion;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Pairing on tensors of a real AdamW run (torch, nanoGPT's two param groups, a tiny GPT-2 with float causal-mask
 * buffers and a tied head), laid out by hand as the formats parser lays out a torch file and a safetensors file.
 */
@Tag("slow")
class RealAdamPairingTest {
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static Path work;

    @BeforeAll
    static void torchAvailable() throws Exception {
        assumeTrue(Files.isExecutable(PYTHON), "needs /usr/bin/python3");
        Process p = new ProcessBuilder(PYTHON.toString(), "-c", "import torch").redirectErrorStream(true).start();
        assumeTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, "needs torch in /usr/bin/python3");
        work = Files.createTempDirectory("excpfs-pairing");
    }

    private static Path train(int gap) throws Exception { return train(gap, 3, "nanogpt"); }

    private static Path train(int gap, int layers, String groups) throws Exception {
        Path out = work.resolve("gap" + gap + "-" + layers + "-" + groups);
        if (Files.exists(out.resolve("manifest.tsv"))) return out;
        Path script = work.resolve("train_tiny_gpt.py");
        try (InputStream in = RealAdamPairingTest.class.getResourceAsStream("/pairing/train_tiny_gpt.py")) {
            Files.write(script, in.readAllBytes());
        }
        Process p = new ProcessBuilder(PYTHON.toString(), script.toString(), out.toString(), String.valueOf(gap), "1",
                String.valueOf(layers), groups)
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(600, TimeUnit.SECONDS) && p.exitValue() == 0, log);
        return out;
    }

    private record Run(Path dir, Map<String, List<TensorRegion>> regions, Map<String, Map<String, String>> meta, List<String> truth) {
        static Run load(Path dir) throws IOException {
            Map<String, List<TensorRegion>> regions = new HashMap<>();
            Map<String, Map<String, String>> meta = new HashMap<>();
            List<String> truth = new ArrayList<>();
            for (String line : Files.readAllLines(dir.resolve("manifest.tsv"))) {
                String[] f = line.split("\t");
                switch (f[0]) {
                    case "tensor" -> {
                        long[] shape = f[3].isEmpty() ? new long[0] : Arrays.stream(f[3].split(",")).mapToLong(Long::parseLong).toArray();
                        long n = Ckpt.elements(shape);
                        regions.computeIfAbsent(f[1], k -> new ArrayList<>()).add(new TensorRegion(f[2], DType.F32, shape,
                                Long.parseLong(f[4]), Long.parseLong(f[5]), Ckpt.role(f[2], n)));
                    }
                    case "meta" -> meta.computeIfAbsent(f[1], k -> new LinkedHashMap<>()).put(f[2], f[3]);
                    case "truth" -> truth.add(f[2]);
                    default -> throw new IllegalStateException(line);
                }
            }
            return new Run(dir, regions, meta, truth);
        }

        SetMember member(String name, String file, Format format, String baseFile) throws IOException {
            byte[] bytes = Files.readAllBytes(dir.resolve(file));
            Map<String, String> aliases = format == Format.OPAQUE ? Map.of() : file.startsWith("model") ? Map.of("lm_head.weight", "wte.weight") : Map.of();
            Layout layout = new Layout(format, bytes.length, regions.get(file), List.of(), "torch run", aliases, meta.getOrDefault(file, Map.of()));
            Reconstruction base = baseFile == null ? null : Reconstruction.exact(layout, ByteSource.of(Files.readAllBytes(dir.resolve(baseFile))));
            return new SetMember(name, ByteSource.of(bytes), layout, base);
        }

        Set<MomentPair> expected(String modelName) {
            Set<MomentPair> out = new HashSet<>();
            for (int i = 0; i < truth.size(); i++) {
                out.add(new MomentPair(new TensorRef(modelName, truth.get(i)), new TensorRef("optimizer.pt", "state/" + i + "/exp_avg"),
                        new TensorRef("optimizer.pt", "state/" + i + "/exp_avg_sq")));
            }
            return out;
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {10, 40, 200})
    void torchOrderPairsEveryParameterByStructure(int gap) throws Exception {
        Run run = Run.load(train(gap));
        for (boolean withBase : new boolean[] {false, true}) {
            Pairing p = Pairer.pair(List.of(
                    run.member("pytorch_model.bin", "model_sd.bin", Format.TORCH_ZIP, withBase ? "model_sd_base.bin" : null),
                    run.member("optimizer.pt", "optimizer.bin", Format.TORCH_ZIP, null)));
            PairerTest.assertComplete(p, run.expected("pytorch_model.bin"), Certainty.CERTAIN);
            assertTrue(p.method().contains("dim >= 2") && p.method().contains("skipping"), p.method());
        }
    }

    /**
     * Without a base the two unique shapes pair, and every shape of one name pattern ({@code h.*.fc.weight},
     * {@code h.*.attn.bias}, ...) by layer order; the layer norms and the {@code [64]} biases (several patterns of one
     * shape) stay unpaired. With a base, content checks the layer order: ten and forty steps apart it confirms every
     * matrix; two hundred steps apart the sign agreement of the right pair falls to about 0.05, nothing is decisive
     * either way, and the convention stands alone.
     */
    @ParameterizedTest
    @ValueSource(ints = {10, 40, 200})
    void sortedSafetensorsPairsByShapeLayerOrderAndContentWithoutAWrongPair(int gap) throws Exception {
        Run run = Run.load(train(gap));
        Set<MomentPair> expected = run.expected("model.safetensors");
        Set<String> singlePattern = new HashSet<>(Set.of("wte.weight", "wpe.weight"));
        for (int l = 0; l < 3; l++) {
            for (String t : List.of("attn.weight", "attn.bias", "proj.weight", "fc.weight", "fc.bias", "fc2.weight")) singlePattern.add("h." + l + "." + t);
        }

        Pairing noBase = Pairer.pair(List.of(
                run.member("model.safetensors", "model_st.bin", Format.SAFETENSORS, null),
                run.member("optimizer.pt", "optimizer.bin", Format.TORCH_ZIP, null)));
        PairerTest.assertNoWrongPair(noBase, expected);
        assertEquals(singlePattern, keys(noBase), String.join("\n", noBase.notes()));
        assertEquals(Certainty.CONVENTION, noBase.certainty());

        Pairing withBase = Pairer.pair(List.of(
                run.member("model.safetensors", "model_st.bin", Format.SAFETENSORS, "model_st_base.bin"),
                run.member("optimizer.pt", "optimizer.bin", Format.TORCH_ZIP, null)));
        PairerTest.assertNoWrongPair(withBase, expected);
        long matrices = keys(withBase).stream().filter(k -> !k.contains("ln_") && !k.endsWith("bias")).count();
        System.out.printf("real AdamW, gap %d steps: sorted safetensors with base paired %d of %d (%d of 14 matrices)%n",
                gap, withBase.pairs().size(), expected.size(), matrices);
        assertEquals(14, matrices, "matrices paired\n" + String.join("\n", withBase.notes()));
        if (gap <= 40) {
            assertTrue(String.join("\n", withBase.notes()).contains("h.*.fc.weight [256, 64] x3 (group 0, indices 4..12), content confirms 3 of 3"),
                    String.join("\n", withBase.notes()));
        }
    }

    /**
     * Twelve layers (name order puts {@code h.10}, {@code h.11} before {@code h.2}) with the Hugging Face Trainer's
     * decay / no-decay groups, as {@code model.safetensors} + {@code optimizer.pt}: every matrix pairs in numeric
     * layer order, with and without a base, and none wrongly.
     */
    @ParameterizedTest
    @ValueSource(ints = {40})
    void twelveLayersWithHfGroupsPairEveryMatrixByLayerOrder(int gap) throws Exception {
        Run run = Run.load(train(gap, 12, "hf"));
        Set<MomentPair> expected = run.expected("model.safetensors");
        for (String base : new String[] {null, "model_st_base.bin"}) {
            Pairing p = Pairer.pair(List.of(
                    run.member("model.safetensors", "model_st.bin", Format.SAFETENSORS, base),
                    run.member("optimizer.pt", "optimizer.bin", Format.TORCH_ZIP, null)));
            PairerTest.assertNoWrongPair(p, expected);
            long matrices = keys(p).stream().filter(k -> !k.contains("ln_") && !k.endsWith("bias")).count();
            assertEquals(2 + 4 * 12, matrices, String.join("\n", p.notes()));
            assertEquals(2 + 6 * 12, p.pairs().size(), String.join("\n", p.notes()));
        }
    }

    private static Set<String> keys(Pairing p) {
        Set<String> out = new HashSet<>();
        p.pairs().forEach(x -> out.add(x.param().key()));
        return out;
    }
}
