package io.excpfs.bench;

import io.excpfs.codec.CheckpointCodec;
import io.excpfs.codec.Reconstruction;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Decodes a chain of stored objects (seed first, then each residual against the previous reconstruction) the way a
 * COLD read on a fresh daemon does, and prints per object the wall time and the CPU time of all threads of the
 * process, from a cold JVM (round 1) and again (later rounds). Usage:
 * {@code ChainDecodeRun ROUNDS OBJECT_FILE...}, objects named as in the store's objects/ directory.
 */
public final class ChainDecodeRun {
    private ChainDecodeRun() {}

    /**
     * With {@code -Dwarmup=true} and the cache module on the class path: runs the mount's decoder warm-up
     * ({@code io.excpfs.cache.DecoderWarmUp}) to its end first, and prints its CPU time.
     */
    private static void warmUp() throws Exception {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long w0 = System.nanoTime(), c0 = os.getProcessCpuTime();
        Class.forName("io.excpfs.cache.DecoderWarmUp").getMethod("start").invoke(null);
        for (Thread t : Thread.getAllStackTraces().keySet()) if (t.getName().equals("excpfs-decoder-warm-up")) t.join();
        System.out.printf("warm-up: wall %.3f s, process cpu %.3f s%n", (System.nanoTime() - w0) / 1e9, (os.getProcessCpuTime() - c0) / 1e9);
    }

    public static void main(String[] args) throws Exception {
        int rounds = Integer.parseInt(args[0]);
        if (Boolean.getBoolean("warmup")) warmUp();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        for (int round = 1; round <= rounds; round++) {
            Reconstruction base = null;
            long total0 = System.nanoTime();
            for (int i = 1; i < args.length; i++) {
                long w0 = System.nanoTime(), c0 = os.getProcessCpuTime(), t0 = threads.getCurrentThreadCpuTime();
                byte[] object = Files.readAllBytes(Path.of(args[i]));
                Reconstruction r = CheckpointCodec.decode(object, base);
                long w = System.nanoTime() - w0, c = os.getProcessCpuTime() - c0, t = threads.getCurrentThreadCpuTime() - t0;
                System.out.printf("round %d object %d: %d -> %d bytes, wall %.3f s (%.0f MB/s), process cpu %.3f s, this thread cpu %.3f s (%.0f MB/s per core)%n",
                        round, i, object.length, r.size(), w / 1e9, r.size() / 1e3 / (w / 1e6), c / 1e9, t / 1e9, r.size() / 1e3 / (t / 1e6));
                base = r;
            }
            System.out.printf("round %d chain: wall %.3f s%n", round, (System.nanoTime() - total0) / 1e9);
        }
    }
}
