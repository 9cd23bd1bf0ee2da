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

/**
 * The content of one regular file while handles that may write it are open: the version it was opened at (pinned)
 * until the first change, then a staging file that starts as a copy of that version. Every handle on the inode
 * shares its draft, so all descriptors see the same bytes, as POSIX asks. {@link #seal} turns the changes into a
 * new version; the draft then continues from that version.
 */
final class Draft {
    private static final int COPY_CHUNK = 1 << 20;
    /** Sequential writes start their way to the disk every this many bytes ({@link #startWriteback}). */
    private static final int WRITEBACK_CHUNK = 8 << 20;

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
    /** Where the staging file's next write-out starts: what lies before was handed to the kernel already. */
    private long writebackFrom;
    private long size;
    private long mtimeNanos;
    private boolean dirty;
    private boolean written;
    private boolean orphaned;

    Draft(long ino) {
        this.ino = ino;
    }

    /**
     * Pins the current version of {@code path} the first time; later handles share it. ENOENT when {@code path} no
     * longer names this draft's inode (it was replaced since it was looked up).
     */
    synchronized void init(Store store, String path) throws FsException, IOException {
        if (initialised) return;
        VersionView v = store.openCurrent(path);
        if (v != null && v.info().ino() != ino) {
            v.close();
            throw new FsException(Errno.ENOENT, path + " was replaced while it was opened");
        }
        base = v;
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

    /**
     * Reads into {@code dst[position, limit)} (its position moves past the bytes read); a direct buffer takes the
     * bytes without a copy on the heap. Where reads come from: the staging file once changed, else the pinned
     * version, whose size the draft then has (every path that drops the staging file sets the size back, so a read
     * never returns fewer bytes than the size promises, nor the old version's bytes for changes). The pinned
     * version is read after the draft's lock is released (held open for the read), so reads of one file run in
     * parallel and a read waiting for the disk holds up no other call on the file; a change that comes meanwhile is
     * ordered after the read.
     */
    int read(long offset, ByteBuffer dst) throws IOException {
        VersionView view;
        ByteBuffer b;
        synchronized (this) {
            if (offset >= size || !dst.hasRemaining()) return 0;
            b = dst.slice(dst.position(), (int) Math.min(dst.remaining(), size - offset));
            if (staging != null) {
                while (b.hasRemaining()) {
                    if (staging.read(b, offset + b.position()) < 0) break;
                }
                while (b.hasRemaining()) b.put((byte) 0);
                dst.position(dst.position() + b.position());
                return b.position();
            }
            long held = base == null ? 0 : base.size();
            if (offset + b.remaining() > held) {
                // an invariant, not a case: without a staging file the draft is exactly its pinned version
                throw new IOException("inode " + ino + ": size " + size + " runs ahead of its pinned version ("
                        + held + " bytes)");
            }
            view = base;
            if (!view.enter()) throw new IOException("inode " + ino + ": its pinned version is closed");
        }
        try {
            view.readAt(offset, b);
        } finally {
            view.exit();
        }
        dst.position(dst.position() + b.position());
        return b.position();
    }

    synchronized int write(Store store, long offset, byte[] src, int len, boolean append) throws IOException {
        return write(store, offset, ByteBuffer.wrap(src, 0, len), append);
    }

    /** Writes {@code src[position, limit)} (consumed); a direct buffer goes to the staging file without a copy. */
    synchronized int write(Store store, long offset, ByteBuffer src, boolean append) throws IOException {
        stage(store);
        long at = append ? size : offset;
        int len = src.remaining();
        ByteBuffer b = src.slice();
        try {
            staging.writeFully(b, at);
        } catch (IOException | RuntimeException e) {
            sums.changed(at);
            throw e;
        }
        sums.written(at, src);
        src.position(src.limit());
        size = Math.max(size, at + len);
        written = true;
        touch();
        startWriteback(at + len);
        return len;
    }

    /**
     * Once sequential writes have gone {@link #WRITEBACK_CHUNK} past the last write-out, starts writing them to the
     * disk in the background, so the seal's fsync waits only for the tail instead of the whole checkpoint.
     */
    private void startWriteback(long end) {
        if (end - writebackFrom < WRITEBACK_CHUNK) return;
        staging.startWriteback(writebackFrom, end - writebackFrom);
        writebackFrom = end;
    }

    synchronized void truncate(Store store, long newSize) throws FsException, IOException {
        if (newSize < 0) throw new FsException(Errno.EINVAL, "negative size " + newSize);
        if (newSize == size) return;
        stage(store, newSize);
        sums.truncated(Math.min(size, newSize));
        staging.truncate(newSize);
        writebackFrom = Math.min(writebackFrom, newSize);
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
        writebackFrom = 0;
    }

    /**
     * Seals the changes (if any) into a new version of the inode and pins that version as the new base. When the
     * seal fails, the changes stay in the draft (every handle keeps reading them, and a later seal retries), unless
     * the store could not keep them (the commit's state is unknown): the draft then holds its pinned version again,
     * so what its handles read always matches its size.
     *
     * @return the new version, or null when nothing changed
     */
    synchronized VersionInfo seal(Store store) throws FsException, IOException {
        if (!dirty || orphaned) return null;
        if (staging == null) stage(store);
        staging.close();
        staging = null;
        VersionInfo v;
        try {
            v = store.seal(ino, stagingPath, sums);
        } catch (FsException | IOException | RuntimeException e) {
            resume(store, e);
            throw e;
        }
        stagingPath = null;
        sums = null;
        dirty = false;
        written = false;
        VersionView next;
        try {
            next = store.openVersion(v.id());
        } catch (FsException | IOException | RuntimeException e) {
            size = base == null ? 0 : base.size();
            throw e;
        }
        closeBase();
        base = next;
        size = next.size();
        return v;
    }

    /** After a failed seal: reopens the staging file the store kept, or falls back to the pinned version. */
    private void resume(Store store, Exception failure) {
        try {
            staging = store.openStaging(stagingPath);
            sums.changed(0);
            return;
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
        StoreFileSystem.LOG.log(System.Logger.Level.ERROR, "unsealed changes of inode " + ino + " lost after a failed seal: "
                + failure.getMessage());
        stagingPath = null;
        sums = null;
        dirty = false;
        written = false;
        size = base == null ? 0 : base.size();
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
        size = 0;
    }

    private void closeBase() {
        if (base == null) return;
        try {
            base.close();
        } catch (IOException e) {
            StoreFileSystem.LOG.log(System.Logger.Level.WARNING, "unpinning a version of inode " + ino + ": " + e);
        }
        base = null;
    }
}
