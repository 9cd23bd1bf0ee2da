package io.excpfs.bench;

import java.io.PrintStream;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The codec's kernels and full encode/decode as one markdown table of CPU time per call (see {@link CpuTimeRun}):
 * threshold (median / RMS), k-means, index assignment, packing, entropy coding (rANS, byte planes), full residual
 * encode, reconstruction (residual decode onto its base) and seed decode per setting, and plain Java against
 * nd4j-native when the nd4j classes are on the class path (built with {@code -Pnd4j}). MB/s per core = bytes of fp32
 * payload the call covers ÷ thread CPU time. The table goes to stdout, everything the benchmarks print to stderr. Usage: {@code KernelTable [calls] [kernels|codec|all]}.
 */
public final class KernelTable {
    private static final long TENSOR_BYTES = 4L * KernelBenchmarks.N;

    record Row(String spec, String method, String label, long bytes) {}

    private KernelTable() {}

    public static void main(String[] args) throws Exception {
        int calls = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        String which = args.length > 1 ? args[1] : "all";
        List<Row> rows = new ArrayList<>();
        if (!which.equals("codec")) kernels(rows);
        if (!which.equals("kernels")) codec(rows);
        boolean nd4j = nd4jPresent();
        if (nd4j && !which.equals("codec")) {
            String c = "io.excpfs.bench.nd4j.ResidualKernelBenchmark";
            rows.add(new Row(c, "plainJava", "ΔW = W − Ŵ and mean abs(ΔW): plain Java loop", TENSOR_BYTES));
            rows.add(new Row(c, "nd4j", "ΔW = W − Ŵ and mean abs(ΔW): nd4j-native sub + abs + mean", TENSOR_BYTES));
            rows.add(new Row(c, "nd4jWithCopies", "the same in nd4j, with the copies from/to Java arrays", TENSOR_BYTES));
        }
        PrintStream table = System.out;
        System.setOut(System.err);
        table.println("| kernel | thread CPU / call | MB/s per core | process CPU / call (all threads) |");
        table.println("|---|---|---|---|");
        String current = null;
        Object bench = null;
        for (Row r : rows) {
            if (!r.spec().equals(current)) {
                bench = CpuTimeRun.instantiate(r.spec());
                current = r.spec();
            }
            Method m = bench.getClass().getMethod(r.method());
            CpuTimeRun.Sample s = CpuTimeRun.measure(bench, m, calls);
            long bytes = bench instanceof CodecBenchmarks c ? c.ckpt.next().length : r.bytes();
            table.printf(Locale.ROOT, "| %s | %s | %.0f | %s |%n", r.label(), time(s.threadNanos()),
                    bytes / 1e6 / (s.threadNanos() / 1e9), time(s.processNanos()));
        }
        if (!nd4j && !which.equals("codec")) {
            table.println();
            table.println("nd4j rows missing: build with `mvn -o -q -B -pl bench -am package -DskipTests -Pnd4j`.");
        }
    }

    private static void kernels(List<Row> rows) {
        String k = KernelBenchmarks.class.getName();
        rows.add(new Row(k, "thresholdPublished", "threshold, published rule: exact median of abs(ΔW) (2^20 fp32)", TENSOR_BYTES));
        rows.add(new Row(k, "thresholdBudget", "threshold, budget rule: RMS of ΔW (2^20 fp32)", TENSOR_BYTES));
        rows.add(new Row(k, "kmeansFit", "k-means fit, 15 centres on the kept residuals (sampled)", TENSOR_BYTES));
        rows.add(new Row(k, "assignIndices", "nearest-centre assignment (2^20 values)", TENSOR_BYTES));
        rows.add(new Row(k, "pack4Bit", "dense 4-bit packing of 2^20 indices", TENSOR_BYTES));
        rows.add(new Row(k, "pack4BitZstd", "4-bit packing + zstd -3", TENSOR_BYTES));
        rows.add(new Row(k, "ransEncode", "entropy coding: rANS encode of 2^20 indices, neighbour context", TENSOR_BYTES));
        rows.add(new Row(k, "ransDecode", "entropy decoding: rANS decode of 2^20 indices", TENSOR_BYTES));
        rows.add(new Row(k, "planesEncode", "lossless: byte planes encode (4 MB fp32 weights)", TENSOR_BYTES));
        rows.add(new Row(k, "planesDecode", "lossless: byte planes decode (4 MB)", TENSOR_BYTES));
    }

    private static void codec(List<Row> rows) {
        long bytes = -1;
        for (String setting : new String[]{"default", "budget", "published", "lossless"}) {
            String c = CodecBenchmarks.class.getName() + ":setting=" + setting;
            rows.add(new Row(c, "encodeResidual", "full encode of a residual checkpoint, " + setting + " (64 MB, W + m + v)", bytes));
            rows.add(new Row(c, "decodeResidual", "reconstruction: residual decode onto its base, " + setting + " (64 MB)", bytes));
            rows.add(new Row(c, "decodeSeed", "seed decode, " + setting + " (64 MB)", bytes));
        }
    }

    private static boolean nd4jPresent() {
        try {
            Class.forName("io.excpfs.bench.nd4j.ResidualKernelBenchmark");
            Class.forName("org.nd4j.linalg.factory.Nd4j");
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    private static String time(double nanos) {
        return nanos >= 1e8 ? String.format(Locale.ROOT, "%.0f ms", nanos / 1e6) : String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
    }
}
