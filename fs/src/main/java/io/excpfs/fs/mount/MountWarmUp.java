package io.excpfs.fs.mount;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Compiles the FUSE request path before the trainer needs it. A fresh JVM runs jnr-fuse's upcalls (argument
 * marshalling, {@code FuseFileInfo} structs) and the boundary interpreted for the first thousand requests or so:
 * measured on a 256 MB HOT file, the first {@code cat} after a mount took about 190 us per 128 KiB read request
 * in the handlers alone (105 us CPU) against 29 us warm, and about twice the wall time of a warm daemon's cold
 * read. {@link #start} reads and writes {@link StoreFileSystem#WARM_UP} (zeros, a sink; uncached, so each call is a
 * real FUSE request) through the mount on a daemon thread, once per mount.
 */
public final class MountWarmUp {
    private static final System.Logger LOG = System.getLogger(MountWarmUp.class.getName());
    /** Requests of each kind: past the C1 thresholds of every method on the path, most past C2's. */
    static final int REQUESTS = 3000;
    private static final int CHUNK = 128 * 1024;

    private MountWarmUp() {}

    /** Starts the warm-up of the mount at {@code mountPoint} on a daemon thread; returns at once. */
    public static Thread start(Path mountPoint) {
        Thread t = new Thread(() -> {
            long t0 = System.nanoTime();
            try {
                run(mountPoint.resolve(StoreFileSystem.WARM_UP.substring(1)), REQUESTS);
                LOG.log(System.Logger.Level.INFO, "FUSE path warm-up done in {0} ms ({1} reads and writes of 128 KiB)",
                        (System.nanoTime() - t0) / 1_000_000, REQUESTS);
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.INFO, "FUSE path warm-up stopped (the first requests are slower): " + e);
            }
        }, "excpfs-fuse-warm-up");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** {@code requests} reads of {@code file}, then as many writes (skipped on a read-only mount). */
    static void run(Path file, int requests) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
        long span = StoreFileSystem.WARM_UP_SIZE / CHUNK;
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            for (int i = 0; i < requests; i++) {
                buf.clear();
                in.read(buf, (i % span) * CHUNK);
            }
        }
        FileChannel out;
        try {
            out = FileChannel.open(file, StandardOpenOption.WRITE);
        } catch (IOException e) {
            return;
        }
        try (out) {
            for (int i = 0; i < requests; i++) {
                buf.clear();
                out.write(buf, (i % span) * CHUNK);
            }
        }
    }
}
