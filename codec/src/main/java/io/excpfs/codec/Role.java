package io.excpfs.codec;

/** What a tensor region holds; decides how it may be coded. */
public enum Role {
    /** A model parameter (or buffer) stored as weights. Lossy: residual against the base. */
    PARAM,
    /** Adam first moment. Lossy: stored as values, pruned jointly with its parameter. */
    EXP_AVG,
    /** Adam second moment. Lossy: stored as values. */
    EXP_AVG_SQ,
    /** Float data of unknown meaning (step counters, scalers, unrecognised state): lossless. */
    OTHER_FLOAT,
    /** Integer, bool and other payload: lossless. */
    NON_FLOAT;

    public boolean lossy() { return this == PARAM || this == EXP_AVG || this == EXP_AVG_SQ; }
}
