package io.excpfs.fs.store;

import io.excpfs.codec.ObjectStream;
import io.excpfs.fs.store.blob.BlobChannel;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/** The object file of a COLD version, read as it decodes; refused unless its CRC32C is the one the metadata holds. */
final class ColdObjectStream implements ObjectStream {
    private final String name;
    private final BlobChannel channel;
    private final int crc;
    private final long size;

    /** Takes ownership of {@code channel}. */
    ColdObjectStream(String name, BlobChannel channel, int crc) throws IOException {
        this.name = name;
        this.channel = channel;
        this.crc = crc;
        try {
            this.size = channel.size();
        } catch (IOException e) {
            channel.close();
            throw e;
        }
    }

    @Override public long size() { return size; }

    @Override public void read(long pos, byte[] dst, int off, int len) throws IOException {
        if (pos < 0 || len < 0 || pos + len > size) throw new EOFException(name + ": read past the end at " + pos);
        channel.readFully(ByteBuffer.wrap(dst, off, len), pos, name);
    }

    @Override public void verify(int crc32c) throws CorruptDataException {
        if (crc32c != crc) throw new CorruptDataException("object " + name + " fails its CRC32C");
    }

    @Override public void close() throws IOException { channel.close(); }
}
