package io.excpfs.cache;

import io.excpfs.codec.CorruptObjectException;

/**
 * A version could not be reconstructed because its object, or the object of an ancestor in its chain, is corrupt,
 * or because the chain itself is broken (it loops). {@link #versionId()} names the version whose object failed.
 */
public class CorruptVersionException extends CorruptObjectException {
    private final long versionId;

    public CorruptVersionException(long versionId, Reason reason, String message, Throwable cause) {
        super(reason, message);
        this.versionId = versionId;
        if (cause != null) initCause(cause);
    }

    /** The version whose stored object (or chain link) is bad. */
    public long versionId() { return versionId; }
}
