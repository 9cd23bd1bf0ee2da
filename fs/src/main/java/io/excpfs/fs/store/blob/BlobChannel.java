package io.excpfs.fs.store.blob;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/** An open file of {@link Blobs}: positional reads and writes, like a {@code FileChannel}. Not thread safe unless said. */
public interface BlobChannel extends AutoCloseable {
    long size() throws IOException;

    /** Reads at most {@code dst.remaining()} bytes at {@code pos}; may read fewer; -1 at end of file. */
    int read(ByteBuffer dst, long pos) throws IOException;

    /** Writes at most {@code src.remaining()} bytes at {@code pos}; may write fewer; returns the count. */
    int write(ByteBuffer src, long pos) throws IOException;

    /** Cuts the file to {@code size} bytes (no effect when it is shorter). */
    void truncate(long size) throws IOException;

    /** Forces content and size to stable storage (fsync). */
    void force() throws IOException;

    /**
     * Starts writing {@code [pos, pos + length)} to stable storage without waiting (a hint that makes a later
     * {@link #force} shorter; only {@code force} makes the bytes durable). Does nothing by default.
     */
    default void startWriteback(long pos, long length) {}

    @Override void close() throws IOException;

    /** Fills {@code dst} from {@code pos}; {@link EOFException} naming {@code name} and the offset at end of file. */
    default void readFully(ByteBuffer dst, long pos, String name) throws IOException {
        long at = pos;
        while (dst.hasRemaining()) {
            int n = read(dst, at);
            if (n < 0) throw new EOFException(name + ": truncated, end of file at offset " + at);
            at += n;
        }
    }

    /** Writes all of {@code src} at {@code pos}. */
    default void writeFully(ByteBuffer src, long pos) throws IOException {
        long at = pos;
        while (src.hasRemaining()) at += write(src, at);
    }
}
