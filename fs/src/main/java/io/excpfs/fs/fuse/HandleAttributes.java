package io.excpfs.fs.fuse;

import io.excpfs.fs.ops.Attr;
import io.excpfs.fs.ops.FsException;

/**
 * Optional for a {@link io.excpfs.fs.ops.FileSystemOps}: attributes through an open handle, for fstat(2) on a
 * file that was unlinked or replaced while open (the kernel then has no path to ask about).
 */
public interface HandleAttributes {
    /** The attributes the handle's file had when opened, with its current size. */
    Attr fgetattr(long fh) throws FsException;
}
