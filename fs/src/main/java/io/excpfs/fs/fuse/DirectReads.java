package io.excpfs.fs.fuse;

import io.excpfs.fs.ops.FsException;

import java.nio.ByteBuffer;

/**
 * Optional for a {@link io.excpfs.fs.ops.FileSystemOps}: a read into the reply buffer itself (a direct
 * {@link ByteBuffer} over the kernel transport's native reply buffer, valid only during the call) instead of into a
 * heap array that is then copied there.
 */
public interface DirectReads {
    /**
     * Like {@link io.excpfs.fs.ops.FileSystemOps#read}, into {@code dst[position, limit)}: returns the bytes read (0
     * at or past the end of the file), which are {@code dst[position, position + count)} with the position moved past
     * them. Must not keep {@code dst} after returning.
     */
    int read(long fh, long offset, ByteBuffer dst) throws FsException;
}
