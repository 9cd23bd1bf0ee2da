package io.excpfs.fs.fuse;

import io.excpfs.fs.ops.FsException;

import java.nio.ByteBuffer;

/**
 * Optional for a {@link io.excpfs.fs.ops.FileSystemOps}: a read into the reply buffer itself (a direct
 * {@link ByteBuffer} over the kernel transport's native reply buffer, valid only during the call) instead of a heap
 * array copied there.
 */
public interface DirectReads {
    /**
     * Like {@link io.excpfs.fs.ops.FileSystemOps#read}, into {@code dst[position, limit)}; returns the bytes read
     * (0 at the end of the file) and must not keep {@code dst} after returning.
     */
    int read(long fh, long offset, ByteBuffer dst) throws FsException;
}
