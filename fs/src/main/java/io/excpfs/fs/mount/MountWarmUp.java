package io.excpfs.fs.mount;

import io.excpfs.fs.fuse.FuseMount;
import io.excpfs.fs.ops.FileSystemOps;
import io.excpfs.fs.ops.FsException;

/**
 * Compiles the FUSE request path before the trainer needs it. A fresh JVM runs jnr-fuse's upcalls (argument
 * marshalling, {@code FuseFileInfo} structs) and the boundary interpreted for the first thousand requests or so:
 * measured on a 256 MB HOT file, the first {@code cat} after a mount took about 190 us per 128 KiB read request
 * in the handlers alone (105 us CPU) against 29 us warm, and about twice the wall time of a warm daemon's cold
 * read. {@link #start} calls the read and write callbacks on {@link StoreFileSystem#WARM_UP} (zeros, a sink)
 * {@link #REQUESTS} times each through their native entry points ({@link FuseMount#warmUp}) on a daemon thread,
 * once per mount. Nothing goes through the kernel, so nothing is held open on the mount.
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
        long fh = fs.open(StoreFileSystem.WARM_UP, FileSystemOps.O_RDWR);
        try {
            return mount.warmUp(fh, requests, CHUNK, StoreFileSystem.WARM_UP_SIZE);
        } finally {
            fs.release(fh);
        }
    }
}
