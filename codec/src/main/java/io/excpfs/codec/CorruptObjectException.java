package io.excpfs.codec;

/** A stored object failed its checksum or structural checks, or is of an unsupported format version. */
public class CorruptObjectException extends Exception {
    public enum Reason { CORRUPT, TOO_OLD, TOO_NEW, TRUNCATED }

    private final Reason reason;

    public CorruptObjectException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() { return reason; }
}
