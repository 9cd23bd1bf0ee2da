package io.excpfs.codec.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.excpfs.codec.ByteSource;
import io.excpfs.codec.Formats;
import io.excpfs.codec.Layout;
import io.excpfs.codec.Reconstruction;
import io.excpfs.codec.TensorRegion;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Overwrites every region of a real checkpoint with other values, rebuilds the file through {@link Reconstruction}
 * (which recomputes the zip CRCs) and checks with Python that {@code zipfile.testzip()} finds no bad member and that
 * {@code torch.load} / {@code np.load} return exactly the new values under every key path, aliases included.
 */
@Tag("slow")
class RebuiltFileLoadsTest {
    static final Path PYTHON = Path.of("/usr/bin/python3");

    @TempDir Path dir;

    @BeforeAll
    static void needsTorch() throws Exception {
        assumeTrue(Files.isExecutable(PYTHON), "no /usr/bin/python3");
        Process p = new ProcessBuilder(PYTHON.toString(), "-c", "import torch, numpy").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assumeTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, "python3 without torch/numpy");
    }

    @ParameterizedTest
    @ValueSource(strings = {"state_dict.pt", "nanogpt_ckpt.pt", "optimizer.pt", "lightning.ckpt", "views_dtypes.pt",
            "protocol4.pt", "protocol5.pt", "torch2_style.pt", "legacy.pt", "legacy_p4.pt", "single_tensor.pt", "arrays.npz", "array.npy", "fortran_v2.npy", "v3.npy", "model.safetensors"})
    void rebuiltFileLoadsWithTheNewValues(String name) throws Exception {
        byte[] original = Fixtures.format(name);
        Layout layout = Formats.parse(ByteSource.of(original));
        assertFalse(layout.isOpaque(), layout.note());
        Map<String, byte[]> payloads = new HashMap<>();
        Map<String, String> expected = new HashMap<>();
        int k = 1;
        for (TensorRegion r : layout.regions()) {
            byte[] b = pattern(r, k++);
            payloads.put(r.key(), b);
            expected.put(r.key(), Fixtures.sha256(b));
        }
        layout.aliases().forEach((alias, key) -> expected.put(alias, expected.get(key)));
        byte[] skeleton = Reconstruction.exact(layout, ByteSource.of(original)).skeleton();
        byte[] rebuilt = new Reconstruction(layout, skeleton, payloads).toByteArray();
        assertEquals(original.length, rebuilt.length);
        assertFalse(Arrays.equals(original, rebuilt), "the new values differ from the old ones");

        Path file = dir.resolve(name);
        Files.write(file, rebuilt);
        JsonNode seen = python(file);
        assertTrue(seen.get("testzip").isNull(), "zipfile.testzip() reports " + seen.get("testzip"));
        JsonNode tensors = seen.get("tensors");
        expected.forEach((key, sha) -> {
            assertTrue(tensors.has(key), "python does not see " + key + " in " + tensors);
            assertEquals(sha, tensors.get(key).asText(), "values of " + key);
        });
    }

    /** The check above can fail: the same rebuild without CRC patches is rejected by Python's zipfile. */
    @org.junit.jupiter.api.Test
    void withoutCrcPatchesZipfileRejectsTheRebuiltFile() throws Exception {
        byte[] original = Fixtures.format("state_dict.pt");
        Layout parsed = Formats.parse(ByteSource.of(original));
        Layout noCrc = new Layout(parsed.format(), parsed.size(), parsed.regions(), java.util.List.of(), parsed.note(),
                parsed.aliases(), parsed.metadata());
        Map<String, byte[]> payloads = new HashMap<>();
        int k = 1;
        for (TensorRegion r : noCrc.regions()) payloads.put(r.key(), pattern(r, k++));
        byte[] skeleton = Reconstruction.exact(noCrc, ByteSource.of(original)).skeleton();
        Path file = dir.resolve("stale-crc.pt");
        Files.write(file, new Reconstruction(noCrc, skeleton, payloads).toByteArray());
        Process p = new ProcessBuilder(PYTHON.toString(), "-c",
                "import zipfile,sys; print(zipfile.ZipFile(sys.argv[1]).testzip())", file.toString()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertTrue(out.startsWith("state_dict/data/"), "testzip should name a data entry with a stale CRC, said " + out);
    }

    private static JsonNode python(Path file) throws IOException, InterruptedException {
        Path script = Path.of("src/test/python/check_rebuilt.py").toAbsolutePath();
        Process p = new ProcessBuilder(PYTHON.toString(), script.toString(), file.toString()).start();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "python timed out");
        assertEquals(0, p.exitValue(), "python failed: " + err);
        return new ObjectMapper().readTree(out);
    }

    /** Region payload with values different from any fixture: small multiples of 1/8 (exact in every float type). */
    static byte[] pattern(TensorRegion r, int k) {
        int n = (int) r.elements();
        ByteBuffer b = ByteBuffer.allocate((int) r.length()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            float v = (((i * 7 + k * 13) % 61) - 30) * 0.125f;
            long iv = (i * 3L + k) % 100;
            switch (r.dtype()) {
                case F32 -> b.putFloat(v);
                case F64 -> b.putDouble(v);
                case BF16 -> b.putShort((short) (Float.floatToIntBits(v) >>> 16));
                case F16 -> b.putShort(half(v));
                case I64 -> b.putLong(iv);
                case I32 -> b.putInt((int) iv);
                case I16 -> b.putShort((short) iv);
                case I8, U8 -> b.put((byte) iv);
                case BOOL -> b.put((byte) ((i + k) % 2));
                case OTHER -> b.put((byte) i);
            }
        }
        return b.array();
    }

    /** fp16 bits of a float that fp16 represents exactly (|v| in [2^-14, 65504] or 0). */
    static short half(float v) {
        if (v == 0) return 0;
        int bits = Float.floatToIntBits(v);
        int sign = (bits >>> 16) & 0x8000;
        int exp = ((bits >>> 23) & 0xff) - 127 + 15;
        int mant = (bits >>> 13) & 0x3ff;
        return (short) (sign | exp << 10 | mant);
    }
}
