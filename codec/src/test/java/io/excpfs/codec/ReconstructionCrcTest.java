package io.excpfs.codec;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Container checksums recomputed over the reconstructed payload: in parallel, and in order when fields nest. */
class ReconstructionCrcTest {
    private static long crc(byte[] b, int from, int len) {
        CRC32 c = new CRC32();
        c.update(b, from, len);
        return c.getValue();
    }

    private static long field(byte[] b, int at) {
        return (b[at] & 0xFFL) | (b[at + 1] & 0xFFL) << 8 | (b[at + 2] & 0xFFL) << 16 | (b[at + 3] & 0xFFL) << 24;
    }

    /** File: 16-byte gap, region a (4000 bytes), 16-byte gap, region b (4000 bytes), 16-byte gap. */
    private static Reconstruction build(List<CrcPatch> patches, byte[] a, byte[] b) {
        Layout layout = new Layout(Format.TORCH_ZIP, 8048, List.of(
                new TensorRegion("a", DType.F32, new long[]{1000}, 16, 4000, Role.PARAM),
                new TensorRegion("b", DType.F32, new long[]{1000}, 4032, 4000, Role.PARAM)), patches, "test", Map.of(), Map.of());
        return new Reconstruction(layout, new byte[48], Map.of("a", a, "b", b));
    }

    @Test
    void everyChecksumCoversItsRegion() {
        Random r = new Random(3);
        byte[] a = new byte[4000], b = new byte[4000];
        r.nextBytes(a);
        r.nextBytes(b);
        Reconstruction rec = build(List.of(new CrcPatch(16, 4000, List.of(4L, 8040L)), new CrcPatch(4032, 4000, List.of(4020L, 8044L))), a, b);
        byte[] file = rec.toByteArray();
        assertEquals(crc(a, 0, 4000), field(file, 4));
        assertEquals(crc(a, 0, 4000), field(file, 8040));
        assertEquals(crc(b, 0, 4000), field(file, 4020));
        assertEquals(crc(b, 0, 4000), field(file, 8044));
    }

    @Test
    void aChecksumOverAnEarlierChecksumFieldSeesItPatched() {
        Random r = new Random(4);
        byte[] a = new byte[4000], b = new byte[4000];
        r.nextBytes(a);
        r.nextBytes(b);
        // the second checksum covers the file from a's end to b's end, including the field of the first one
        Reconstruction rec = build(List.of(new CrcPatch(16, 4000, List.of(4020L)), new CrcPatch(4016, 4016, List.of(8040L))), a, b);
        byte[] file = rec.toByteArray();
        assertEquals(crc(a, 0, 4000), field(file, 4020));
        assertEquals(crc(file, 4016, 4016), field(file, 8040), "computed after the first field was written");
    }
}
