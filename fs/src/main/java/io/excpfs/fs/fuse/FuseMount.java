package io.excpfs.fs.fuse;

import io.excpfs.fs.ops.FileSystemOps;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One live FUSE mount of a {@link FileSystemOps}. {@link #start} returns once the kernel lists the mount;
 * {@link #close} unmounts and waits for the serving threads to end. The ops are not closed here: their owner closes
 * them after the loop has ended, so no callback can race the close.
 *
 * <p>Transports ({@link #TRANSPORT_PROPERTY}): {@value #KERNEL} (default) speaks the kernel protocol on /dev/fuse
 * itself ({@link KernelSession}: 1 MiB requests, atomic O_TRUNC, libfuse 2's hidden names), mounted with mount(2)
 * as root or through fusermount otherwise; {@value #LIBFUSE} is libfuse 2 through jnr-fuse ({@link FuseBoundary},
 * options {@code big_writes,max_write=131072,atomic_o_trunc,subtype=excpfs}, and {@code hard_remove} unless the
 * ops understand libfuse's {@link HiddenNames}), also used when the kernel transport cannot mount. Reads always
 * go through the page cache, so mmap works; on Linux 6.6 and later the kernel transport opens write-only handles
 * with {@code FOPEN_DIRECT_IO} ({@link #DIRECT_WRITES_PROPERTY}).
 */
public final class FuseMount implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(FuseMount.class.getName());
    /** User-facing FUSE options accepted in {@code -o}. */
    public static final List<String> PASSTHROUGH_OPTIONS = List.of("allow_other", "default_permissions", "ro");
    static final List<String> FIXED_OPTIONS =
            List.of("big_writes", "max_write=131072", "atomic_o_trunc", "subtype=excpfs");

    /** System property (or env EXCPFS_FUSE_TRANSPORT) choosing the transport: {@value #KERNEL} or {@value #LIBFUSE}. */
    public static final String TRANSPORT_PROPERTY = "excpfs.fuse.transport";
    static final String THREADS_PROPERTY = "excpfs.fuse.threads";
    /** {@code fusermount} makes a root daemon mount through fusermount too (as any other user does). */
    static final String MOUNTER_PROPERTY = "excpfs.fuse.mounter";
    /** Read-ahead in KiB set on kernel-transport mounts (0 keeps the kernel's). */
    static final String READAHEAD_PROPERTY = "excpfs.fuse.readahead_kb";
    /** {@code false} keeps write-only opens in the page cache (see {@link KernelSession}'s direct writes). */
    static final String DIRECT_WRITES_PROPERTY = "excpfs.fuse.direct_writes";
    public static final String KERNEL = "kernel", LIBFUSE = "libfuse";

    private final Path mountPoint;
    private final CompletableFuture<Integer> loop;
    private final String transport;
    private final KernelSession session;
    private final String mounter;

    private FuseMount(Path mountPoint, CompletableFuture<Integer> loop, String transport, KernelSession session,
                      String mounter) {
        this.mountPoint = mountPoint;
        this.loop = loop;
        this.transport = transport;
        this.session = session;
        this.mounter = mounter;
    }

    /** How the file system was mounted: {@code mount(2)}, {@code fusermount} or {@code libfuse}. */
    String mounter() { return mounter; }

    /** {@value #KERNEL} (this package speaks /dev/fuse) or {@value #LIBFUSE} (libfuse 2 through jnr-fuse). */
    public String transport() { return transport; }

    /** The kernel transport's session (null for libfuse), for tests that look at what was negotiated. */
    KernelSession session() { return session; }

    /**
     * Mounts {@code ops} at {@code mountPoint} and returns once the mount is live.
     *
     * @param source       shown as the mount's source in /proc/mounts (e.g. the store directory)
     * @param fuseOptions  extra options from {@link #PASSTHROUGH_OPTIONS}
     * @throws IOException naming the mount point when libfuse refuses the mount or it does not appear in time
     */
    public static FuseMount start(FileSystemOps ops, Path mountPoint, String source, List<String> fuseOptions,
                                  Duration timeout) throws IOException {
        for (String o : fuseOptions) {
            if (!PASSTHROUGH_OPTIONS.contains(o)) throw new IllegalArgumentException("unsupported FUSE option: " + o);
        }
        if (!Files.isDirectory(mountPoint)) throw new IOException("mount point is not a directory: " + mountPoint);
        Path mp = mountPoint.toRealPath();
        if (isFuseMount(mp)) throw new IOException("already a FUSE mount: " + mp);
        String fsName = source.replace(",", "_").replace(" ", "_");
        if (!LIBFUSE.equals(selectedTransport())) {
            try {
                return startKernel(ops, mp, fsName, fuseOptions);
            } catch (IOException | LinkageError e) {
                LOG.log(Level.WARNING, "kernel FUSE transport unavailable for " + mp + " (" + e.getMessage()
                        + "); using libfuse 2");
            }
        }
        return startLibfuse(ops, mp, source, fsName, fuseOptions, timeout);
    }

    /** The transport {@link #start} tries first: {@code -Dexcpfs.fuse.transport} or EXCPFS_FUSE_TRANSPORT. */
    static String selectedTransport() {
        String t = System.getProperty(TRANSPORT_PROPERTY, System.getenv("EXCPFS_FUSE_TRANSPORT"));
        return t == null || t.isBlank() ? KERNEL : t.strip();
    }

    private static FuseMount startKernel(FileSystemOps ops, Path mp, String fsName, List<String> fuseOptions)
            throws IOException {
        List<String> data = new ArrayList<>();
        for (String o : fuseOptions) {
            if (!o.equals("ro")) data.add(o);
        }
        boolean ro = fuseOptions.contains("ro");
        FuseDevice device;
        String how;
        if (FuseDevice.LIBC.getuid() == 0 && !"fusermount".equals(System.getProperty(MOUNTER_PROPERTY))) {
            long flags = FuseDevice.MS_NOSUID | FuseDevice.MS_NODEV | (ro ? FuseDevice.MS_RDONLY : 0);
            device = FuseDevice.mountDirect(mp, fsName, "fuse.excpfs", flags, String.join(",", data));
            how = "mount(2)";
        } else {
            List<String> opts = new ArrayList<>(List.of(ro ? "ro" : "rw", "nosuid", "nodev", "fsname=" + fsName, "subtype=excpfs"));
            opts.addAll(data);
            device = FuseDevice.mountWithFusermount(mp, String.join(",", opts));
            how = "fusermount";
        }
        KernelProtocol.Wanted d = KernelProtocol.Wanted.DEFAULT;
        boolean direct = !"false".equals(System.getProperty(DIRECT_WRITES_PROPERTY));
        KernelSession session = new KernelSession(ops, device, new KernelProtocol.Wanted(d.maxWrite(), d.maxReadahead(), d.maxBackground(), direct));
        CompletableFuture<Integer> loop = session.start(Integer.getInteger(THREADS_PROPERTY, 8), mp.toString());
        String readahead = raiseReadahead(mp, Integer.getInteger(READAHEAD_PROPERTY, 1024));
        LOG.log(Level.INFO, "mounted " + fsName + " at " + mp + " (transport=kernel via " + how + ", fd=" + device.fd()
                + (data.isEmpty() ? "" : "," + String.join(",", data)) + (ro ? ",ro" : "")
                + ", " + readahead + ")");
        return new FuseMount(mp, loop, KERNEL, session, how);
    }

    /**
     * Read-ahead of the mount's backing device: FUSE_INIT can only lower the kernel's 128 KiB default, so it is
     * raised through {@code /sys/class/bdi/<major>:<minor>/read_ahead_kb} where that is writable (root). With
     * FUSE_MAX_PAGES each read-ahead request is then up to 1 MiB and several are in flight. Returns what it did.
     */
    static String raiseReadahead(Path mp, int kib) {
        if (kib <= 0) return "read_ahead_kb unchanged";
        try {
            long dev = ((Number) Files.getAttribute(mp, "unix:dev")).longValue();
            long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
            long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
            Path knob = Path.of("/sys/class/bdi", major + ":" + minor, "read_ahead_kb");
            Files.writeString(knob, Integer.toString(kib));
            return "read_ahead_kb=" + Files.readString(knob).strip();
        } catch (IOException | RuntimeException e) {
            return "read_ahead_kb unchanged (" + e.getMessage() + ")";
        }
    }

    private static FuseMount startLibfuse(FileSystemOps ops, Path mp, String source, String fsName,
                                          List<String> fuseOptions, Duration timeout) throws IOException {
        List<String> opts = new ArrayList<>(FIXED_OPTIONS);
        if (!(ops instanceof HiddenNames)) opts.add("hard_remove");
        opts.add("fsname=" + fsName);
        opts.addAll(fuseOptions);
        String[] args = {"-o", String.join(",", opts)};
        FuseBoundary fs = new FuseBoundary(ops, "excpfs");
        CompletableFuture<Integer> loop = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                fs.mount(mp, true, false, args);
                loop.complete(0);
            } catch (Throwable e) {
                loop.completeExceptionally(e);
            }
        }, "fuse-loop " + mp);
        t.setDaemon(true);
        t.start();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!isFuseMount(mp)) {
            if (loop.isDone()) throw new IOException("FUSE mount of " + mp + " failed: " + outcome(loop));
            if (System.nanoTime() > deadline) {
                new FuseMount(mp, loop, LIBFUSE, null, LIBFUSE).close();
                throw new IOException("FUSE mount of " + mp + " did not appear within " + timeout);
            }
            sleep(20);
        }
        LOG.log(Level.INFO, "mounted " + source + " at " + mp + " (transport=libfuse, " + String.join(",", opts) + ")");
        return new FuseMount(mp, loop, LIBFUSE, null, LIBFUSE);
    }

    private static String outcome(CompletableFuture<Integer> loop) {
        try {
            return "loop ended with " + loop.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            return c + (c.getCause() != null ? " (" + c.getCause() + ")" : "");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public Path mountPoint() { return mountPoint; }

    /** Blocks until the file system is unmounted (by {@link #close}, {@code fusermount -u} or umount). */
    public void awaitUnmounted() throws InterruptedException {
        try {
            loop.get();
        } catch (ExecutionException e) {
            LOG.log(Level.WARNING, "FUSE loop of " + mountPoint + " ended: " + e.getCause());
        }
    }

    public boolean isLive() { return !loop.isDone(); }

    /** Unmounts (lazily if busy) and waits for the FUSE loop to end. Idempotent. */
    @Override
    public void close() {
        if (isFuseMount(mountPoint) && run("fusermount", "-u", mountPoint.toString()) != 0) {
            LOG.log(Level.WARNING, "mount point busy, unmounting lazily: " + mountPoint);
            run("fusermount", "-u", "-z", mountPoint.toString());
        }
        try {
            loop.get(60, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            LOG.log(Level.ERROR, "FUSE loop of " + mountPoint + " still running 60 s after unmount");
        } catch (ExecutionException e) {
            LOG.log(Level.WARNING, "FUSE loop of " + mountPoint + " ended: " + e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            int rc = p.waitFor();
            if (rc != 0) LOG.log(Level.WARNING, String.join(" ", cmd) + " exited " + rc + ": " + out);
            return rc;
        } catch (IOException e) {
            LOG.log(Level.ERROR, "cannot run " + cmd[0] + ": " + e);
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** True when /proc/self/mountinfo lists a FUSE file system mounted exactly at {@code path}. */
    public static boolean isFuseMount(Path path) {
        String target = path.toAbsolutePath().normalize().toString();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
                String[] f = line.split(" ");
                int dash = line.indexOf(" - ");
                if (f.length < 5 || dash < 0) continue;
                String type = line.substring(dash + 3).split(" ")[0];
                if (type.startsWith("fuse") && unescape(f[4]).equals(target)) return true;
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot read /proc/self/mountinfo: " + e);
        }
        return false;
    }

    /** mountinfo escapes space, tab, newline and backslash as {@code \ooo}; bytes are UTF-8. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        byte[] in = s.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < in.length; i++) {
            if (in[i] == '\\' && i + 3 < in.length && isOctal(in[i + 1]) && isOctal(in[i + 2]) && isOctal(in[i + 3])) {
                out.write((in[i + 1] - '0') * 64 + (in[i + 2] - '0') * 8 + (in[i + 3] - '0'));
                i += 3;
            } else {
                out.write(in[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static boolean isOctal(byte b) { return b >= '0' && b <= '7'; }
}
