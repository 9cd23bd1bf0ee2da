package io.excpfs.codec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Random-access read-only bytes: a file or an array. Files larger than 2 GiB are supported. */
public interface ByteSource extends AutoCloseable {
    long size();

    /** Reads exactly {@code len} bytes at {@code pos}; fails with EOFException past the end. */
    void read(long pos, byte[] dst, int off, int len) throws IOException;

    default byte[] read(long pos, int len) throws IOException {
        byte[] b = new byte[len];
        read(pos, b, 0, len);
        return b;
    }

    @Override default void close() throws IOException {}

    static ByteSource of(byte[] data) {
        return new ByteSource() {
            @Override public long size() { return data.length; }

            @Override public void read(long pos, byte[] dst, int off, int len) throws IOException {
                if (pos < 0 || pos + len > data.length) throw new java.io.EOFException("read past end at " + pos);
                System.arraycopy(data, (int) pos, dst, off, len);
            }
        };
    }

    static ByteSource open(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        long size = ch.size();
        return new ByteSource() {
            @Override public long size() { return size; }

            @Override public void read(long pos, byte[] dst, int off, int len) throws IOException {
                if (pos < 0 || pos + len > size) throw new java.io.EOFException("read past end at " + pos + " of " + path);
                ByteBuffer bb = ByteBuffer.wrap(dst, off, len);
                while (bb.hasRemaining()) {
                    int n = ch.read(bb, pos + bb.position() - off);
                    if (n < 0) throw new java.io.EOFException("file shrank while reading " + path);
                }
            }

            @Override public void close() throws IOException { ch.close(); }
        };
    }

    static UncheckedIOException unchecked(IOException e) { return new UncheckedIOException(e); }
}
