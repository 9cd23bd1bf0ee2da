package io.excpfs.bench;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.Certainty;
import io.excpfs.codec.DType;
import io.excpfs.codec.Format;
import io.excpfs.codec.Layout;
import io.excpfs.codec.MomentPair;
import io.excpfs.codec.Pairing;
import io.excpfs.codec.Reconstruction;
import io.excpfs.codec.Role;
import io.excpfs.codec.SetMember;
import io.excpfs.codec.TensorRef;
import io.excpfs.codec.TensorRegion;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A synthetic fp32 checkpoint of {@code tensors} parameters with both Adam moments (one file, paired), and the next
 * checkpoint of the same run: weights moved by a heavy-tailed update, moments re-drawn. 16 tensors of 512×682 make
 * the 64 MB checkpoint of the JMH benchmarks.
 */
record SyntheticCheckpoint(byte[] previous, byte[] next, Layout layout, Pairing pairing) {
    static final String NAME = "ckpt.pt";

    static SyntheticCheckpoint of(int tensors, int rows, int cols, long seed) {
        Random r = new Random(seed);
        int n = rows * cols;
        List<TensorRegion> regions = new ArrayList<>();
        List<MomentPair> pairs = new ArrayList<>();
        int header = 4096;
        long size = header + 12L * n * tensors;
        ByteBuffer prev = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer next = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        byte[] skel = new byte[header];
        r.nextBytes(skel);
        for (int i = 0; i < header; i += 3) skel[i] = 'p';
        prev.put(skel);
        next.put(skel);
        long off = header;
        for (int t = 0; t < tensors; t++) {
            String w = "model/layer" + t + ".weight", m = "optimizer/state/" + t + "/exp_avg", v = "optimizer/state/" + t + "/exp_avg_sq";
            regions.add(new TensorRegion(w, DType.F32, new long[] {rows, cols}, off, 4L * n, Role.PARAM));
            regions.add(new TensorRegion(m, DType.F32, new long[] {rows, cols}, off + 4L * n, 4L * n, Role.EXP_AVG));
            regions.add(new TensorRegion(v, DType.F32, new long[] {rows, cols}, off + 8L * n, 4L * n, Role.EXP_AVG_SQ));
            pairs.add(new MomentPair(new TensorRef(NAME, w), new TensorRef(NAME, m), new TensorRef(NAME, v)));
            off += 12L * n;
            float[] rowScale = new float[rows];
            for (int i = 0; i < rows; i++) rowScale[i] = (float) Math.exp(r.nextGaussian() * 0.5);
            for (int i = 0; i < n; i++) {
                float w0 = (float) (r.nextGaussian() * 0.02);
                float g = (float) (r.nextGaussian() * rowScale[i / cols] * Math.exp(r.nextGaussian() * 0.7));
                prev.putFloat(w0);
                next.putFloat(w0 - 1e-4f * g);
            }
            for (int i = 0; i < n; i++) {
                float g = (float) (r.nextGaussian() * rowScale[i / cols] * 1e-3);
                prev.putFloat(g * 0.9f);
                next.putFloat(g);
            }
            for (int i = 0; i < n; i++) {
                float s = rowScale[i / cols] * 1e-3f;
                float v0 = (float) (s * s * Math.exp(r.nextGaussian()));
                prev.putFloat(v0);
                next.putFloat(v0 * 1.01f);
            }
        }
        Layout layout = new Layout(Format.TORCH_ZIP, size, regions, List.of(), "synthetic", Map.of(), Map.of());
        return new SyntheticCheckpoint(prev.array(), next.array(), layout, new Pairing(pairs, Certainty.CERTAIN, "synthetic", List.of()));
    }

    SetMember seedMember() { return new SetMember(NAME, ByteSource.of(previous), layout, null); }

    SetMember nextMember(Reconstruction base) { return new SetMember(NAME, ByteSource.of(next), layout, base); }
}
