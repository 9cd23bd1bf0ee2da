package io.excpfs.bench;

import io.excpfs.codec.CheckpointCodec;
import io.excpfs.codec.CodecParams;
import io.excpfs.codec.EncodedFile;
import io.excpfs.codec.Reconstruction;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;

/**
 * Quick single-threaded throughput of the full codec on the 64 MB synthetic checkpoint, outside JMH (for profiling
 * with JFR). Usage: {@code SpeedRun [budget|published|lossless] [rounds]}.
 */
public final class SpeedRun {
    private SpeedRun() {}

    public static void main(String[] args) throws Exception {
        String setting = args.length > 0 ? args[0] : "budget";
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        CodecParams p = switch (setting) {
            case "published" -> CodecParams.published();
            case "lossless" -> CodecParams.lossless();
            default -> CodecParams.defaults();
        };
        SyntheticCheckpoint c = SyntheticCheckpoint.of(16, 512, 682, 1);
        EncodedFile seed = CheckpointCodec.encodeSet(List.of(c.seedMember()), c.pairing(), p).get(0);
        Reconstruction base = seed.reconstruction();
        double mb = c.next().length / 1e6;
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime(), c0 = cpu.getCurrentThreadCpuTime();
            EncodedFile e = CheckpointCodec.encodeSet(List.of(c.nextMember(base)), c.pairing(), p).get(0);
            long t1 = System.nanoTime(), c1 = cpu.getCurrentThreadCpuTime();
            Reconstruction d = CheckpointCodec.decode(e.object(), base);
            long t2 = System.nanoTime(), c2 = cpu.getCurrentThreadCpuTime();
            CheckpointCodec.decode(seed.object(), null);
            long t3 = System.nanoTime(), c3 = cpu.getCurrentThreadCpuTime();
            if (d.size() != c.next().length) throw new AssertionError("decoded size");
            System.out.printf("%s: %.1f MB -> residual %d bytes (%.1fx), seed %d bytes (%.3fx); MB/s wall (cpu): encode %.0f (%.0f),"
                            + " decode %.0f (%.0f), seed decode %.0f (%.0f)%n",
                    setting, mb, e.object().length, c.next().length / (double) e.object().length, seed.object().length,
                    c.next().length / (double) seed.object().length, mb / ((t1 - t0) / 1e9), mb / ((c1 - c0) / 1e9),
                    mb / ((t2 - t1) / 1e9), mb / ((c2 - c1) / 1e9), mb / ((t3 - t2) / 1e9), mb / ((c3 - c2) / 1e9));
        }
    }
}
