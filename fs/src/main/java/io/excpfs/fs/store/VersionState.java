package io.excpfs.fs.store;

/** Where a version's bytes live. */
public enum VersionState {
    /** The exact bytes written, block-checksummed. */
    HOT,
    /** An encoded object (seed, residual or opaque) decoded on read. */
    COLD
}
