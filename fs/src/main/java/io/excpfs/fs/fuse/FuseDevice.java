package io.excpfs.fs.fuse;

import com.kenai.jffi.MemoryIO;
import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.intptr_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * One open {@code /dev/fuse} connection: mounted with mount(2) (as root) or through {@code fusermount} (the
 * {@code _FUSE_COMMFD} protocol, any user), then read and written by the session's threads. Requests and replies
 * move between native buffers ({@link #allocate}) without a copy on the Java heap.
 */
final class FuseDevice implements AutoCloseable {
    static final int EINTR = 4, ENOENT = 2, EAGAIN = 11, ENODEV = 19;
    private static final int O_RDWR = 2, O_CLOEXEC = 02000000;
    static final long MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4;

    /** The libc calls the transport needs; buffers are native addresses. */
    public interface LibC {
        @SaveError int open(byte[] path, int flags);

        @SaveError @ssize_t long read(int fd, @intptr_t long buf, @size_t long count);

        @SaveError @ssize_t long write(int fd, @intptr_t long buf, @size_t long count);

        @SaveError int close(int fd);

        @SaveError int mount(byte[] source, byte[] target, byte[] type, long flags, byte[] data);

        @SaveError int getuid();

        @SaveError int getgid();

        String strerror(int errno);
    }

    static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
    private static final jnr.ffi.Runtime RUNTIME = jnr.ffi.Runtime.getRuntime(LIBC);

    private final int fd;
    private volatile boolean closed;

    private FuseDevice(int fd) {
        this.fd = fd;
    }

    int fd() { return fd; }

    static int errno() { return RUNTIME.getLastError(); }

    static String describe(int errno) {
        String s = LIBC.strerror(errno);
        return (s == null ? "errno" : s) + " (" + errno + ")";
    }

    static byte[] cString(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        byte[] c = new byte[utf8.length + 1];
        System.arraycopy(utf8, 0, c, 0, utf8.length);
        return c;
    }

    /** Opens /dev/fuse and mounts it at {@code mountPoint} with mount(2); needs CAP_SYS_ADMIN. */
    static FuseDevice mountDirect(Path mountPoint, String source, String type, long flags, String options)
            throws IOException {
        int fd = LIBC.open(cString("/dev/fuse"), O_RDWR | O_CLOEXEC);
        if (fd < 0) throw new IOException("cannot open /dev/fuse: " + describe(errno()));
        String data = "fd=" + fd + ",rootmode=40000,user_id=" + LIBC.getuid() + ",group_id=" + LIBC.getgid()
                + (options.isEmpty() ? "" : "," + options);
        if (LIBC.mount(cString(source), cString(mountPoint.toString()), cString(type), flags, cString(data)) != 0) {
            int e = errno();
            LIBC.close(fd);
            throw new IOException("mount(2) of " + mountPoint + " (" + type + ", " + data + ") failed: " + describe(e));
        }
        return new FuseDevice(fd);
    }

    /** Wraps a connected /dev/fuse descriptor (from fusermount). */
    static FuseDevice of(int fd) { return new FuseDevice(fd); }

    /** A native buffer of {@code size} bytes, little-endian; it lives as long as the returned buffer. */
    static ByteBuffer allocate(int size) {
        return ByteBuffer.allocateDirect(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    static long address(ByteBuffer direct) {
        return MemoryIO.getInstance().getDirectBufferAddress(direct);
    }

    /**
     * Reads one request into {@code [address, address + capacity)}. Returns its length, or -1 once the file
     * system is unmounted (ENODEV). Interrupted or vanished requests (EINTR, ENOENT, EAGAIN) are retried.
     */
    int read(long address, int capacity) throws IOException {
        while (true) {
            long n = LIBC.read(fd, address, capacity);
            if (n >= 0) return (int) n;
            int e = errno();
            if (e == EINTR || e == ENOENT || e == EAGAIN) continue;
            if (e == ENODEV || closed) return -1;
            throw new IOException("read of /dev/fuse failed: " + describe(e));
        }
    }

    /**
     * Writes one reply. A reply to a request the kernel no longer waits for (interrupted: ENOENT) is dropped;
     * returns false when the connection is gone.
     */
    boolean write(long address, int length) throws IOException {
        while (true) {
            long n = LIBC.write(fd, address, length);
            if (n == length) return true;
            if (n >= 0) throw new IOException("short write to /dev/fuse: " + n + " of " + length);
            int e = errno();
            if (e == EINTR) continue;
            if (e == ENOENT) return true;
            if (e == ENODEV || closed) return false;
            throw new IOException("write to /dev/fuse failed: " + describe(e));
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        LIBC.close(fd);
    }
}
