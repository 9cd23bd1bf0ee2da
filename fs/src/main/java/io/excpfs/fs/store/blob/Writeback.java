package io.excpfs.fs.store.blob;

import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.SaveError;

import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Starts the kernel writing one file's dirty pages to disk without waiting for them
 * ({@code sync_file_range(SYNC_FILE_RANGE_WRITE)}), on one background thread shared by all files, so that the
 * fsync which makes the file durable later finds little left to write. It is a hint: durability still comes from
 * {@link BlobChannel#force}. Where the call is missing or refused (not Linux, not a local file system), nothing
 * happens.
 */
final class Writeback implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Writeback.class.getName());
    private static final int O_RDONLY = 0, O_CLOEXEC = 02000000, SYNC_FILE_RANGE_WRITE = 2;

    /** The libc calls used; sync_file_range works through any descriptor of the file, a read-only one too. */
    public interface LibC {
        @SaveError int open(byte[] path, int flags);

        @SaveError int sync_file_range(int fd, long offset, long nbytes, int flags);

        int close(int fd);
    }

    /** Loaded by the background thread on its first task, so no writer waits for jnr to bind libc. */
    private static final class Native {
        static final LibC LIBC = load();
    }

    private static final ExecutorService THREAD = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "staging-writeback");
        t.setDaemon(true);
        return t;
    });
    private static volatile boolean refused;

    private final Path path;
    /** The descriptor, opened on first use; -1 before, -2 once closed or refused. */
    private int fd = -1;

    Writeback(Path path) {
        this.path = path;
    }

    private static LibC load() {
        try {
            return LibraryLoader.create(LibC.class).load("c");
        } catch (LinkageError | RuntimeException e) {
            LOG.log(Level.DEBUG, "sync_file_range unavailable: " + e);
            return null;
        }
    }

    /** Queues the start of write-out for {@code [pos, pos + length)}; returns at once. */
    void start(long pos, long length) {
        if (refused || length <= 0) return;
        THREAD.execute(() -> run(pos, length));
    }

    private synchronized void run(long pos, long length) {
        if (fd == -2 || refused) return;
        LibC libc = Native.LIBC;
        if (libc == null) {
            refused = true;
            return;
        }
        if (fd == -1) {
            fd = libc.open((path + "\0").getBytes(StandardCharsets.UTF_8), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                fd = -2;
                return;
            }
        }
        if (libc.sync_file_range(fd, pos, length, SYNC_FILE_RANGE_WRITE) != 0) {
            LOG.log(Level.DEBUG, "sync_file_range refused for " + path + "; staging files are written out by fsync alone");
            refused = true;
        }
    }

    @Override
    public synchronized void close() {
        if (fd >= 0) Native.LIBC.close(fd);
        fd = -2;
    }
}
