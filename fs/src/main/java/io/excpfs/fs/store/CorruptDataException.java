package io.excpfs.fs.store;

import java.io.IOException;

/** Stored bytes failed their checksum or structure check; the message names the object and offset. */
public class CorruptDataException extends IOException {
    public CorruptDataException(String message) { super(message); }

    public CorruptDataException(String message, Throwable cause) { super(message, cause); }
}
