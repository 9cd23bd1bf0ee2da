package io.excpfs.fs.ops;

/** The errno values excpfs returns, with their Linux numbers. */
public enum Errno {
    EPERM(1), ENOENT(2), EIO(5), EBADF(9), EAGAIN(11), ENOMEM(12), EACCES(13), EBUSY(16), EEXIST(17), EXDEV(18),
    ENOTDIR(20), EISDIR(21), EINVAL(22), EFBIG(27), ENOSPC(28), EROFS(30), EMLINK(31), ERANGE(34),
    ENAMETOOLONG(36), ENOSYS(38), ENOTEMPTY(39), ENODATA(61), ENOTSUP(95);

    public final int code;

    Errno(int code) { this.code = code; }
}
