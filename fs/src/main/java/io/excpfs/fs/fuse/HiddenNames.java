package io.excpfs.fs.fuse;

/**
 * Optional for a {@link io.excpfs.fs.ops.FileSystemOps}: it understands libfuse 2's hidden names. A file unlinked
 * or replaced while open is then renamed by libfuse to {@code .fuse_hidden<node><counter>} in its directory, fstat(2)
 * of its descriptors asks for that name, and the name is unlinked after the last release; the ops must keep such
 * names out of listings and out of the way of rmdir. Mounts of ops without it use {@code hard_remove} instead, where
 * libfuse forgets the file's name at once and fstat(2) of its descriptors fails with ENOENT (the kernel never passes
 * the handle for fstat, and libfuse 2's high-level API needs a path).
 */
public interface HiddenNames {
}
