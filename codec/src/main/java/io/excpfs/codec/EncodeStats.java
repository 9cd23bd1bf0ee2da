package io.excpfs.codec;

/**
 * Figures of one encoded file.
 *
 * @param rawBytes        file size
 * @param storedBytes     object size
 * @param lossyElements   elements of regions that went through the lossy codec
 * @param keptWeights     weight-residual elements kept (not pruned)
 * @param weightElements  weight elements coded as residuals
 * @param keptMoments     moment elements kept
 * @param momentElements  moment elements coded
 * @param weightRelError  relative L2 error of reconstructed weights, ‖Ŵ−W‖/‖W‖ (0 when lossless)
 * @param expAvgRelError  relative L2 error of reconstructed exp_avg
 * @param expAvgSqRelError relative L2 error of reconstructed exp_avg_sq
 */
public record EncodeStats(long rawBytes, long storedBytes, long lossyElements, long keptWeights, long weightElements,
                          long keptMoments, long momentElements, double weightRelError, double expAvgRelError,
                          double expAvgSqRelError) {
    public static EncodeStats lossless(long raw, long stored) { return new EncodeStats(raw, stored, 0, 0, 0, 0, 0, 0, 0, 0); }
}
