package io.excpfs.fs.store;

import java.io.IOException;

/**
 * The commit of a metadata transaction raised an error: it may or may not be durable. Callers must not clean up
 * anything the transaction would have referenced; the next open of the store settles the state.
 */
public class CommitStateUnknownException extends IOException {
    public CommitStateUnknownException(String message, Throwable cause) { super(message, cause); }
}
