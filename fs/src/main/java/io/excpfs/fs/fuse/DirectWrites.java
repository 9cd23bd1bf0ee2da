package io.excpfs.fs.fuse;

import io.excpfs.fs.ops.FsException;

import java.nio.ByteBuffer;

/**
 * Optional for a {@link io.excpfs.fs.ops.FileSystemOps}: a write that takes the kernel's buffer itself (a direct
 * {@link ByteBuffer} over libfuse's memory, valid only during the call) instead of a copy on the Java heap.
 */
public interface DirectWrites {
    /**
     * Like {@link io.excpfs.fs.ops.FileSystemOps#write}, with the bytes {@code src[position, limit)}; must not keep
     * {@code src} after returning.
     */
    int write(long fh, long offset, ByteBuffer src) throws FsException;
}
