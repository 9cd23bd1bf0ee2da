package io.excpfs.fs.ops;

/** A POSIX error from a file system operation; the FUSE boundary returns {@code -errno().code}. */
public class FsException extends Exception {
    private final Errno errno;

    public FsException(Errno errno, String message) {
        super(errno + ": " + message);
        this.errno = errno;
    }

    public FsException(Errno errno, String message, Throwable cause) {
        super(errno + ": " + message, cause);
        this.errno = errno;
    }

    public Errno errno() { return errno; }
}
