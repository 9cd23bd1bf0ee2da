package io.excpfs.codec;

/** A stored object failed its checksum or structural checks, or is of an unsupported format version. */
public class CorruptObjectException extends Exception {
    /**
     * Why the object cannot be read: damaged bytes, a version outside the readable range, a short object, or a
     * residual handed a base that is not the one it was encoded against.
     */
    public enum Reason { CORRUPT, TOO_OLD, TOO_NEW, TRUNCATED, WRONG_BASE }

    private final Reason reason;

    public CorruptObjectException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() { return reason; }
}
