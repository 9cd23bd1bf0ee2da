package io.excpfs.codec;

/** How a stored version's payload is coded. */
public enum Kind {
    /** Chain root: every region stored losslessly, no base needed. */
    SEED,
    /** Stored against the reconstruction of the previous version. */
    RESIDUAL,
    /** Not a recognised checkpoint: the whole file stored losslessly. */
    OPAQUE;

    public String label() { return name().toLowerCase(java.util.Locale.ROOT); }
}
