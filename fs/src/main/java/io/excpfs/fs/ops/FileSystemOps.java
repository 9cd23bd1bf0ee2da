package io.excpfs.fs.ops;

import java.util.List;

/**
 * The file system as plain Java: POSIX semantics over absolute paths inside the mount ("/", "/a/b.pt"). The FUSE
 * adapter is a thin, total boundary over this interface; tests call it directly without a mount.
 *
 * <p>Every method either succeeds or throws {@link FsException} with the errno POSIX prescribes. Any other
 * exception is a bug and becomes EIO plus a log line at the boundary. Implementations are thread safe.
 *
 * <p>File handles are opaque longs returned by {@link #create} and {@link #open}; a handle sees the version it
 * opened (a reader keeps a consistent view) until {@link #release}.
 */
public interface FileSystemOps extends AutoCloseable {
    /** O_* flags used here (Linux values). */
    int O_ACCMODE = 3, O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0100, O_EXCL = 0200, O_TRUNC = 01000,
            O_APPEND = 02000;
    /** renameat2 flags. */
    int RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2;
    /** setxattr flags. */
    int XATTR_CREATE = 1, XATTR_REPLACE = 2;

    Attr getattr(String path) throws FsException;

    /** Entry names of a directory, without "." and "..". */
    List<String> readdir(String path) throws FsException;

    void mkdir(String path, int mode) throws FsException;

    void rmdir(String path) throws FsException;

    void unlink(String path) throws FsException;

    /** Atomic rename of a file or directory, replacing an existing target as rename(2) does. */
    void rename(String from, String to, int flags) throws FsException;

    void symlink(String target, String linkPath) throws FsException;

    String readlink(String path) throws FsException;

    /** Hard links: either supported or EPERM. */
    void link(String existing, String newPath) throws FsException;

    void chmod(String path, int mode) throws FsException;

    void chown(String path, int uid, int gid) throws FsException;

    /** Times in ns since the epoch; {@code Long.MIN_VALUE} leaves a time unchanged. */
    void utimens(String path, long atimeNanos, long mtimeNanos) throws FsException;

    void truncate(String path, long size) throws FsException;

    /** Creates (or opens, without O_EXCL) a regular file and returns a handle open with {@code flags}. */
    long create(String path, int mode, int flags) throws FsException;

    long open(String path, int flags) throws FsException;

    /** Reads into {@code dst[0..len)} at {@code offset}; returns bytes read, 0 at end of file. */
    int read(long fh, long offset, byte[] dst, int len) throws FsException;

    /** Writes {@code src[0..len)} at {@code offset} (at end of file for O_APPEND handles); returns bytes written. */
    int write(long fh, long offset, byte[] src, int len) throws FsException;

    void ftruncate(long fh, long size) throws FsException;

    /** Makes the handle's data durable (and seals the version when the file is complete). */
    void fsync(long fh, boolean dataOnly) throws FsException;

    /** Called on each close(2) of a descriptor sharing the handle. */
    void flush(long fh) throws FsException;

    /** Last close: a file written through this handle is sealed into a version. */
    void release(long fh) throws FsException;

    byte[] getxattr(String path, String name) throws FsException;

    void setxattr(String path, String name, byte[] value, int flags) throws FsException;

    List<String> listxattr(String path) throws FsException;

    void removexattr(String path, String name) throws FsException;

    StatFs statfs() throws FsException;

    /** Returns once every pending seal, demotion and encode is committed. */
    void flushAll() throws FsException;

    @Override void close();
}
