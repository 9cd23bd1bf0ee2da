package io.excpfs.fs.fuse;

import io.excpfs.fs.ops.FsException;

import java.nio.ByteBuffer;

/**
 * Optional for a {@link io.excpfs.fs.ops.FileSystemOps}: a read straight into the reply buffer the transport writes
 * to the kernel (a direct {@link ByteBuffer}, valid only during the call) instead of a heap array and a copy.
 */
public interface DirectReads {
    /**
     * Like {@link io.excpfs.fs.ops.FileSystemOps#read}, filling {@code dst[position, limit)} from {@code offset};
     * returns the bytes read (0 at end of file); must not keep {@code dst} after returning. The bytes land at
     * {@code dst}'s position onward; its position afterwards does not matter.
     */
    int read(long fh, long offset, ByteBuffer dst) throws FsException;
}
