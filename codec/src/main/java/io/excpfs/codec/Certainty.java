package io.excpfs.codec;

/** How sure a pairing is. Only {@link #CERTAIN} and {@link #LIKELY} pairings are used by the encoder. */
public enum Certainty { CERTAIN, LIKELY, NONE }
