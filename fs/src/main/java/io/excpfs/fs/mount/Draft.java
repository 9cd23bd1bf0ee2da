package io.excpfs.fs.mount;

import io.excpfs.fs.ops.Errno;
import io.excpfs.fs.ops.FsException;
import io.excpfs.fs.store.StagingChecksums;
import io.excpfs.fs.store.Store;
import io.excpfs.fs.store.VersionInfo;
import io.excpfs.fs.store.VersionView;
import io.excpfs.fs.store.blob.BlobChannel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The content of one regular file while handles that may write it are open: the version it was opened at (pinned)
 * until the first change, then a staging file that starts as a copy of that version. Every handle on the inode
 * shares its draft, so all descriptors see the same bytes, as POSIX asks. {@link #seal} turns the changes into a
 * new version; the draft then continues from that version.
 *
 * <p>Writes go to the staging file through a {@link WriteBehind}: a write returns once its bytes are queued, and
 * everything that looks at the staging file (reads, truncation, the seal) waits for the queue first. A write that
 * failed there fails the next write, fsync and close; the changes are then never sealed (the last release drops
 * them), unless a truncation to 0 (an {@code O_TRUNC} open: a save retried) starts the content afresh.
 * Reads of the pinned version run concurrently, outside the draft's lock ({@link #baseReaders}).
 */
final class Draft {
    private static final int COPY_CHUNK = 1 << 20;

    final long ino;
    /** Open handles on this draft, and those of them that may write; guarded by the owner's draft table. */
    int refs, writers;
    private VersionView base;
    private boolean initialised;
    private Path stagingPath;
    private BlobChannel staging;
    private Store stagingStore;
    /** Block sums of the staging file, kept up to date by every write through this draft. */
    private StagingChecksums sums;
    private long size;
    private long mtimeNanos;
    private boolean dirty;
    private boolean written;
    private boolean orphaned;
    private final WriteBehind behind;
    /** Held (read) by reads of {@link #base} outside the draft's lock; {@link #closeBase} takes it (write). */
    private final ReadWriteLock baseReaders = new ReentrantReadWriteLock();

    /** {@code writers}: runs the staging writes (a direct executor writes on the caller's thread). */
    Draft(long ino, Executor writers) {
        this.ino = ino;
        this.behind = new WriteBehind(writers);
    }

    /** Pins the current version of {@code path} the first time; later handles share it. */
    synchronized void init(Store store, String path) throws FsException, IOException {
        if (initialised) return;
        base = store.openCurrent(path);
        size = base == null ? 0 : base.size();
        initialised = true;
    }

    synchronized boolean isDirty() { return dirty; }

    /** True when bytes were written since the last seal (not only a truncation). */
    synchronized boolean hasWrites() { return written; }

    synchronized long size() { return size; }

    /** True when the content is exactly the pinned version: nothing changed since it was opened or sealed. */
    synchronized boolean isClean() { return !dirty && staging == null; }

    /** The id of the pinned version (0: none, an empty file). */
    synchronized long baseVersion() { return base == null ? 0 : base.info().id(); }

    /** Size and mtime of the unsealed changes. */
    record Unsealed(long size, long mtimeNanos) {}

    /** The unsealed state, or null when everything is sealed; waits for a seal in progress to finish. */
    synchronized Unsealed unsealed() { return dirty && !orphaned ? new Unsealed(size, mtimeNanos) : null; }

    /** Where reads come from: the staging file once changed, else the pinned version. */
    int read(long offset, byte[] dst, int len) throws IOException {
        return read(offset, ByteBuffer.wrap(dst, 0, Math.max(0, len)));
    }

    /**
     * Reads up to {@code dst.remaining()} bytes at {@code offset} into {@code dst} (a direct buffer over the kernel's
     * reply takes no copy on the heap); returns the count, 0 at the end. Reads of the pinned version do not hold the
     * draft's lock, so several run at once (the kernel's readahead sends requests in parallel).
     */
    int read(long offset, ByteBuffer dst) throws IOException {
        VersionView b;
        int n;
        synchronized (this) {
            if (offset >= size || !dst.hasRemaining()) return 0;
            n = (int) Math.min(dst.remaining(), size - offset);
            if (staging != null) {
                behind.await();
                ByteBuffer to = dst.slice(dst.position(), n);
                while (to.hasRemaining()) {
                    int r = staging.read(to, offset + to.position());
                    if (r < 0) break;
                }
                while (to.hasRemaining()) to.put((byte) 0);
                dst.position(dst.position() + n);
                return n;
            }
            if (base == null) return 0;
            b = base;
            baseReaders.readLock().lock();
        }
        try {
            ByteBuffer to = dst.slice(dst.position(), n);
            b.readFully(offset, to);
            dst.position(dst.position() + n);
            return n;
        } finally {
            baseReaders.readLock().unlock();
        }
    }

    synchronized int write(Store store, long offset, byte[] src, int len, boolean append) throws IOException {
        return write(store, offset, ByteBuffer.wrap(src, 0, len), append);
    }

    /**
     * Queues {@code src[position, limit)} (consumed) for the staging file; {@code src} may be reused once this
     * returns. Throws the failure of an earlier write.
     */
    synchronized int write(Store store, long offset, ByteBuffer src, boolean append) throws IOException {
        stage(store);
        long at = append ? size : offset;
        int len = src.remaining();
        behind.submit(staging, sums, src, at);
        size = Math.max(size, at + len);
        written = true;
        touch();
        return len;
    }

    synchronized void truncate(Store store, long newSize) throws FsException, IOException {
        if (newSize < 0) throw new FsException(Errno.EINVAL, "negative size " + newSize);
        if (staging != null) {
            behind.settle();
            if (behind.failed()) {
                if (newSize != 0) behind.await();
                staging.truncate(0);
                sums = new StagingChecksums();
                size = 0;
                behind.reset();
            }
        }
        if (newSize == size) return;
        stage(store, newSize);
        sums.truncated(Math.min(size, newSize));
        staging.truncate(newSize);
        if (newSize > size) {
            staging.writeFully(ByteBuffer.allocate(1), newSize - 1);
        }
        size = newSize;
        touch();
    }

    private void touch() {
        dirty = true;
        Instant now = Instant.now();
        mtimeNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /** Makes sure the staging file exists, copying the pinned version into it first. */
    private void stage(Store store) throws IOException {
        stage(store, size);
    }

    /**
     * Makes sure the staging file exists, copying the first {@code keep} bytes of the pinned version into it (an
     * O_TRUNC open of a big checkpoint copies nothing).
     */
    private void stage(Store store, long keep) throws IOException {
        if (staging != null) return;
        long copy = Math.min(keep, size);
        Path p = store.newStagingFile();
        BlobChannel ch = null;
        StagingChecksums copied = new StagingChecksums();
        try {
            ch = store.openStaging(p);
            if (base != null) {
                byte[] buf = new byte[COPY_CHUNK];
                for (long pos = 0; pos < copy; ) {
                    int n = base.readAt(pos, buf, 0, (int) Math.min(buf.length, copy - pos));
                    if (n <= 0) break;
                    ch.writeFully(ByteBuffer.wrap(buf, 0, n), pos);
                    copied.written(pos, ByteBuffer.wrap(buf, 0, n));
                    pos += n;
                }
            }
        } catch (IOException | RuntimeException e) {
            if (ch != null) ch.close();
            store.dropStaging(p);
            throw e;
        }
        stagingPath = p;
        staging = ch;
        stagingStore = store;
        sums = copied;
    }

    /**
     * Seals the changes (if any) into a new version of the inode and pins that version as the new base.
     *
     * @return the new version, or null when nothing changed
     */
    synchronized VersionInfo seal(Store store) throws FsException, IOException {
        if (!dirty || orphaned) return null;
        if (staging == null) stage(store);
        behind.await();
        staging.close();
        Path p = stagingPath;
        StagingChecksums s = sums;
        staging = null;
        stagingPath = null;
        sums = null;
        dirty = false;
        written = false;
        VersionInfo v = store.seal(ino, p, s);
        VersionView next = store.openVersion(v.id());
        closeBase();
        base = next;
        size = next.size();
        return v;
    }

    /**
     * The file was unlinked or replaced: its open handles keep reading and writing these bytes, but they are never
     * sealed (the store may give the inode number to a new file).
     */
    synchronized void orphan() { orphaned = true; }

    /** Drops unsealed changes and unpins the base. */
    synchronized void discard() {
        closeBase();
        if (staging != null) {
            behind.settle();
            behind.reset();
            try {
                staging.close();
                stagingStore.dropStaging(stagingPath);
            } catch (IOException e) {
                StoreFileSystem.LOG.log(System.Logger.Level.WARNING, "dropping staging " + stagingPath + ": " + e);
            }
            staging = null;
            stagingPath = null;
            sums = null;
        }
        dirty = false;
        written = false;
    }

    /** Unpins the base once no read of it is running (reads started before take no new lock: we hold the draft's). */
    private void closeBase() {
        if (base == null) return;
        baseReaders.writeLock().lock();
        try {
            base.close();
        } catch (IOException e) {
            StoreFileSystem.LOG.log(System.Logger.Level.WARNING, "unpinning a version of inode " + ino + ": " + e);
        } finally {
            baseReaders.writeLock().unlock();
        }
        base = null;
    }
}
