package io.excpfs.bench;

import com.github.luben.zstd.Zstd;
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

/** The kernels of the encoder and decoder on one tensor of 2^20 fp32 elements (4 MB). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgs = {"-Xmx4g"})
public class KernelBenchmarks {
    static final int N = 1 << 20;
    float[] delta;
    float[] v;
    float[] kept;
    float[] centres;
    float[] mids;
    byte[] symbols;
    byte[] ransStream;
    byte[] packed;
    byte[] packedZstd;
    byte[] weights;
    byte[] planeStream;
    CodecParams published = CodecParams.published();
    CodecParams budget = new CodecParams(CodecParams.Mode.EXCP, CodecParams.Keep.BUDGET, 5e-5, 2.0, 4, 4, 1.0);

    @Setup
    public void setup() {
        Random r = new Random(7);
        delta = new float[N];
        v = new float[N];
        for (int i = 0; i < N; i++) {
            delta[i] = (float) (r.nextGaussian() * 1e-4 * Math.exp(r.nextGaussian() * 0.7));
            v[i] = (float) (1e-8 * Math.exp(r.nextGaussian()));
        }
        float thr = JointPruner.weightThreshold(delta, null, budget);
        kept = new float[N];
        int k = 0;
        for (float d : delta) if (Math.abs(d) > thr) kept[k++] = d;
        kept = java.util.Arrays.copyOf(kept, k);
        centres = KMeansQuantizer.fit(kept, k, 15);
        mids = KMeansQuantizer.midpoints(centres);
        symbols = new byte[N];
        for (int i = 0; i < N; i++) symbols[i] = Math.abs(delta[i]) > thr ? (byte) (1 + KMeansQuantizer.assign(delta[i], mids)) : 0;
        BytesOut out = new BytesOut(N);
        LaneRans.encode(symbols, N, 16, LaneRans.neighbour(symbols, N, 16, 1024), out);
        ransStream = out.toByteArray();
        packed = pack4(symbols);
        packedZstd = Zstd.compress(packed, 3);
        ByteBuffer b = ByteBuffer.allocate(4 * N).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < N; i++) b.putFloat((float) (r.nextGaussian() * 0.02));
        weights = b.array();
        BytesOut p = new BytesOut(4 * N);
        BytePlaneCoder.encode(weights, 4, true, null, p);
        planeStream = p.toByteArray();
        System.out.printf("%nindices: rANS %d bytes, 4-bit packed %d, packed + zstd -3 %d, packed + zstd -19 %d; planes %d of %d%n",
                ransStream.length, packed.length, packedZstd.length, Zstd.compress(packed, 19).length, planeStream.length, weights.length);
    }

    static byte[] pack4(byte[] s) {
        byte[] out = new byte[(s.length + 1) / 2];
        for (int i = 0; i < s.length; i += 2) out[i >> 1] = (byte) (s[i] | (i + 1 < s.length ? s[i + 1] << 4 : 0));
        return out;
    }

    @Benchmark
    public float thresholdPublished() { return JointPruner.weightThreshold(delta, v, published); }

    @Benchmark
    public float thresholdBudget() { return JointPruner.weightThreshold(delta, v, budget); }

    @Benchmark
    public float[] kmeansFit() { return KMeansQuantizer.fit(kept, kept.length, 15); }

    @Benchmark
    public byte[] assignIndices() {
        byte[] s = new byte[N];
        for (int i = 0; i < N; i++) s[i] = (byte) (1 + KMeansQuantizer.assign(delta[i], mids));
        return s;
    }

    @Benchmark
    public byte[] pack4Bit() { return pack4(symbols); }

    @Benchmark
    public byte[] pack4BitZstd() { return Zstd.compress(pack4(symbols), 3); }

    @Benchmark
    public byte[] ransEncode() {
        BytesOut out = new BytesOut(N / 2);
        LaneRans.encode(symbols, N, 16, LaneRans.neighbour(symbols, N, 16, 1024), out);
        return out.toByteArray();
    }

    @Benchmark
    public byte[] ransDecode() throws CorruptObjectException {
        byte[] dst = new byte[N];
        ContextRans.decode(new BytesIn(ransStream, 0, ransStream.length), dst, N, 16);
        return dst;
    }

    @Benchmark
    public byte[] planesEncode() {
        BytesOut out = new BytesOut(4 * N);
        BytePlaneCoder.encode(weights, 4, true, null, out);
        return out.toByteArray();
    }

    @Benchmark
    public byte[] planesDecode() throws CorruptObjectException {
        byte[] dst = new byte[4 * N];
        BytePlaneCoder.decode(new BytesIn(planeStream, 0, planeStream.length), dst, null);
        return dst;
    }
}
