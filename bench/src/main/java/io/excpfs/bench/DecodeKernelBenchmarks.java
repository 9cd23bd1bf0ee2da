package io.excpfs.bench;

import io.excpfs.codec.CodecParams;
import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.entropy.ContextRans;
import io.excpfs.codec.entropy.LaneRans;
import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.BytesOut;
import io.excpfs.codec.excp.JointPruner;
import io.excpfs.codec.excp.KMeansQuantizer;
import io.excpfs.codec.lossless.BytePlaneCoder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The decode kernels a COLD read runs, on 2^22 elements each (16 MB of fp32): rANS decode under each context model
 * on the symbols it codes in practice (pruned 4-bit indices under the neighbour model; the exponent plane of trained
 * fp32 weights, order 0 and previous-symbol), and the lossless byte-plane decode of weights and of Adam moments.
 * Run with {@code CpuTimeRun} for per-core figures (MB/s = 16.8 / ms per call for the fp32 kernels).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgs = {"-Xmx4g"})
public class DecodeKernelBenchmarks {
    static final int N = 1 << 22;
    byte[] indices;
    byte[] indexStream;
    byte[] exponents;
    byte[] exponentOrder0;
    byte[] exponentPrevious;
    byte[] weightPlanes;
    byte[] momentPlanes;

    @Setup
    public void setup() {
        Random r = new Random(7);
        float[] delta = new float[N];
        for (int i = 0; i < N; i++) delta[i] = (float) (r.nextGaussian() * 1e-4 * Math.exp(r.nextGaussian() * 0.7));
        float thr = JointPruner.weightThreshold(delta, null, CodecParams.defaults());
        float[] kept = new float[N];
        int k = 0;
        for (float d : delta) if (Math.abs(d) > thr) kept[k++] = d;
        float[] mids = KMeansQuantizer.midpoints(KMeansQuantizer.fit(kept, k, 15));
        indices = new byte[N];
        for (int i = 0; i < N; i++) indices[i] = Math.abs(delta[i]) > thr ? (byte) (1 + KMeansQuantizer.assign(delta[i], mids)) : 0;
        indexStream = rans(indices, 16, ContextRans.Model.NEIGHBOUR, 1024);

        ByteBuffer w = ByteBuffer.allocate(4 * N).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer m = ByteBuffer.allocate(4 * N).order(ByteOrder.LITTLE_ENDIAN);
        exponents = new byte[N];
        for (int i = 0; i < N; i++) {
            float x = (float) (r.nextGaussian() * 0.02);
            w.putFloat(x);
            exponents[i] = (byte) (Float.floatToRawIntBits(x) >>> 23);
            m.putFloat(r.nextInt(50) == 0 ? 0f : (float) (1e-8 * Math.exp(r.nextGaussian() * 2)));
        }
        exponentOrder0 = rans(exponents, 256, ContextRans.Model.ORDER0, 0);
        exponentPrevious = rans(exponents, 256, ContextRans.Model.PREVIOUS, 0);
        weightPlanes = planes(w.array());
        momentPlanes = planes(m.array());
        System.out.printf("%nstreams: indices %d, exponents order-0 %d / previous %d, weight planes %d, moment planes %d bytes%n",
                indexStream.length, exponentOrder0.length, exponentPrevious.length, weightPlanes.length, momentPlanes.length);
    }

    /** A stream of the format this codec writes (the four-lane models of format version 3). */
    private static byte[] rans(byte[] s, int alphabet, ContextRans.Model model, int row) {
        BytesOut out = new BytesOut(s.length);
        LaneRans.Contexts contexts = switch (model) {
            case ORDER0 -> LaneRans.order0(s, s.length, alphabet);
            case NEIGHBOUR -> LaneRans.neighbour(s, s.length, alphabet, row);
            case PREVIOUS -> LaneRans.previous(s, s.length, alphabet, LaneRans.pairCounts(s, s.length, alphabet), LaneRans.MAX_PREVIOUS_CONTEXTS);
        };
        LaneRans.encode(s, s.length, alphabet, contexts, out);
        return out.toByteArray();
    }

    private static byte[] planes(byte[] payload) {
        BytesOut out = new BytesOut(payload.length);
        BytePlaneCoder.encode(payload, 4, true, null, out);
        return out.toByteArray();
    }

    private static byte[] ransDecode(byte[] stream, int alphabet) throws CorruptObjectException {
        byte[] dst = new byte[N];
        ContextRans.decode(new BytesIn(stream, 0, stream.length), dst, N, alphabet);
        return dst;
    }

    private static byte[] planesDecode(byte[] stream) throws CorruptObjectException {
        byte[] dst = new byte[4 * N];
        BytePlaneCoder.decode(new BytesIn(stream, 0, stream.length), dst, null);
        return dst;
    }

    @Benchmark
    public byte[] ransIndicesNeighbour() throws CorruptObjectException { return ransDecode(indexStream, 16); }

    @Benchmark
    public byte[] ransExponentsOrder0() throws CorruptObjectException { return ransDecode(exponentOrder0, 256); }

    @Benchmark
    public byte[] ransExponentsPrevious() throws CorruptObjectException { return ransDecode(exponentPrevious, 256); }

    @Benchmark
    public byte[] planesWeights() throws CorruptObjectException { return planesDecode(weightPlanes); }

    @Benchmark
    public byte[] planesMoments() throws CorruptObjectException { return planesDecode(momentPlanes); }
}
