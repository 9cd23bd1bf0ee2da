package io.excpfs.fs.store;

import java.io.IOException;

/** The store directory is not an excpfs store, or was written by a newer excpfs. */
public class StoreFormatException extends IOException {
    public StoreFormatException(String message) { super(message); }
}
