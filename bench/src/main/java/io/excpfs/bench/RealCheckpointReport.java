package io.excpfs.bench;

import com.github.luben.zstd.Zstd;
import io.excpfs.codec.CheckpointCodec;
import io.excpfs.codec.CodecParams;
import io.excpfs.codec.EncodeStats;
import io.excpfs.codec.EncodedFile;
import io.excpfs.codec.Reconstruction;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Compression figures on real checkpoints (see BENCHMARKS.md): lossless seed against zstd -19 and byte grouping +
 * zstd -19; lossless residual against XOR + byte grouping + zstd -19; ExCP chains under several settings.
 *
 * <p>Usage: {@code RealCheckpointReport STEP_DIR...} (oldest first).
 */
public final class RealCheckpointReport {
    private RealCheckpointReport() {}

    static long zstd(byte[] b) { return Zstd.compress(b, 19).length; }

    static long groupedZstd(byte[] b, byte[] base) {
        int n = b.length / 4;
        long total = 0;
        for (int p = 0; p < 4; p++) {
            byte[] plane = new byte[n];
            for (int i = 0; i < n; i++) plane[i] = (byte) (b[4 * i + p] ^ (base == null ? 0 : base[4 * i + p]));
            total += Zstd.compress(plane, 19).length;
        }
        return total;
    }

    /** Usage: {@code [--excp-only] STEP_DIR...}, oldest first. */
    public static void main(String[] args) throws Exception {
        List<RawCheckpoint> steps = new ArrayList<>();
        boolean excpOnly = false;
        for (String a : args) {
            if (a.equals("--excp-only")) excpOnly = true;
            else steps.add(RawCheckpoint.load(Path.of(a)));
        }
        RawCheckpoint first = steps.get(0), second = steps.get(1);
        long raw = first.bytes().length;
        System.out.printf("checkpoint: %d bytes, %d regions%n", raw, first.layout().regions().size());
        if (!excpOnly) lossless(first, second);
        excp(steps);
    }

    static void lossless(RawCheckpoint first, RawCheckpoint second) throws Exception {
        long raw = first.bytes().length;

        EncodedFile seed = CheckpointCodec.encodeSet(List.of(first.member(null)), first.pairing(), CodecParams.lossless()).get(0);
        System.out.printf("seed   zstd -19: %d (%.3fx)  byte planes + zstd -19: %d (%.3fx)  excpfs lossless: %d (%.3fx)%n",
                zstd(first.bytes()), (double) raw / zstd(first.bytes()), groupedZstd(first.bytes(), null),
                (double) raw / groupedZstd(first.bytes(), null), seed.object().length, (double) raw / seed.object().length);
        EncodedFile res = CheckpointCodec.encodeSet(List.of(second.member(seed.reconstruction())), second.pairing(), CodecParams.lossless()).get(0);
        long xor = groupedZstd(second.bytes(), first.bytes());
        System.out.printf("resid  XOR + byte planes + zstd -19: %d (%.3fx)  excpfs lossless residual: %d (%.3fx)%n",
                xor, (double) raw / xor, res.object().length, (double) raw / res.object().length);
    }

    static void excp(List<RawCheckpoint> steps) throws Exception {

        List<Object[]> settings = List.of(
                new Object[] {"published a=5e-5", CodecParams.published()},
                new Object[] {"published a=2e-4", new CodecParams(CodecParams.Mode.EXCP, CodecParams.Keep.PUBLISHED, 2e-4, 2.0, 4, 4, 1)},
                new Object[] {"budget 0.5", new CodecParams(CodecParams.Mode.EXCP, CodecParams.Keep.BUDGET, 5e-5, 2.0, 4, 4, 0.5)},
                new Object[] {"budget 1.0", CodecParams.defaults()},
                new Object[] {"budget 1.5", new CodecParams(CodecParams.Mode.EXCP, CodecParams.Keep.BUDGET, 5e-5, 2.0, 4, 4, 1.5)},
                new Object[] {"budget 1.0 opt3", new CodecParams(CodecParams.Mode.EXCP, CodecParams.Keep.BUDGET, 5e-5, 2.0, 4, 3, 1.0)},
                new Object[] {"budget 1.5 opt2", new CodecParams(CodecParams.Mode.EXCP, CodecParams.Keep.BUDGET, 5e-5, 2.0, 4, 2, 1.5)});
        for (Object[] s : settings) {
            CodecParams p = (CodecParams) s[1];
            Reconstruction base = null;
            long stored = 0, rawResid = 0, kept = 0, elems = 0;
            double werr = 0, merr = 0, verr = 0, encodeNs = 0, decodeNs = 0;
            int resid = 0;
            for (RawCheckpoint c : steps) {
                long t0 = System.nanoTime();
                EncodedFile e = CheckpointCodec.encodeSet(List.of(c.member(base)), c.pairing(), p).get(0);
                long t1 = System.nanoTime();
                Reconstruction d = CheckpointCodec.decode(e.object(), base);
                long t2 = System.nanoTime();
                if (!java.util.Arrays.equals(d.toByteArray(), e.reconstruction().toByteArray())) throw new AssertionError("decode differs");
                if (base != null) {
                    EncodeStats st = e.stats();
                    resid++;
                    stored += e.object().length;
                    rawResid += c.bytes().length;
                    kept += st.keptWeights();
                    elems += st.weightElements();
                    werr += st.weightRelError();
                    merr += st.expAvgRelError();
                    verr += st.expAvgSqRelError();
                    encodeNs += t1 - t0;
                    decodeNs += t2 - t1;
                }
                base = e.reconstruction();
            }
            System.out.printf("%-18s residual ratio %6.1fx  bits/param(all 3) %.3f  weights kept %5.1f%%  rel err w %.2e m %.3f v %.3f"
                            + "  encode %.0f MB/s decode %.0f MB/s%n",
                    s[0], (double) rawResid / stored, stored * 8.0 / (rawResid / 12.0), 100.0 * kept / elems, werr / resid, merr / resid,
                    verr / resid, rawResid / (encodeNs / 1e3), rawResid / (decodeNs / 1e3));
        }
    }
}
