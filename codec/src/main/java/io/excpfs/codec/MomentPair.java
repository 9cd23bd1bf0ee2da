package io.excpfs.codec;

/** A parameter and its Adam moments; either moment may be null when the optimizer keeps none for it. */
public record MomentPair(TensorRef param, TensorRef expAvg, TensorRef expAvgSq) {}
