package io.excpfs.codec;

import io.excpfs.codec.excp.FloatWords;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Builds a checkpoint-like file by hand: skeleton bytes between tensor regions at known offsets. */
final class FakeCheckpoint {
    private final ByteArrayOutputStream file = new ByteArrayOutputStream();
    private final List<TensorRegion> regions = new ArrayList<>();
    private final Random random;
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<CrcPatch> crcPatches = new ArrayList<>();

    FakeCheckpoint(long seed) {
        random = new Random(seed);
    }

    FakeCheckpoint skeleton(String text) {
        file.writeBytes(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return this;
    }

    FakeCheckpoint skeleton(byte[] bytes) {
        file.writeBytes(bytes);
        return this;
    }

    FakeCheckpoint region(String key, DType dtype, Role role, long[] shape, byte[] payload) {
        regions.add(new TensorRegion(key, dtype, shape, file.size(), payload.length, role));
        file.writeBytes(payload);
        return this;
    }

    FakeCheckpoint floats(String key, DType dtype, Role role, float[] values, long... shape) {
        byte[] b = new byte[values.length * dtype.size()];
        for (int i = 0; i < values.length; i++) FloatWords.put(b, dtype, i, values[i]);
        return region(key, dtype, role, shape.length == 0 ? new long[] {values.length} : shape, b);
    }

    FakeCheckpoint crcPatch(CrcPatch p) {
        crcPatches.add(p);
        return this;
    }

    int size() { return file.size(); }

    byte[] bytes() { return file.toByteArray(); }

    Layout layout() {
        return new Layout(Format.SAFETENSORS, file.size(), regions, crcPatches, "fake checkpoint", Map.of(), metadata);
    }

    SetMember member(String name, Reconstruction base) {
        return new SetMember(name, ByteSource.of(bytes()), layout(), base);
    }

    static float[] gaussian(Random r, int n, double sigma) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * sigma);
        return v;
    }
}
