package io.excpfs.cache;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.Certainty;
import io.excpfs.codec.CheckpointCodec;
import io.excpfs.codec.CodecParams;
import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.CrcPatch;
import io.excpfs.codec.DType;
import io.excpfs.codec.EncodedFile;
import io.excpfs.codec.Format;
import io.excpfs.codec.Kind;
import io.excpfs.codec.Layout;
import io.excpfs.codec.MomentPair;
import io.excpfs.codec.Pairing;
import io.excpfs.codec.Reconstruction;
import io.excpfs.codec.Role;
import io.excpfs.codec.SetMember;
import io.excpfs.codec.TensorRef;
import io.excpfs.codec.TensorRegion;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Compiles the decode path before the first COLD read needs it. A fresh JVM runs the decoder's loops interpreted,
 * then half-optimised, for its first few hundred megabytes: on the 230 MB checkpoint of BENCHMARKS.md "Mount" the
 * first chain decode of a fresh process took about twice the CPU time of the next one. {@link #start} encodes a
 * small synthetic checkpoint (a seed, then residuals with paired Adam moments, container CRCs to patch) and decodes
 * it a few times on a background daemon thread, once per JVM; a mount calls it as it starts serving. Its tensors
 * are shaped like trained ones where that picks other decode paths: rows of very different scales (the exponent
 * plane then pays for the previous-byte model) and all-zero moment rows (zero-word flags), so that the loops a real
 * checkpoint runs are the ones compiled.
 */
public final class DecoderWarmUp {
    private static final System.Logger LOG = System.getLogger(DecoderWarmUp.class.getName());
    private static final AtomicBoolean STARTED = new AtomicBoolean();
    private static final String FILE = "warm-up.pt";
    private static final int GAP = 64;
    /** Tensor shapes: two weight matrices and a bias, each with exp_avg and exp_avg_sq. */
    private static final int[][] SHAPES = {{256, 512}, {512, 256}, {512}};

    private DecoderWarmUp() {}

    /** Starts the warm-up on a daemon thread, once per JVM; returns at once. */
    public static void start() {
        if (!STARTED.compareAndSet(false, true)) return;
        Thread t = new Thread(() -> {
            try {
                long t0 = System.nanoTime();
                run(4);
                LOG.log(System.Logger.Level.INFO, "decoder warm-up done in {0} ms", (System.nanoTime() - t0) / 1_000_000);
            } catch (IOException | CorruptObjectException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "decoder warm-up failed (reads still work, the first one is slower): " + e, e);
            }
        }, "excpfs-decoder-warm-up");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
    }

    /**
     * Encodes a seed and {@code versions - 1} residual versions of the synthetic checkpoint, decoding each object
     * twice against its base; returns the kind of each object.
     *
     * @throws IOException when a decode does not return what the encoder said it would (a codec bug)
     */
    static List<Kind> run(int versions) throws IOException, CorruptObjectException {
        Random random = new Random(1);
        Layout layout = layout();
        float[][] tensors = new float[layout.regions().size()][];
        float[][] rowScales = new float[tensors.length][];
        for (int i = 0; i < tensors.length; i++) {
            TensorRegion r = layout.regions().get(i);
            tensors[i] = new float[(int) r.elements()];
            int cols = (int) r.shape()[r.shape().length - 1];
            rowScales[i] = new float[tensors[i].length / cols];
            for (int row = 0; row < rowScales[i].length; row++) {
                boolean unused = r.role() != Role.PARAM && row % 16 == 5; // e.g. embedding rows of tokens never seen
                rowScales[i][row] = unused ? 0 : (float) Math.pow(2, -6 * random.nextDouble());
            }
            for (int j = 0; j < tensors[i].length; j++) {
                double g = random.nextGaussian() * rowScales[i][j / cols];
                tensors[i][j] = (float) (r.role() == Role.PARAM ? 0.02 * g : r.role() == Role.EXP_AVG ? 1e-3 * g : 1e-7 * Math.abs(g));
            }
        }
        Pairing pairing = pairing(layout);
        Reconstruction base = null;
        List<Kind> kinds = new ArrayList<>();
        for (int v = 0; v < versions; v++) {
            if (v > 0) step(layout, tensors, rowScales, random);
            byte[] file = file(layout, tensors);
            List<EncodedFile> encoded = CheckpointCodec.encodeSet(
                    List.of(new SetMember(FILE, ByteSource.of(file), layout, base)), pairing, CodecParams.defaults());
            EncodedFile e = encoded.get(0);
            for (int k = 0; k < 2; k++) {
                Reconstruction r = CheckpointCodec.decode(e.object(), base);
                if (r.size() != file.length || !Arrays.equals(r.toByteArray(), e.reconstruction().toByteArray())) {
                    throw new IOException("warm-up version " + v + " decodes to other bytes than its encoder returned");
                }
            }
            base = e.reconstruction();
            kinds.add(e.kind());
        }
        return kinds;
    }

    /** One Adam-like step: weights move a little, exp_avg follows fresh gradients, exp_avg_sq their squares. */
    private static void step(Layout layout, float[][] tensors, float[][] rowScales, Random random) {
        for (int i = 0; i < tensors.length; i++) {
            TensorRegion r = layout.regions().get(i);
            Role role = r.role();
            int cols = (int) r.shape()[r.shape().length - 1];
            float[] t = tensors[i];
            for (int j = 0; j < t.length; j++) {
                double g = 1e-3 * random.nextGaussian() * rowScales[i][j / cols];
                t[j] = switch (role) {
                    case PARAM -> (float) (t[j] + 1e-4 * random.nextGaussian());
                    case EXP_AVG -> (float) (0.9 * t[j] + 0.1 * g);
                    default -> (float) (0.999 * t[j] + 0.001 * g * g);
                };
            }
        }
    }

    private static Layout layout() {
        List<TensorRegion> regions = new ArrayList<>();
        List<CrcPatch> crcs = new ArrayList<>();
        long at = GAP;
        for (int p = 0; p < SHAPES.length; p++) {
            long[] shape = Arrays.stream(SHAPES[p]).asLongStream().toArray();
            long bytes = 4L * Arrays.stream(SHAPES[p]).asLongStream().reduce(1, (a, b) -> a * b);
            String[] keys = {"model/layer" + p + ".weight", "optimizer/state/" + p + "/exp_avg", "optimizer/state/" + p + "/exp_avg_sq"};
            Role[] roles = {Role.PARAM, Role.EXP_AVG, Role.EXP_AVG_SQ};
            for (int k = 0; k < 3; k++) {
                regions.add(new TensorRegion(keys[k], DType.F32, shape, at, bytes, roles[k]));
                crcs.add(new CrcPatch(at, bytes, List.of(at - GAP + 8)));
                at += bytes + GAP;
            }
        }
        return new Layout(Format.TORCH_ZIP, at, regions, crcs, "decoder warm-up", Map.of(), Map.of());
    }

    private static Pairing pairing(Layout layout) {
        List<MomentPair> pairs = new ArrayList<>();
        for (int i = 0; i + 2 < layout.regions().size(); i += 3) {
            pairs.add(new MomentPair(new TensorRef(FILE, layout.regions().get(i).key()),
                    new TensorRef(FILE, layout.regions().get(i + 1).key()), new TensorRef(FILE, layout.regions().get(i + 2).key())));
        }
        return new Pairing(pairs, Certainty.CERTAIN, "decoder warm-up", List.of());
    }

    private static byte[] file(Layout layout, float[][] tensors) {
        ByteBuffer b = ByteBuffer.allocate((int) layout.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < tensors.length; i++) {
            TensorRegion r = layout.regions().get(i);
            b.position((int) r.offset() - GAP);
            for (int k = 0; k < GAP; k++) b.put((byte) (k * 7 + i));
            for (float x : tensors[i]) b.putFloat(x);
        }
        return b.array();
    }
}
