package io.excpfs.fs.mount;

import io.excpfs.fs.fuse.FuseMount;
import io.excpfs.fs.ops.FileSystemOps;
import io.excpfs.fs.ops.FsException;
import io.excpfs.fs.store.VersionInfo;
import io.excpfs.fs.store.VersionState;
import io.excpfs.fs.store.VersionStatus;

/**
 * Compiles the FUSE request path before the trainer needs it. A fresh JVM runs jnr-fuse's upcalls (argument
 * marshalling, {@code FuseFileInfo} structs) and the boundary interpreted for the first thousand requests or so:
 * measured on a 256 MB HOT file, the first {@code cat} after a mount took about 190 us per 128 KiB read request
 * in the handlers alone (105 us CPU) against 29 us warm, and about twice the wall time of a warm daemon's cold
 * read. {@link #start} calls the read and write callbacks on {@link StoreFileSystem#WARM_UP} (zeros, a sink)
 * {@link #REQUESTS} times each through their native entry points ({@link FuseMount#warmUp}) on a daemon thread,
 * once per mount; then, when the store has a HOT live file of at least a megabyte, its first megabyte is read the
 * same way, 2000 times 128 KiB (reads only), which compiles the HOT read path (pinned version, block checks) too: with the synthetic
 * warm-up alone, the C2 compiler still took a quarter of the daemon's CPU during the first real read. Nothing goes
 * through the kernel, so nothing is held open on the mount.
 */
public final class MountWarmUp {
    private static final System.Logger LOG = System.getLogger(MountWarmUp.class.getName());
    /** Calls of each kind: past the C1 thresholds of every method on the path, most past C2's. */
    static final int REQUESTS = 5000;
    private static final int CHUNK = 128 * 1024;

    private MountWarmUp() {}

    /** Starts the warm-up of {@code mount}, which serves {@code fs}, on a daemon thread; returns at once. */
    public static Thread start(FuseMount mount, StoreFileSystem fs) {
        Thread t = new Thread(() -> {
            long t0 = System.nanoTime();
            try {
                int failed = run(mount, fs, REQUESTS);
                LOG.log(System.Logger.Level.INFO, "FUSE path warm-up: {0} reads and writes of 128 KiB in {1} ms, {2} failed",
                        REQUESTS, (System.nanoTime() - t0) / 1_000_000, failed);
            } catch (FsException | RuntimeException e) {
                LOG.log(System.Logger.Level.INFO, "FUSE path warm-up stopped (the first requests are slower): " + e);
            }
        }, "excpfs-fuse-warm-up");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Runs {@code requests} reads and writes; returns how many failed. */
    static int run(FuseMount mount, StoreFileSystem fs, int requests) throws FsException {
        int failed;
        long fh = fs.open(StoreFileSystem.WARM_UP, FileSystemOps.O_RDWR);
        try {
            failed = mount.warmUp(fh, requests, CHUNK, StoreFileSystem.WARM_UP_SIZE, true);
        } finally {
            fs.release(fh);
        }
        String hot = hotFile(fs);
        if (hot == null) return failed;
        long file = fs.open(hot, FileSystemOps.O_RDONLY);
        try {
            return failed + mount.warmUp(file, Math.min(requests, HOT_REQUESTS), CHUNK, HOT_SPAN, false);
        } finally {
            fs.release(file);
        }
    }

    private static final long HOT_SPAN = 1 << 20;
    /** Each copies and checks 128 KiB: 2000 are about 0.2 s of CPU. */
    private static final int HOT_REQUESTS = 2000;

    /** A live file whose current version is HOT and at least {@link #HOT_SPAN} long, or null. */
    private static String hotFile(StoreFileSystem fs) throws FsException {
        for (VersionInfo v : fs.store().versions()) {
            if (v.status() == VersionStatus.LIVE && v.state() == VersionState.HOT && v.rawBytes() >= HOT_SPAN) return v.path();
        }
        return null;
    }
}
