package io.excpfs.fs.reliability;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/** Checkpoint bytes for the suites: generated safetensors that drift step by step, and the real format fixtures. */
public final class Checkpoints {
    private Checkpoints() {}

    static final Path FIXTURES = Path.of("..", "codec", "src", "test", "resources", "formats");
    static final List<String> TORCH_FIXTURES = List.of("nanogpt_ckpt.pt", "lightning.ckpt", "optimizer.pt", "state_dict.pt");

    static byte[] fixture(String name) throws IOException {
        return Files.readAllBytes(FIXTURES.resolve(name));
    }

    /**
     * A safetensors file with a weight and its two Adam moments ({@code rows x cols} F32 each); the same
     * {@code run} at a later {@code step} differs by a small drift, as consecutive checkpoints do.
     */
    public static byte[] safetensors(long run, int step, int rows, int cols) {
        int n = rows * cols;
        String[] names = {"layer.weight", "layer.weight.exp_avg", "layer.weight.exp_avg_sq"};
        StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\",\"step\":\"" + step + "\"}");
        for (int t = 0; t < names.length; t++) {
            h.append(",\"").append(names[t]).append("\":{\"dtype\":\"F32\",\"shape\":[").append(rows).append(',')
                    .append(cols).append("],\"data_offsets\":[").append((long) t * n * 4).append(',')
                    .append((long) (t + 1) * n * 4).append("]}");
        }
        h.append('}');
        while ((8 + h.length()) % 8 != 0) h.append(' ');
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + 3 * n * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        Random base = new Random(run), drift = new Random(run * 1_000_003L + step);
        for (int i = 0; i < n; i++) b.putFloat((float) (base.nextGaussian() * 0.02 + drift.nextGaussian() * 0.0005 * step));
        for (int i = 0; i < n; i++) b.putFloat((float) (base.nextGaussian() * 1e-3 + drift.nextGaussian() * 1e-4));
        for (int i = 0; i < n; i++) b.putFloat((float) Math.abs(base.nextGaussian() * 1e-6 + drift.nextGaussian() * 1e-7));
        return b.array();
    }

    /** Length of the safetensors prefix that never changes under compression: the size field and the JSON header. */
    static int skeletonLength(byte[] safetensors) {
        long n = ByteBuffer.wrap(safetensors, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return (int) (8 + n);
    }
}
