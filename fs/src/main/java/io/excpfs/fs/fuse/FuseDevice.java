package io.excpfs.fs.fuse;

import com.kenai.jffi.MemoryIO;
import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.intptr_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;
import jnr.posix.CmsgHdr;
import jnr.posix.MsgHdr;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import jnr.posix.SpawnFileAction;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One open {@code /dev/fuse} connection: mounted with mount(2) (as root) or through {@code fusermount} (the
 * {@code _FUSE_COMMFD} protocol, any user), then read and written by the session's threads. Requests and replies
 * move between native buffers ({@link #allocate}) without a copy on the Java heap.
 */
final class FuseDevice implements AutoCloseable {
    static final int EINTR = 4, ENOENT = 2, EAGAIN = 11, ENODEV = 19;
    private static final int O_RDWR = 2, O_CLOEXEC = 02000000;
    static final long MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4;
    private static final int AF_UNIX = 1, SOCK_STREAM = 1, SCM_RIGHTS = 1, FD_CLOEXEC = 1;
    private static final String COMMFD = "_FUSE_COMMFD";

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

    /**
     * Mounts through {@code fusermount} (setuid root, so any user may): it is spawned with one end of a socket pair
     * named in {@code _FUSE_COMMFD}, opens /dev/fuse, mounts it with {@code options} and passes the descriptor
     * back (SCM_RIGHTS). {@code fusermount -u} unmounts as usual.
     */
    static FuseDevice mountWithFusermount(Path mountPoint, String options) throws IOException {
        POSIX posix = POSIXFactory.getNativePOSIX();
        int[] sv = new int[2];
        if (posix.socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) throw new IOException("socketpair failed: " + describe(posix.errno()));
        try {
            List<String> env = new ArrayList<>();
            for (Map.Entry<String, String> e : System.getenv().entrySet()) {
                if (!e.getKey().equals(COMMFD)) env.add(e.getKey() + "=" + e.getValue());
            }
            env.add(COMMFD + "=" + sv[0]);
            List<String> argv = List.of("fusermount", "-o", options, "--", mountPoint.toString());
            long pid = posix.posix_spawnp("fusermount", List.of(SpawnFileAction.close(sv[1])), argv, env);
            posix.close(sv[0]);
            sv[0] = -1;
            if (pid <= 0) throw new IOException("cannot start fusermount: " + describe(posix.errno()));
            MsgHdr msg = posix.allocateMsgHdr();
            msg.setIov(new ByteBuffer[] {ByteBuffer.allocateDirect(1)});
            msg.allocateControl(Integer.BYTES);
            int n = posix.recvmsg(sv[1], msg, 0);
            int[] status = new int[1];
            posix.waitpid(pid, status, 0);
            CmsgHdr[] controls = msg.getControls();
            if (n <= 0 || controls.length == 0 || controls[0].getType() != SCM_RIGHTS) {
                throw new IOException("fusermount -o " + options + " " + mountPoint + " passed no /dev/fuse descriptor"
                        + " (exit status " + (status[0] >> 8 & 0xff) + ")");
            }
            int fd = controls[0].getData().order(ByteOrder.nativeOrder()).getInt(0);
            posix.fcntlInt(fd, jnr.constants.platform.Fcntl.F_SETFD, FD_CLOEXEC);
            return new FuseDevice(fd);
        } finally {
            if (sv[0] >= 0) posix.close(sv[0]);
            posix.close(sv[1]);
        }
    }

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

    /** Outcomes of {@link #write}. */
    static final int DELIVERED = 1, REQUEST_GONE = 0, CONNECTION_GONE = -1;

    /**
     * Writes one reply: {@link #DELIVERED}; {@link #REQUEST_GONE} when the kernel no longer waits for it (the
     * request was interrupted: ENOENT); {@link #CONNECTION_GONE} once unmounted.
     */
    int write(long address, int length) throws IOException {
        while (true) {
            long n = LIBC.write(fd, address, length);
            if (n == length) return DELIVERED;
            if (n >= 0) throw new IOException("short write to /dev/fuse: " + n + " of " + length);
            int e = errno();
            if (e == EINTR) continue;
            if (e == ENOENT) return REQUEST_GONE;
            if (e == ENODEV || closed) return CONNECTION_GONE;
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
