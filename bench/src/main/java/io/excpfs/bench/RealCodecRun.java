package io.excpfs.bench;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.CheckpointCodec;
import io.excpfs.codec.CodecParams;
import io.excpfs.codec.EncodedFile;
import io.excpfs.codec.Formats;
import io.excpfs.codec.Layout;
import io.excpfs.codec.Pairer;
import io.excpfs.codec.Pairing;
import io.excpfs.codec.Reconstruction;
import io.excpfs.codec.SetMember;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * Codec speed and ratio on two consecutive real checkpoint files (e.g. two {@code torch.save} files of a training
 * run, one step apart): seed encode, seed decode, residual encode against the seed's reconstruction, residual
 * decode, in MB of checkpoint bytes per second of the calling thread's CPU time, median over {@code calls} calls
 * after two warm-up calls. Parsing and pairing happen once, outside the timed calls. Decoding spreads regions over
 * a pool unless {@code -Dexcpfs.decodeThreads=1}; run with that flag, or the calling thread's CPU time covers only
 * part of the work (the process CPU column shows it). Usage:
 * {@code RealCodecRun [calls] FIRST_FILE SECOND_FILE}.
 */
public final class RealCodecRun {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private RealCodecRun() {}

    private record Timing(double threadNanos, double processNanos) {}

    private static <T> Timing time(int calls, Callable<T> op) throws Exception {
        for (int i = 0; i < 2; i++) op.call();
        double[] t = new double[calls], p = new double[calls];
        for (int i = 0; i < calls; i++) {
            long t0 = THREADS.getCurrentThreadCpuTime(), p0 = CpuTimeRun.processCpu();
            op.call();
            t[i] = THREADS.getCurrentThreadCpuTime() - t0;
            p[i] = CpuTimeRun.processCpu() - p0;
        }
        Arrays.sort(t);
        Arrays.sort(p);
        return new Timing(t[calls / 2], p[calls / 2]);
    }

    private static void row(String what, long bytes, Timing t) {
        System.out.printf(Locale.ROOT, "| %s | %.1f ms | %.0f | %.1f ms |%n", what, t.threadNanos() / 1e6,
                bytes / 1e3 / (t.threadNanos() / 1e6), t.processNanos() / 1e6);
    }

    public static void main(String[] args) throws Exception {
        int calls = args.length > 2 ? Integer.parseInt(args[0]) : 5;
        Path first = Path.of(args[args.length - 2]), second = Path.of(args[args.length - 1]);
        byte[] a = Files.readAllBytes(first), b = Files.readAllBytes(second);
        Layout la = Formats.parse(ByteSource.of(a)), lb = Formats.parse(ByteSource.of(b));
        String name = first.getFileName().toString();
        CodecParams params = CodecParams.defaults();
        List<SetMember> seedSet = List.of(new SetMember(name, ByteSource.of(a), la, null));
        Pairing seedPairing = Pairer.pair(seedSet);
        EncodedFile seed = CheckpointCodec.encodeSet(seedSet, seedPairing, params).get(0);
        Reconstruction base = seed.reconstruction();
        List<SetMember> residualSet = List.of(new SetMember(name, ByteSource.of(b), lb, base));
        Pairing residualPairing = Pairer.pair(residualSet);
        EncodedFile residual = CheckpointCodec.encodeSet(residualSet, residualPairing, params).get(0);
        if (!Arrays.equals(CheckpointCodec.decode(seed.object(), null).toByteArray(), a)) throw new AssertionError("seed does not decode to the file");
        if (!Arrays.equals(CheckpointCodec.decode(residual.object(), base).toByteArray(), residual.reconstruction().toByteArray())) {
            throw new AssertionError("residual does not decode to the encoder's reconstruction");
        }
        System.out.printf(Locale.ROOT, "%s: %d bytes, %d regions (%s), %d pairs; seed %s %d bytes (%.4fx); residual %s %d bytes (%.2fx), "
                        + "weights kept %.2f%%; decode threads %s%n",
                first, a.length, la.regions().size(), la.format(), residualPairing.pairs().size(), seed.kind(), seed.object().length,
                (double) a.length / seed.object().length, residual.kind(), residual.object().length,
                (double) b.length / residual.object().length, 100.0 * residual.stats().keptWeights() / Math.max(1, residual.stats().weightElements()),
                System.getProperty("excpfs.decodeThreads", "all cores"));
        System.out.println();
        System.out.println("| real checkpoint, " + a.length / 1_000_000 + " MB | thread CPU / call | MB/s per core | process CPU / call (all threads) |");
        System.out.println("|---|---|---|---|");
        row("seed encode (lossless)", a.length, time(calls, () -> CheckpointCodec.encodeSet(seedSet, seedPairing, params)));
        row("seed decode", a.length, time(calls, () -> CheckpointCodec.decode(seed.object(), null)));
        row("residual encode, default", b.length, time(calls, () -> CheckpointCodec.encodeSet(residualSet, residualPairing, params)));
        row("residual decode, default", b.length, time(calls, () -> CheckpointCodec.decode(residual.object(), base)));
    }
}
