package io.excpfs.fs.ops;

/** statfs(2) figures, in blocks of {@code blockSize}. */
public record StatFs(long blockSize, long totalBlocks, long freeBlocks, long availBlocks, long files, long freeFiles,
                     long maxNameLength) {}
