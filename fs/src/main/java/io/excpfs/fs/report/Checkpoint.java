package io.excpfs.fs.report;

import io.excpfs.codec.EncodeStats;
import io.excpfs.fs.store.EncodeFigures;
import io.excpfs.fs.store.VersionInfo;

import java.util.List;
import java.util.Map;

/**
 * One checkpoint of a run: the versions of one checkpoint set (the files written together), with figures summed over
 * them. Fractions and errors are NaN where no version of the set has encode figures (HOT, or a store written before
 * they were recorded); errors are element-weighted over the set's files.
 *
 * @param label            the step when the paths name one, else {@code v<first version id>}
 * @param dir              directory of the set's files
 * @param versions         its versions in seal order
 * @param rawBytes         sum of the files' sizes
 * @param storedBytes      sum of the versions' stored bytes (raw size for HOT versions)
 * @param params           parameters (PARAM-role float elements), 0 when unknown
 * @param encoded          true when every version has encode figures
 * @param keptWeights      fraction of weight-residual elements kept, NaN when none were coded lossy
 * @param keptMoments      fraction of moment elements kept, NaN when none were coded lossy
 * @param weightError      relative L2 error of reconstructed weights
 * @param expAvgError      relative L2 error of reconstructed exp_avg
 * @param expAvgSqError    relative L2 error of reconstructed exp_avg_sq
 */
public record Checkpoint(String label, String dir, List<VersionInfo> versions, long rawBytes, long storedBytes, long params,
                         boolean encoded, double keptWeights, double keptMoments, double weightError, double expAvgError,
                         double expAvgSqError) {
    public Checkpoint {
        versions = List.copyOf(versions);
    }

    static Checkpoint of(List<VersionInfo> versions, Map<Long, EncodeFigures> figures) {
        long raw = 0, stored = 0, params = 0;
        long keptW = 0, elemW = 0, keptM = 0, elemM = 0;
        double errW = 0, errA = 0, errS = 0;
        boolean encoded = true;
        long step = -1;
        for (VersionInfo v : versions) {
            raw += v.rawBytes();
            stored += v.storedBytes();
            step = Math.max(step, v.step());
            EncodeFigures f = figures.get(v.id());
            if (f == null) {
                encoded = false;
                continue;
            }
            EncodeStats s = f.stats();
            params += f.params();
            keptW += s.keptWeights();
            elemW += s.weightElements();
            keptM += s.keptMoments();
            elemM += s.momentElements();
            errW += s.weightRelError() * s.weightElements();
            errA += s.expAvgRelError() * s.momentElements();
            errS += s.expAvgSqRelError() * s.momentElements();
        }
        VersionInfo first = versions.get(0);
        String path = first.path();
        String dir = path.lastIndexOf('/') <= 0 ? "/" : path.substring(0, path.lastIndexOf('/'));
        String label = step >= 0 ? Long.toString(step) : "v" + first.id();
        return new Checkpoint(label, dir, versions, raw, stored, params, encoded,
                elemW == 0 ? Double.NaN : (double) keptW / elemW, elemM == 0 ? Double.NaN : (double) keptM / elemM,
                elemW == 0 ? Double.NaN : errW / elemW, elemM == 0 ? Double.NaN : errA / elemM, elemM == 0 ? Double.NaN : errS / elemM);
    }

    /** Raw over stored bytes. */
    public double ratio() {
        return storedBytes == 0 ? Double.NaN : (double) rawBytes / storedBytes;
    }

    /** Stored bits per parameter of the whole checkpoint (weights, moments and everything else), NaN when unknown. */
    public double bitsPerParam() {
        return encoded && params > 0 ? storedBytes * 8.0 / params : Double.NaN;
    }

    /** The kinds of its versions, e.g. {@code residual} or {@code seed+opaque}. */
    public String kinds() {
        return String.join("+", versions.stream().map(VersionInfo::kind).distinct().toList());
    }
}
