package io.excpfs.fs.store;

import java.io.IOException;

/** A metadata transaction failed and was rolled back: nothing changed, the operation may be retried. */
public class CommitFailedException extends IOException {
    public CommitFailedException(String message, Throwable cause) { super(message, cause); }
}
