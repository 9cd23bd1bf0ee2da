package io.excpfs.codec;

import java.io.EOFException;
import java.io.IOException;
import java.util.zip.CRC32C;

/**
 * A stored object as it is read, front to back, while it decodes ({@link PendingReconstruction#decode}): its size,
 * positional reads, and the store's own check of the whole object once every byte has been read.
 */
public interface ObjectStream extends AutoCloseable {
    long size() throws IOException;

    /** Reads exactly {@code len} bytes at {@code pos}; fails with {@link EOFException} past the end. */
    void read(long pos, byte[] dst, int off, int len) throws IOException;

    /**
     * Called once every byte has been read, with the CRC32C of the whole object, before any byte decoded from it is
     * served; throws when the store's record of the object differs (the decode then fails with this exception).
     */
    default void verify(int crc32c) throws IOException {}

    @Override default void close() throws IOException {}

    /** Reads the whole object and {@linkplain #verify verifies} it. */
    default byte[] readAll() throws IOException {
        long size = size();
        if (size > Integer.MAX_VALUE - 16) throw new IOException("object of " + size + " bytes is too large to decode");
        byte[] b = new byte[(int) size];
        read(0, b, 0, b.length);
        CRC32C crc = new CRC32C();
        crc.update(b, 0, b.length);
        verify((int) crc.getValue());
        return b;
    }

    /** An object already in memory (nothing to verify). */
    static ObjectStream of(byte[] object) { return new ObjectInMemory(object); }
}

/** {@link ObjectStream#of}: decoded straight from the array, without a copy. */
record ObjectInMemory(byte[] object) implements ObjectStream {
    @Override public long size() { return object.length; }

    @Override public void read(long pos, byte[] dst, int off, int len) throws EOFException {
        if (pos < 0 || len < 0 || pos + len > object.length) throw new EOFException("read past the end of the object at " + pos);
        System.arraycopy(object, (int) pos, dst, off, len);
    }

    @Override public byte[] readAll() { return object; }
}
