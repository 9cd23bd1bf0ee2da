package io.excpfs.codec.format;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.CrcPatch;
import io.excpfs.codec.Format;
import io.excpfs.codec.Formats;
import io.excpfs.codec.Layout;
import io.excpfs.codec.Role;
import io.excpfs.codec.TensorRegion;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Metadata, roles, CRC patches and notes of the real fixtures, beyond what expected.json covers. */
class LayoutDetailsTest {
    static Layout parse(String name) throws IOException { return Formats.parse(Fixtures.source(name)); }

    static TensorRegion region(Layout l, String key) {
        return l.regions().stream().filter(r -> r.key().equals(key)).findFirst()
                .orElseThrow(() -> new AssertionError("no region " + key + " in " + l.regions()));
    }

    @Test
    void safetensorsMetadataAndPaddingStayInTheSkeleton() throws IOException {
        Layout l = parse("model.safetensors");
        assertEquals("pt", l.metadata().get("format"));
        assertEquals("500", l.metadata().get("step"));
        assertEquals(3, l.metadata().size(), "__metadata__ entries plus #tensor_order");
        byte[] file = Fixtures.format("model.safetensors");
        long headerLen = ZipArchive.u64(file, 0);
        assertEquals(' ', file[(int) (8 + headerLen - 1)], "fixture header ends with padding");
        long firstRegion = l.regions().get(0).offset();
        assertEquals(8 + headerLen, firstRegion, "regions start right after the padded header");
        assertEquals(Role.OTHER_FLOAT, region(l, "scale").role());
        assertArrayEquals(new long[0], region(l, "scale").shape());
    }

    @Test
    void nanoGptDictHasOptimizerRolesAndParamGroups() throws IOException {
        Layout l = parse("nanogpt_ckpt.pt");
        assertEquals(Format.TORCH_ZIP, l.format());
        assertEquals(Role.EXP_AVG, region(l, "optimizer/state/0/exp_avg").role());
        assertEquals(Role.EXP_AVG_SQ, region(l, "optimizer/state/0/exp_avg_sq").role());
        assertEquals(Role.OTHER_FLOAT, region(l, "optimizer/state/0/step").role());
        assertEquals(Role.PARAM, region(l, "model/transformer.h.0.c_attn.weight").role());
        assertArrayEquals(new long[]{24, 8}, region(l, "model/transformer.h.0.c_attn.weight").shape());
        assertEquals(Role.OTHER_FLOAT, region(l, "best_val_loss").role());
        assertEquals("model/transformer.wte.weight", l.aliases().get("model/lm_head.weight"));
        assertEquals("[0, 1, 2, 3, 4, 5]", l.metadata().get("optimizer/param_groups/0/params"));
        assertEquals("[6, 7, 8, 9, 10, 11, 12, 13, 14, 15]", l.metadata().get("optimizer/param_groups/1/params"));
        assertEquals("0.1", l.metadata().get("optimizer/param_groups/0/weight_decay"));
        assertEquals("[0.9, 0.95]", l.metadata().get("optimizer/param_groups/0/betas"));
        assertEquals("1e-08", l.metadata().get("optimizer/param_groups/0/eps"));
        assertEquals("2", l.metadata().get("iter_num"));
        assertEquals("8", l.metadata().get("model_args/n_embd"));
        assertEquals("out", l.metadata().get("config/out_dir"));
    }

    @Test
    void tensorOrderKeepsStateDictOrderThatOffsetsLose() throws IOException {
        Layout l = parse("state_dict.pt");
        java.util.List<String> byOffset = l.regions().stream().map(TensorRegion::key).toList();
        assertEquals("transformer.h.1.c_attn.weight", byOffset.get(2), "torch writes data/10 after data/1");
        String order = l.metadata().get("#tensor_order");
        assertTrue(order.startsWith("[\"transformer.wte.weight\", \"transformer.wpe.weight\", \"transformer.h.0.ln_1.weight\""), order);
        assertTrue(order.endsWith("\"lm_head.weight\"]"), order);
    }

    @Test
    void hfOptimizerAndLightningUseTheirOwnPaths() throws IOException {
        Layout hf = parse("optimizer.pt");
        assertEquals(Role.EXP_AVG_SQ, region(hf, "state/0/exp_avg_sq").role());
        assertEquals("[0, 1, 2, 3, 4, 5]", hf.metadata().get("param_groups/0/params"));
        Layout pl = parse("lightning.ckpt");
        assertEquals(Role.EXP_AVG, region(pl, "optimizer_states/0/state/3/exp_avg").role());
        assertEquals(Role.PARAM, region(pl, "state_dict/model.transformer.ln_f.weight").role());
        assertEquals("900", pl.metadata().get("global_step"));
        assertEquals("3", pl.metadata().get("epoch"));
        assertEquals("2.1.0", pl.metadata().get("pytorch-lightning_version"));
        assertEquals("None", pl.metadata().get("callbacks/ModelCheckpoint{'monitor': None}/best_model_score"));
        assertTrue(pl.metadata().containsKey("lr_schedulers/0/step_size"), () -> pl.metadata().keySet().toString());
    }

    @Test
    void viewsShareOneFlatRegion() throws IOException {
        Layout l = parse("views_dtypes.pt");
        TensorRegion base = region(l, "base");
        assertArrayEquals(new long[]{24}, base.shape(), "storage shared by views is flat");
        assertEquals("base", l.aliases().get("row_slice"));
        assertEquals("base", l.aliases().get("transposed"));
        assertEquals("base", l.aliases().get("nested/list/1"));
        assertTrue(l.regions().stream().noneMatch(r -> r.key().equals("empty")), "empty storage has no region");
        assertEquals("7", l.metadata().get("nested/tuple/1"));
        assertEquals(Role.NON_FLOAT, region(l, "i64").role());
    }

    @Test
    void everyTorchZipRegionHasACrcPatchThatMatchesTheOriginalData() throws IOException {
        for (String name : new String[]{"state_dict.pt", "nanogpt_ckpt.pt", "views_dtypes.pt", "arrays.npz"}) {
            byte[] file = Fixtures.format(name);
            Layout l = Formats.parse(ByteSource.of(file));
            assertEquals(l.regions().size(), l.crcPatches().size(), name);
            for (CrcPatch p : l.crcPatches()) {
                CRC32 crc = new CRC32();
                crc.update(file, (int) p.dataOffset(), (int) p.dataLength());
                assertTrue(p.fieldOffsets().size() >= 2, name + " patches central directory and local header or descriptor");
                for (long f : p.fieldOffsets()) assertEquals(crc.getValue(), ZipArchive.u32(file, (int) f), name + " CRC field at " + f);
            }
        }
    }

    @Test
    void zeroCrcFieldsAsWrittenWithComputeCrc32OffStayZero() throws IOException {
        byte[] file = Fixtures.format("state_dict.pt");
        Layout l = Formats.parse(ByteSource.of(file));
        byte[] zeroed = file.clone();
        for (CrcPatch p : l.crcPatches()) for (long f : p.fieldOffsets()) Arrays.fill(zeroed, (int) f, (int) f + 4, (byte) 0);
        Layout z = Formats.parse(ByteSource.of(zeroed));
        assertEquals(Format.TORCH_ZIP, z.format(), z.note());
        assertEquals(l.regions(), z.regions());
        assertTrue(z.crcPatches().isEmpty(), "no patch for entries whose CRC field is 0");
        assertArrayEquals(zeroed, io.excpfs.codec.Reconstruction.exact(z, ByteSource.of(zeroed)).toByteArray());
    }

    @Test
    void collidingKeyPathsGetDistinctRegionKeys() throws IOException {
        Layout l = parse("colliding_keys.pt");
        assertEquals(java.util.List.of("1", "1#2"), l.regions().stream().map(TensorRegion::key).sorted().toList());
        assertEquals("[\"1\", \"1\"]", l.metadata().get("#tensor_order"));
    }

    @Test
    void compressedAndObjectNumpyFilesAreKeptExact() throws IOException {
        Layout z = parse("compressed.npz");
        assertEquals(Format.NPZ, z.format());
        assertTrue(z.regions().isEmpty());
        assertTrue(z.note().contains("compressed"), z.note());
        Layout o = parse("object.npy");
        assertTrue(o.isOpaque());
        assertTrue(o.note().contains("object"), o.note());
    }

    @Test
    void legacyStoragesFollowTheStorageKeysPickle() throws IOException {
        Layout l = parse("legacy.pt");
        assertEquals(Format.TORCH_LEGACY, l.format());
        assertEquals(Role.OTHER_FLOAT, region(l, "step").role());
        assertArrayEquals(new long[]{12}, region(l, "w").shape(), "w is shared with a row view");
        assertEquals("w", l.aliases().get("w_view"));
        assertArrayEquals(new long[]{4}, region(l, "b").shape());
        assertEquals("1", l.metadata().get("meta/epoch"));
        assertTrue(l.crcPatches().isEmpty());
    }
}
