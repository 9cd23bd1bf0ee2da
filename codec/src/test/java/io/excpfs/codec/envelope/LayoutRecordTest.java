package io.excpfs.codec.envelope;

import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.CrcPatch;
import io.excpfs.codec.DType;
import io.excpfs.codec.Format;
import io.excpfs.codec.Layout;
import io.excpfs.codec.Role;
import io.excpfs.codec.TensorRegion;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The layout record: compressed in format version 3 when that is smaller, plain (versions 1 and 2) still read. */
class LayoutRecordTest {
    /** A torch-like layout: many regions with long, repetitive key paths, CRC patches, aliases and metadata. */
    private static Layout layout(int regions) {
        List<TensorRegion> list = new ArrayList<>();
        Map<String, String> meta = new LinkedHashMap<>(), aliases = new LinkedHashMap<>();
        List<CrcPatch> patches = new ArrayList<>();
        long at = 64;
        for (int i = 0; i < regions; i++) {
            String key = i % 3 == 0 ? "model/transformer.h." + i / 3 + ".attn.c_attn.weight" : "optimizer/state/" + i / 3 + (i % 3 == 1 ? "/exp_avg" : "/exp_avg_sq");
            long len = 4L * 512 * (1 + i % 4);
            list.add(new TensorRegion(key, DType.F32, new long[] {512, 1 + i % 4}, at, len, i % 3 == 0 ? Role.PARAM : i % 3 == 1 ? Role.EXP_AVG : Role.EXP_AVG_SQ));
            patches.add(new CrcPatch(at, len, List.of(at - 20)));
            at += len + 64;
        }
        meta.put("optimizer/param_groups/0/weight_decay", "0.1");
        aliases.put("model/lm_head.weight", "model/transformer.wte.weight");
        return new Layout(Format.TORCH_ZIP, at, list, patches, "torch zip", aliases, meta);
    }

    private static byte[] written(Layout l, boolean plain) {
        BytesOut out = new BytesOut(64);
        if (plain) LayoutRecord.writePlain(out, l); else LayoutRecord.write(out, l);
        out.u8(0x5A);
        return out.toByteArray();
    }

    private static Layout read(byte[] b) throws CorruptObjectException {
        BytesIn in = new BytesIn(b, 0, b.length);
        Layout l = LayoutRecord.read(in);
        assertEquals(1, in.remaining(), "reader stops right after the record");
        return l;
    }

    private static void assertSame(Layout want, Layout got) {
        assertEquals(want.format(), got.format());
        assertEquals(want.size(), got.size());
        assertEquals(want.note(), got.note());
        assertEquals(want.regions().size(), got.regions().size());
        for (int i = 0; i < want.regions().size(); i++) {
            TensorRegion a = want.regions().get(i), b = got.regions().get(i);
            assertEquals(a.key(), b.key());
            assertEquals(a.dtype(), b.dtype());
            assertEquals(a.role(), b.role());
            assertEquals(a.offset(), b.offset());
            assertEquals(a.length(), b.length());
            assertArrayEquals(a.shape(), b.shape());
        }
        assertEquals(want.crcPatches(), got.crcPatches());
        assertEquals(want.aliases(), got.aliases());
        assertEquals(want.metadata(), got.metadata());
    }

    @Test
    void largeRecordsAreCompressedAndReadBack() throws Exception {
        Layout l = layout(300);
        byte[] compressed = written(l, false), plain = written(l, true);
        assertEquals(255, compressed[0] & 0xFF, "compressed marker");
        assertTrue(compressed.length * 3 < plain.length, "compressed " + compressed.length + " bytes, plain " + plain.length);
        assertSame(l, read(compressed));
        assertSame(l, read(plain));
    }

    @Test
    void smallRecordsStayPlain() throws Exception {
        Layout l = Layout.opaque(1234, "text");
        byte[] b = written(l, false);
        assertArrayEquals(written(l, true), b);
        assertSame(l, read(b));
    }

    @Test
    void damagedCompressedRecordsAreReported() {
        byte[] good = written(layout(60), false);
        Random r = new Random(5);
        int rejected = 0;
        for (int trial = 0; trial < 300; trial++) {
            byte[] bad = good.clone();
            int at = 1 + r.nextInt(bad.length - 2);
            bad[at] ^= (byte) (1 + r.nextInt(255));
            try {
                read(bad);
            } catch (CorruptObjectException e) {
                rejected++;
            } catch (RuntimeException | AssertionError e) {
                // a flip in a frame's literals can still decompress and parse (the object checksum catches those)
                if (!(e instanceof AssertionError)) fail("trial " + trial + ", flip at " + at + ": " + e, e);
            }
        }
        assertTrue(rejected > 150, rejected + " of 300 damaged records rejected");
        byte[] cut = java.util.Arrays.copyOf(good, good.length / 2);
        assertThrows(CorruptObjectException.class, () -> LayoutRecord.read(new BytesIn(cut, 0, cut.length)));
    }
}
