package io.excpfs.bench;

import io.excpfs.codec.CheckpointCodec;
import io.excpfs.codec.CodecParams;
import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.EncodedFile;
import io.excpfs.codec.Reconstruction;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Full encode and decode of a 64 MB synthetic checkpoint (16 × 512×682 fp32 weights with both moments). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 10)
@Fork(value = 1, jvmArgs = {"-Xmx8g"})
public class CodecBenchmarks {
    @Param({"budget", "published", "lossless", "default"})
    String setting;

    SyntheticCheckpoint ckpt;
    Reconstruction base;
    CodecParams params;
    byte[] residual;
    byte[] seed;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        ckpt = SyntheticCheckpoint.of(16, 512, 682, 1);
        params = switch (setting) {
            case "published" -> CodecParams.published();
            case "lossless" -> CodecParams.lossless();
            case "default" -> CodecParams.defaults();
            default -> new CodecParams(CodecParams.Mode.EXCP, CodecParams.Keep.BUDGET, 5e-5, 2.0, 4, 4, 1.0);
        };
        EncodedFile s = CheckpointCodec.encodeSet(List.of(ckpt.seedMember()), ckpt.pairing(), params).get(0);
        seed = s.object();
        base = s.reconstruction();
        residual = CheckpointCodec.encodeSet(List.of(ckpt.nextMember(base)), ckpt.pairing(), params).get(0).object();
        System.out.printf("%n[%s] checkpoint %d bytes, seed object %d, residual object %d (%.1fx)%n", setting,
                ckpt.next().length, seed.length, residual.length, (double) ckpt.next().length / residual.length);
    }

    @Benchmark
    public EncodedFile encodeResidual() throws IOException {
        return CheckpointCodec.encodeSet(List.of(ckpt.nextMember(base)), ckpt.pairing(), params).get(0);
    }

    @Benchmark
    public Reconstruction decodeResidual() throws CorruptObjectException {
        return CheckpointCodec.decode(residual, base);
    }

    @Benchmark
    public Reconstruction decodeSeed() throws CorruptObjectException {
        return CheckpointCodec.decode(seed, null);
    }
}
