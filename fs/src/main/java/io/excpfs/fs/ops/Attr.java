package io.excpfs.fs.ops;

/**
 * Attributes of one inode, as stat(2) reports them.
 *
 * @param ino   inode number
 * @param mode  file type and permission bits (S_IFREG|0644 etc.)
 * @param nlink link count
 * @param uid   owner
 * @param gid   group
 * @param size  size in bytes
 * @param atimeNanos access time, ns since the epoch
 * @param mtimeNanos modification time
 * @param ctimeNanos status change time
 */
public record Attr(long ino, int mode, int nlink, int uid, int gid, long size, long atimeNanos, long mtimeNanos,
                   long ctimeNanos) {
    public static final int S_IFMT = 0170000, S_IFREG = 0100000, S_IFDIR = 0040000, S_IFLNK = 0120000;

    public boolean isDir() { return (mode & S_IFMT) == S_IFDIR; }

    public boolean isFile() { return (mode & S_IFMT) == S_IFREG; }

    public boolean isSymlink() { return (mode & S_IFMT) == S_IFLNK; }
}
