package io.excpfs.codec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InspectionTest {
    private static SetMember nanoGpt() {
        List<TensorRegion> regions = List.of(
                new TensorRegion("model/transformer.wte.weight", DType.F32, new long[] {96, 16}, 100, 6144, Role.PARAM),
                new TensorRegion("model/transformer.ln_f.weight", DType.BF16, new long[] {16}, 6300, 32, Role.PARAM),
                new TensorRegion("optimizer/state/0/step", DType.F32, new long[] {}, 6400, 4, Role.OTHER_FLOAT),
                new TensorRegion("optimizer/state/0/exp_avg", DType.F32, new long[] {96, 16}, 6500, 6144, Role.EXP_AVG),
                new TensorRegion("optimizer/state/0/exp_avg_sq", DType.F32, new long[] {96, 16}, 12700, 6144, Role.EXP_AVG_SQ));
        Layout layout = new Layout(Format.TORCH_ZIP, 20000, regions,
                List.of(new CrcPatch(100, 6144, List.of(60L, 19000L))), "torch zip, 5 storages",
                Map.of("model/lm_head.weight", "model/transformer.wte.weight"),
                metadata());
        return new SetMember("ckpt.pt", ByteSource.of(new byte[20000]), layout, null);
    }

    private static Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("optimizer/param_groups/0/params", "[0]");
        m.put("iter_num", "2000");
        return m;
    }

    @Test
    void rendersFilesAndPairing() {
        SetMember m = nanoGpt();
        Pairing p = new Pairing(List.of(new MomentPair(new TensorRef("ckpt.pt", "model/transformer.wte.weight"),
                new TensorRef("ckpt.pt", "optimizer/state/0/exp_avg"), null)),
                Certainty.CERTAIN, "ckpt.pt:optimizer: named_parameters order, exact", List.of("ckpt.pt:optimizer: 1 optimizer index"));
        String text = Inspection.render(List.of(m), p);
        String expected = """
                == ckpt.pt
                format       torch_zip
                size         20,000 bytes (19.5 KiB)
                skeleton     1,532 bytes (1.5 KiB) (7.7%)
                note         torch zip, 5 storages
                regions      5 (lossy 4: 18,464 bytes (18.0 KiB), exact 1: 4 bytes)
                  key                            dtype  shape     bytes  role
                  model/transformer.wte.weight   f32    [96, 16]   6144  param
                  model/transformer.ln_f.weight  bf16   [16]         32  param
                  optimizer/state/0/step         f32    []            4  other_float
                  optimizer/state/0/exp_avg      f32    [96, 16]   6144  exp_avg
                  optimizer/state/0/exp_avg_sq   f32    [96, 16]   6144  exp_avg_sq
                aliases      1
                  model/lm_head.weight -> model/transformer.wte.weight
                metadata     2
                  optimizer/param_groups/0/params = [0]
                  iter_num = 2000
                crc32 fields 1 entries recomputed on read

                """;
        assertTrue(text.startsWith(expected), text);
        assertTrue(text.endsWith("""
                == pairing
                certainty    certain
                method       ckpt.pt:optimizer: named_parameters order, exact
                notes        1
                  - ckpt.pt:optimizer: 1 optimizer index
                pairs        1
                  param                                 exp_avg                            exp_avg_sq
                  ckpt.pt:model/transformer.wte.weight  ckpt.pt:optimizer/state/0/exp_avg  -
                """), text);
        assertEquals(text, Inspection.render(List.of(nanoGpt()), p), "deterministic");
    }

    @Test
    void longMetadataIsCut() {
        Layout l = new Layout(Format.TORCH_ZIP, 10, List.of(), List.of(), "", Map.of(), Map.of("config/prompt", "x".repeat(500) + "\nend"));
        String text = Inspection.render(List.of(new SetMember("a.pt", ByteSource.of(new byte[10]), l, null)), Pairing.none("no Adam"));
        assertTrue(text.contains("  config/prompt = " + "x".repeat(Inspection.MAX_VALUE - 3) + "...\n"), text);
        assertTrue(text.contains("certainty    none\n"), text);
    }

    @Test
    void inspectsFilesOnDisk(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("notes.bin");
        Files.write(f, new byte[] {1, 2, 3, 4, 5});
        String text = Inspection.of(List.of(f));
        assertTrue(text.startsWith("== " + f + "\nformat       opaque\nsize         5 bytes\nskeleton     5 bytes (100.0%)\n"), text);
        assertTrue(text.contains("regions      0\n"), text);
        assertTrue(text.contains("== pairing\ncertainty    none\n"), text);
    }
}
