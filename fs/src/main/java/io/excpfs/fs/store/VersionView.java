package io.excpfs.fs.store;

import io.excpfs.codec.ByteSource;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A pinned read view of one version: stays readable, with the same bytes, until closed, even when its path is
 * overwritten or deleted, the version is demoted, or retention drops it. Reads of HOT versions are verified against
 * their block checksums; a mismatch raises {@link CorruptDataException}. A COLD version is served while it is
 * reconstructed: a read waits for the regions it covers, and a damaged chain fails the reads it affects.
 */
public final class VersionView implements ByteSource {
    private static final System.Logger LOG = System.getLogger(VersionView.class.getName());
    private final VersionInfo info;
    private final ByteSource source;
    private final Runnable unpin;
    private boolean closed;
    private int readers;

    VersionView(VersionInfo info, ByteSource source, Runnable unpin) {
        this.info = info;
        this.source = source;
        this.unpin = unpin;
    }

    public VersionInfo info() { return info; }

    @Override public long size() { return source.size(); }

    @Override public void read(long pos, byte[] dst, int off, int len) throws IOException {
        source.read(pos, dst, off, len);
    }

    /** Reads up to {@code len} bytes at {@code pos}; returns the count, 0 at or past the end of the file. */
    public int readAt(long pos, byte[] dst, int off, int len) throws IOException {
        if (pos >= source.size() || len <= 0) return 0;
        int n = (int) Math.min(len, source.size() - pos);
        source.read(pos, dst, off, n);
        return n;
    }

    /**
     * Reads up to {@code dst.remaining()} bytes at {@code pos} into {@code dst} (its position moves past them);
     * returns the count, 0 at or past the end of the file. A HOT version reads straight into {@code dst} (a direct
     * buffer takes no copy on the heap), verified there, concurrently with other reads of it.
     */
    public int readAt(long pos, ByteBuffer dst) throws IOException {
        if (pos >= source.size() || !dst.hasRemaining()) return 0;
        int n = (int) Math.min(dst.remaining(), source.size() - pos);
        if (source instanceof HotSource hot) {
            hot.read(pos, dst.slice(dst.position(), n));
        } else if (dst.hasArray()) {
            source.read(pos, dst.array(), dst.arrayOffset() + dst.position(), n);
        } else {
            byte[] b = scratch(n);
            source.read(pos, b, 0, n);
            dst.put(dst.position(), b, 0, n);
        }
        dst.position(dst.position() + n);
        return n;
    }

    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[128 * 1024]);

    private static byte[] scratch(int size) {
        byte[] b = SCRATCH.get();
        if (b.length < size) SCRATCH.set(b = new byte[size]);
        return b;
    }

    /**
     * Waits until every byte of the version can be read (a COLD version is reconstructed while it is read); throws
     * what a read of a damaged part would.
     */
    public void awaitComplete() throws IOException {
        if (source instanceof ReconstructionSource r) r.await();
    }

    /**
     * Holds the view open for one read by a caller that found it under its own lock and reads it after releasing
     * that lock: a {@link #close} meanwhile takes effect at the matching {@link #exit}. False when already closed.
     */
    public synchronized boolean enter() {
        if (closed) return false;
        readers++;
        return true;
    }

    /** Ends a read begun with {@link #enter}; the last one after a {@link #close} closes the view. */
    public void exit() {
        synchronized (this) {
            if (--readers > 0 || !closed) return;
        }
        try {
            release();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "closing the view of version " + info.id() + ": " + e);
        }
    }

    /** Closes the source and unpins the version, at once or, while reads begun with {@link #enter} run, after them. */
    @Override public void close() throws IOException {
        synchronized (this) {
            if (closed) return;
            closed = true;
            if (readers > 0) return;
        }
        release();
    }

    private void release() throws IOException {
        try {
            source.close();
        } finally {
            unpin.run();
        }
    }
}
