package io.excpfs.codec.format;

/** Content that does not parse completely within the limits; becomes an opaque layout carrying this message. */
class MalformedCheckpoint extends Exception {
    MalformedCheckpoint(String message) {
        super(message, null, false, false);
    }

    static MalformedCheckpoint at(long offset, String what) {
        return new MalformedCheckpoint(what + " at offset " + offset);
    }
}
