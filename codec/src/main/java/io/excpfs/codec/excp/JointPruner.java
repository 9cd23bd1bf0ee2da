package io.excpfs.codec.excp;

import io.excpfs.codec.CodecParams;

/**
 * Which weight residuals and Adam moments survive (ExCP step 2, plus the scale-free budget rule).
 *
 * <ul>
 *   <li>{@link CodecParams.Keep#PUBLISHED}: keep ΔW where {@code |ΔW| > median(|ΔW|) · min(2.5, α / sqrt(mean(v)))},
 *       with v the paired exp_avg_sq. An unpaired weight uses the mean of every exp_avg_sq of its checkpoint set
 *       instead (the same gradient scale, without guessing which moment is its own); with no moments in the set at
 *       all it takes the cap, {@code 2.5 · median(|ΔW|)}. The median is the lower median.</li>
 *   <li>{@link CodecParams.Keep#BUDGET}: keep ΔW where {@code |ΔW| > budget · RMS(ΔW)}: the same relative cut
 *       whatever the gradient scale or learning rate.</li>
 *   <li>Moments (both rules): keep m where {@code |m| > β · mean(|m|)} and the paired weight residual was kept
 *       (unpaired: the β rule alone).</li>
 * </ul>
 * Thresholds are computed in double and compared in fp32: {@code |x| > (float) threshold}.
 */
public final class JointPruner {
    /** ExCP's cap on the median multiplier. */
    public static final double CAP = 2.5;

    private JointPruner() {}

    /** The weight-residual threshold for {@code delta}, given the paired exp_avg_sq (null when unpaired). */
    public static float weightThreshold(float[] delta, float[] expAvgSq, CodecParams p) {
        return weightThreshold(delta, expAvgSq, Double.NaN, p);
    }

    /**
     * As {@link #weightThreshold(float[], float[], CodecParams)}, with {@code setMeanV} (the mean of every
     * exp_avg_sq of the checkpoint set, NaN when it has none) standing in for an unpaired weight's own mean.
     */
    public static float weightThreshold(float[] delta, float[] expAvgSq, double setMeanV, CodecParams p) {
        if (p.keep() == CodecParams.Keep.BUDGET) {
            double sq = 0;
            for (float d : delta) sq += (double) d * d;
            return (float) (p.budget() * Math.sqrt(delta.length == 0 ? 0 : sq / delta.length));
        }
        double factor = CAP;
        if (expAvgSq != null && expAvgSq.length > 0) {
            double mean = 0;
            for (float x : expAvgSq) mean += x;
            mean /= expAvgSq.length;
            factor = Math.min(CAP, p.alpha() / Math.sqrt(mean));
            if (Double.isNaN(factor)) factor = CAP;
        } else if (setMeanV > 0) {
            factor = Math.min(CAP, p.alpha() / Math.sqrt(setMeanV));
        }
        return (float) (MedianSelector.lowerMedianAbs(delta) * factor);
    }

    /** β · mean(|m|). */
    public static float momentThreshold(float[] m, double beta) {
        double sum = 0;
        for (float x : m) sum += Math.abs(x);
        return (float) (beta * (m.length == 0 ? 0 : sum / m.length));
    }
}
