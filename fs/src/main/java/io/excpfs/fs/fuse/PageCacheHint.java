package io.excpfs.fs.fuse;

/**
 * Optional for a {@link io.excpfs.fs.ops.FileSystemOps}: whether the kernel may keep the page cache it holds for a
 * file when a handle is opened ({@code FOPEN_KEEP_CACHE}). Without it the kernel drops the file's cached pages at
 * every open, so a checkpoint read twice goes through the daemon twice.
 */
public interface PageCacheHint {
    /**
     * True only when every page the kernel may hold for the opened file has the bytes this handle reads: the file
     * was last opened at the same immutable version and nothing was written to it since.
     */
    boolean keepCache(long fh);
}
