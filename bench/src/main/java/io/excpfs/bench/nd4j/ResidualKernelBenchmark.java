package io.excpfs.bench.nd4j;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The kernel that justifies plain Java: ΔW = W − Ŵ, then mean |ΔW| (the first pass of every residual), on fp32
 * arrays, in a plain loop against nd4j-native (OpenBLAS/libnd4j), both single-threaded. Built only with -Pnd4j.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgs = {"-Xmx4g", "-Dorg.bytedeco.openblas.nthreads=1", "-DOMP_NUM_THREADS=1"})
public class ResidualKernelBenchmark {
    @Param({"1048576"})
    int n;

    float[] w, base, delta;
    INDArray wNd, baseNd;

    @Setup
    public void setup() {
        Nd4j.getEnvironment().setMaxMasterThreads(1);
        Random r = new Random(3);
        w = new float[n];
        base = new float[n];
        delta = new float[n];
        for (int i = 0; i < n; i++) {
            base[i] = (float) (r.nextGaussian() * 0.02);
            w[i] = base[i] + (float) (r.nextGaussian() * 1e-4);
        }
        wNd = Nd4j.createFromArray(w);
        baseNd = Nd4j.createFromArray(base);
        if (wNd.dataType() != DataType.FLOAT) throw new IllegalStateException("nd4j array is not fp32");
    }

    @Benchmark
    public double plainJava() {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float d = w[i] - base[i];
            delta[i] = d;
            sum += Math.abs(d);
        }
        return sum / n;
    }

    @Benchmark
    public double nd4j() {
        INDArray d = wNd.sub(baseNd);
        return Transforms.abs(d, true).meanNumber().doubleValue();
    }

    /** nd4j including the copies in and out of Java arrays that the codec needs (payload lives in byte[]). */
    @Benchmark
    public float[] nd4jWithCopies() {
        INDArray d = Nd4j.createFromArray(w).subi(Nd4j.createFromArray(base));
        double mean = Transforms.abs(d, true).meanNumber().doubleValue();
        float[] out = d.toFloatVector();
        out[0] += (float) (mean * 0);
        return out;
    }
}
