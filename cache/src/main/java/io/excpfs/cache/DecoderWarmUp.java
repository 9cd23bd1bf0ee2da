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
import io.excpfs.codec.ObjectStream;
import io.excpfs.codec.Pairing;
import io.excpfs.codec.PendingReconstruction;
import io.excpfs.codec.Reconstruction;
import io.excpfs.codec.Role;
import io.excpfs.codec.SetMember;
import io.excpfs.codec.TensorRef;
import io.excpfs.codec.TensorRegion;

import java.io.EOFException;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32C;

/**
 * Compiles the decode path before the first COLD read needs it. A fresh JVM runs the decoder's loops interpreted,
 * then half-optimised, for its first few hundred megabytes, and the JIT compiler competes with the decode for the
 * cores: on the 230 MB checkpoint of BENCHMARKS.md "COLD first read" a fresh daemon spent 0.4-0.5 s of its read in
 * the C2 compiler. {@link #start} encodes a synthetic checkpoint (a seed, then a residual with paired Adam moments,
 * container CRCs to patch) and decodes each object several times the way a COLD read does (streamed from an object
 * that is checked at its end, read back in 128 KiB requests), on a background daemon thread, once per JVM; a mount
 * calls it as it starts serving.
 *
 * <p>Its tensors are shaped like trained ones where that picks other decode paths, so that the loops are compiled
 * with the branch profile a real checkpoint gives them (a loop compiled on other data is thrown away at its first
 * real use, "deoptimised", and compiled again meanwhile): rows of very different scales (the exponent plane then
 * pays for the previous-symbol model, which byte planes use only from 2^18 elements on, hence one large
 * parameter), all-zero moment rows, one-element step tensors. Each decode loop runs to its end several times,
 * since a loop exit the profile never saw is such a deoptimisation.
 *
 * <p>A decode of a stored version ends the warm-up at its next step ({@link #yieldToReads}): from then on the read
 * has the cores, and what is left to compile is compiled on its data.
 */
public final class DecoderWarmUp {
    private static final System.Logger LOG = System.getLogger(DecoderWarmUp.class.getName());
    private static final AtomicBoolean STARTED = new AtomicBoolean();
    private static volatile boolean readsStarted;
    private static final String FILE = "warm-up.pt";
    private static final int GAP = 64;
    /**
     * Parameter shapes, each with exp_avg, exp_avg_sq and a step: the first one is above 2^18 elements; the many
     * small ones (biases, and norms whose weights are about 1) make the per-stream code (model tables, stream
     * headers, zstd planes) as hot as a real object's hundreds of regions make it.
     */
    private static final int[][] SHAPES = shapes();
    /** Versions encoded at mount: a seed and one residual on it. */
    static final int VERSIONS = 2;
    /** Decodes of each object at mount. */
    static final int DECODES = 10;
    /** Longest wait for the JIT compilers to finish what the warm-up queued. */
    private static final long COMPILE_WAIT_MILLIS = 3000;
    /** Bytes per read of a decoded version, as FUSE asks for them. */
    private static final int REQUEST = 128 << 10;

    private DecoderWarmUp() {}

    /** Starts the warm-up on a daemon thread, once per JVM; returns at once. */
    public static void start() {
        if (!STARTED.compareAndSet(false, true)) return;
        Thread t = new Thread(() -> {
            try {
                long t0 = System.nanoTime();
                List<Kind> kinds = run(VERSIONS, DECODES, () -> readsStarted);
                awaitCompilers(COMPILE_WAIT_MILLIS, () -> readsStarted);
                long touched = touchHeap(heapToTouch(), () -> readsStarted);
                LOG.log(System.Logger.Level.INFO, "decoder warm-up {0} in {1} ms{2}",
                        kinds.size() < VERSIONS || readsStarted ? "stopped for a read" : "done", (System.nanoTime() - t0) / 1_000_000,
                        touched > 0 ? ", " + (touched >> 20) + " MiB of heap touched" : "");
            } catch (IOException | CorruptObjectException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "decoder warm-up failed (reads still work, the first one is slower): " + e, e);
            }
        }, "excpfs-decoder-warm-up");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
    }

    /**
     * Waits until the JIT compilers have done no work for 300 ms (the last loops the warm-up made hot are compiled,
     * or recompiled after a deoptimisation, only after it ran them), at most {@code maxMillis}; sleeps meanwhile.
     */
    static void awaitCompilers(long maxMillis, BooleanSupplier stop) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) return;
        long last = jit.getTotalCompilationTime(), quiet = 0;
        for (long waited = 0; waited < maxMillis && quiet < 300 && !stop.getAsBoolean(); waited += 50) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            long now = jit.getTotalCompilationTime();
            quiet = now == last ? quiet + 50 : 0;
            last = now;
        }
    }

    /**
     * Bytes of heap {@link #start} touches after the decoders are compiled: the {@code excpfs.warmHeap} system
     * property (bytes, or with a k, m or g suffix), 0 (off) by default, at most a quarter of the maximum heap.
     */
    static long heapToTouch() {
        String v = System.getProperty("excpfs.warmHeap", "0").trim().toLowerCase(java.util.Locale.ROOT);
        long unit = 1;
        if (!v.isEmpty() && "kmg".indexOf(v.charAt(v.length() - 1)) >= 0) {
            unit = 1L << (10 * ("kmg".indexOf(v.charAt(v.length() - 1)) + 1));
            v = v.substring(0, v.length() - 1);
        }
        long bytes;
        try {
            bytes = Long.parseLong(v) * unit;
        } catch (NumberFormatException e) {
            LOG.log(System.Logger.Level.WARNING, "excpfs.warmHeap=" + System.getProperty("excpfs.warmHeap") + " is not a size; no heap touched");
            return 0;
        }
        return Math.max(0, Math.min(bytes, Runtime.getRuntime().maxMemory() / 4));
    }

    /**
     * Allocates {@code bytes} of large arrays, drops them and collects them, so that the heap regions a COLD read
     * then fills with its object and reconstruction were already handed to the process by the kernel: a fresh
     * daemon's first read otherwise spends 0.2-0.3 s of CPU in page faults on a 230 MB checkpoint (BENCHMARKS.md,
     * COLD first read). The regions stay resident. Stops, without collecting, once {@code stop} says so. Returns
     * the bytes touched.
     */
    static long touchHeap(long bytes, BooleanSupplier stop) {
        int piece = 32 << 20;
        List<byte[]> held = new ArrayList<>();
        long touched = 0;
        while (touched < bytes && !stop.getAsBoolean()) {
            held.add(new byte[(int) Math.min(piece, bytes - touched)]);
            touched += held.get(held.size() - 1).length;
        }
        held.clear();
        if (touched > 0 && !stop.getAsBoolean()) System.gc();
        return touched;
    }

    /** A decode of a stored version is starting: a warm-up still running ends at its next step. */
    public static void yieldToReads() {
        if (!readsStarted) readsStarted = true;
    }

    /**
     * Encodes a seed and {@code versions - 1} residual versions of the synthetic checkpoint and decodes each object
     * {@code decodes} times against its base, checking every byte read back; returns the kind of each object
     * encoded. Stops early, between two steps, once {@code stop} says so.
     *
     * @throws IOException when a decode does not return what the encoder said it would (a codec bug)
     */
    static List<Kind> run(int versions, int decodes, BooleanSupplier stop) throws IOException, CorruptObjectException {
        Synthetic s = new Synthetic(layout(), new SplittableRandom(1));
        Pairing pairing = pairing(s.layout);
        Reconstruction base = null;
        List<Kind> kinds = new ArrayList<>();
        for (int v = 0; v < versions && !stop.getAsBoolean(); v++) {
            if (v > 0) s.step();
            byte[] file = s.file();
            List<EncodedFile> encoded = CheckpointCodec.encodeSet(
                    List.of(new SetMember(FILE, ByteSource.of(file), s.layout, base)), pairing, CodecParams.defaults());
            EncodedFile e = encoded.get(0);
            kinds.add(e.kind());
            byte[] expected = e.reconstruction().toByteArray();
            if (expected.length != file.length) throw new IOException("warm-up version " + v + " reconstructs to " + expected.length + " bytes, not " + file.length);
            for (int k = 0; k < decodes && !stop.getAsBoolean(); k++) readBack(e.object(), base, expected, v);
            base = e.reconstruction();
        }
        return kinds;
    }

    /** Decodes {@code object} as a COLD read does and reads it back in requests of {@link #REQUEST} bytes. */
    private static void readBack(byte[] object, Reconstruction base, byte[] expected, int version)
            throws IOException, CorruptObjectException {
        PendingReconstruction p = new PendingReconstruction();
        Reconstruction r = p.decode(new StoredObject(object, crc32c(object)), base);
        byte[] buf = new byte[REQUEST];
        for (long pos = 0; pos < expected.length; ) {
            int n = p.read(pos, buf, 0, buf.length);
            if (n <= 0 || !Arrays.equals(buf, 0, n, expected, (int) pos, (int) pos + n)) {
                throw new IOException("warm-up version " + version + " decodes to other bytes than its encoder returned at " + pos);
            }
            pos += n;
        }
        p.complete(r);
    }

    private static int crc32c(byte[] b) {
        CRC32C c = new CRC32C();
        c.update(b, 0, b.length);
        return (int) c.getValue();
    }

    /** An encoded object read as a stored one: in pieces, refused at its end unless its CRC32C is the recorded one. */
    private record StoredObject(byte[] object, int crc) implements ObjectStream {
        @Override public long size() { return object.length; }

        @Override public void read(long pos, byte[] dst, int off, int len) throws EOFException {
            if (pos < 0 || len < 0 || pos + len > object.length) throw new EOFException("read past the end of the warm-up object at " + pos);
            System.arraycopy(object, (int) pos, dst, off, len);
        }

        @Override public void verify(int crc32c) throws IOException {
            if (crc32c != crc) throw new IOException("warm-up object fails its CRC32C");
        }
    }

    /**
     * The synthetic tensors as floats, with per-row scales: weights about 0.02, exp_avg about 1e-3 and exp_avg_sq
     * about 1e-7 times the row's scale; in the first parameter's moments one row in 16 is all zero (embedding rows
     * of tokens never seen), so that both kinds of byte-plane merge run.
     */
    private static final class Synthetic {
        final Layout layout;
        final SplittableRandom random;
        final float[][] tensors;
        final float[][] rowScales;
        /** Standard normal quantiles, drawn from by index: a few hundred thousand draws per tensor stay cheap. */
        final float[] normal = new float[1 << 12];

        Synthetic(Layout layout, SplittableRandom random) {
            this.layout = layout;
            this.random = random;
            Random g = new Random(2);
            for (int i = 0; i < normal.length; i++) normal[i] = (float) g.nextGaussian();
            int n = layout.regions().size();
            tensors = new float[n][];
            rowScales = new float[n][];
            for (int i = 0; i < n; i++) {
                TensorRegion r = layout.regions().get(i);
                tensors[i] = new float[(int) r.elements()];
                int cols = cols(r);
                rowScales[i] = new float[tensors[i].length / cols];
                for (int row = 0; row < rowScales[i].length; row++) {
                    boolean unused = isMoment(r.role()) && i < 4 && row % 16 == 5;
                    rowScales[i][row] = unused ? 0 : (float) Math.pow(2, -6 * random.nextDouble());
                }
                for (int j = 0; j < tensors[i].length; j++) {
                    double g0 = gaussian() * rowScales[i][j / cols];
                    tensors[i][j] = (float) switch (r.role()) {
                        case PARAM -> isNorm(r) ? 1 + 1e-3 * gaussian() : 0.02 * g0;
                        case EXP_AVG -> 1e-3 * g0;
                        case EXP_AVG_SQ -> 1e-7 * Math.abs(g0);
                        default -> 1;
                    };
                }
            }
        }

        private float gaussian() { return normal[random.nextInt() >>> 20]; }

        /** One Adam-like step: weights move a little, exp_avg follows fresh gradients, exp_avg_sq their squares. */
        void step() {
            for (int i = 0; i < tensors.length; i++) {
                TensorRegion r = layout.regions().get(i);
                int cols = cols(r);
                float[] t = tensors[i];
                for (int j = 0; j < t.length; j++) {
                    double g = 1e-3 * gaussian() * rowScales[i][j / cols];
                    t[j] = switch (r.role()) {
                        case PARAM -> (float) (t[j] + 1e-4 * gaussian());
                        case EXP_AVG -> (float) (0.9 * t[j] + 0.1 * g);
                        case EXP_AVG_SQ -> (float) (0.999 * t[j] + 0.001 * g * g);
                        default -> t[j] + 1;
                    };
                }
            }
        }

        byte[] file() {
            ByteBuffer b = ByteBuffer.allocate((int) layout.size()).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < tensors.length; i++) {
                TensorRegion r = layout.regions().get(i);
                b.position((int) r.offset() - GAP);
                for (int k = 0; k < GAP; k++) b.put((byte) (k * 7 + i));
                for (float x : tensors[i]) b.putFloat(x);
            }
            return b.array();
        }

        private static int cols(TensorRegion r) { return r.shape().length == 0 ? 1 : (int) r.shape()[r.shape().length - 1]; }

        /** A norm's weight: about 1, so its top byte plane is nearly constant (zstd then beats rANS). */
        private static boolean isNorm(TensorRegion r) { return r.key().startsWith("model/norm"); }

        private static boolean isMoment(Role role) { return role == Role.EXP_AVG || role == Role.EXP_AVG_SQ; }
    }

    private static int[][] shapes() {
        List<int[]> s = new ArrayList<>(List.of(new int[] {512, 512}, new int[] {256, 384}));
        for (int i = 0; i < 24; i++) s.add(new int[] {384});
        return s.toArray(int[][]::new);
    }

    private static Layout layout() {
        List<TensorRegion> regions = new ArrayList<>();
        List<CrcPatch> crcs = new ArrayList<>();
        long at = GAP;
        for (int p = 0; p < SHAPES.length; p++) {
            long[] shape = Arrays.stream(SHAPES[p]).asLongStream().toArray();
            long bytes = 4L * Arrays.stream(SHAPES[p]).asLongStream().reduce(1, (a, b) -> a * b);
            String param = p >= 2 && p % 2 == 1 ? "model/norm" + p + ".weight" : "model/layer" + p + ".weight";
            String[] keys = {param, "optimizer/state/" + p + "/exp_avg",
                    "optimizer/state/" + p + "/exp_avg_sq", "optimizer/state/" + p + "/step"};
            Role[] roles = {Role.PARAM, Role.EXP_AVG, Role.EXP_AVG_SQ, Role.OTHER_FLOAT};
            for (int k = 0; k < keys.length; k++) {
                long[] s = roles[k] == Role.OTHER_FLOAT ? new long[0] : shape;
                long len = roles[k] == Role.OTHER_FLOAT ? 4 : bytes;
                regions.add(new TensorRegion(keys[k], DType.F32, s, at, len, roles[k]));
                crcs.add(new CrcPatch(at, len, List.of(at - GAP + 8)));
                at += len + GAP;
            }
        }
        return new Layout(Format.TORCH_ZIP, at, regions, crcs, "decoder warm-up", Map.of(), Map.of());
    }

    private static Pairing pairing(Layout layout) {
        List<MomentPair> pairs = new ArrayList<>();
        List<TensorRegion> r = layout.regions();
        for (int i = 0; i + 2 < r.size(); i += 4) {
            pairs.add(new MomentPair(new TensorRef(FILE, r.get(i).key()), new TensorRef(FILE, r.get(i + 1).key()),
                    new TensorRef(FILE, r.get(i + 2).key())));
        }
        return new Pairing(pairs, Certainty.CERTAIN, "decoder warm-up", List.of());
    }
}
