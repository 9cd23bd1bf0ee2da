package io.excpfs.fs.mount;

import io.excpfs.fs.store.StagingChecksums;
import io.excpfs.fs.store.blob.BlobChannel;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The writes of one draft's staging file, done on a writer thread: a FUSE write returns once its bytes are copied
 * out of libfuse's buffer, and the {@code pwrite} and block sums of one request overlap the kernel's delivery of
 * the next. Writes run one at a time in the order submitted. The first failure sticks: later writes are skipped,
 * {@link #submit} and {@link #await} throw it, so fsync(2) and close(2) report it at the latest, as POSIX allows
 * for a buffered write; the owner then never seals the staging file. At most {@link #QUEUE} chunks of
 * {@link #CHUNK} bytes wait, so memory stays bounded and a slow disk slows the writer down instead.
 *
 * <p>Every {@link #FORCE_EVERY} bytes written to one staging file, another pool thread forces the file to disk
 * while the writer goes on (at most one such fsync at a time): the seal's fsync at close then waits for the last
 * few megabytes only instead of the whole checkpoint (a plain directory's {@code torch.save} + fsync pays for all
 * of it at the end). Durability is unchanged: nothing is acknowledged as durable before the seal, and
 * {@link #await} waits for a running fsync too, so the owner never closes the file under it.
 *
 * <p>The owner calls {@link #submit} and {@link #await} under its own lock and never hands the staging file to
 * anyone else before {@link #await} returned; the writer thread never takes the owner's lock.
 */
final class WriteBehind {
    /** One FUSE write request at most ({@code max_write}). */
    static final int CHUNK = 128 * 1024;
    static final int QUEUE = 32;
    static final long FORCE_EVERY = 16L << 20;

    private record Pending(BlobChannel channel, StagingChecksums sums, ByteBuffer bytes, long offset) {}

    private final Executor writers;
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    /**
     * Chunk buffers of every file, reused: direct memory is returned only by the garbage collector, so buffers
     * allocated per file would pile up over a run of saves.
     */
    private static final ConcurrentLinkedDeque<ByteBuffer> FREE = new ConcurrentLinkedDeque<>();
    private static final AtomicInteger FREE_COUNT = new AtomicInteger();
    private static final int FREE_MAX = 2 * QUEUE;
    private boolean running, syncing;
    private IOException failure;
    /** Writer thread only: the staging file written last, and its bytes written since it was last forced. */
    private BlobChannel written;
    private long unforced;

    WriteBehind(Executor writers) {
        this.writers = writers;
    }

    /**
     * Queues {@code src[position, limit)} (consumed) for writing at {@code offset} of {@code channel}, whose sums
     * {@code sums} follow the write. Blocks while the queue is full.
     *
     * @throws IOException the failure of an earlier write
     */
    synchronized void submit(BlobChannel channel, StagingChecksums sums, ByteBuffer src, long offset) throws IOException {
        long at = offset;
        while (src.hasRemaining()) {
            while (queue.size() >= QUEUE && failure == null) waitHere();
            if (failure != null) throw failure();
            int n = Math.min(CHUNK, src.remaining());
            ByteBuffer b = FREE.poll();
            if (b == null) b = ByteBuffer.allocateDirect(CHUNK);
            else FREE_COUNT.decrementAndGet();
            b.clear();
            b.put(src.slice(src.position(), n)).flip();
            src.position(src.position() + n);
            queue.add(new Pending(channel, sums, b, at));
            at += n;
            if (!running) start();
        }
    }

    private void start() {
        running = true;
        try {
            writers.execute(this::drain);
        } catch (RejectedExecutionException e) {
            running = false;
            drainHere();
        }
    }

    /** Writes everything queued on the calling thread (the writer pool is shut down: the mount is closing). */
    private void drainHere() {
        for (Pending p; (p = queue.poll()) != null; ) {
            IOException e = failure == null ? write(p) : null;
            if (e != null) failure = e;
            recycle(p.bytes());
        }
        notifyAll();
    }

    private void drain() {
        while (true) {
            Pending p;
            boolean skip;
            synchronized (this) {
                p = queue.poll();
                if (p == null) {
                    running = false;
                    notifyAll();
                    return;
                }
                skip = failure != null;
            }
            IOException e = skip ? null : write(p);
            if (e == null && !skip) forceNowAndThen(p);
            synchronized (this) {
                if (e != null && failure == null) failure = e;
                recycle(p.bytes());
                notifyAll();
            }
        }
    }

    /** Every {@link #FORCE_EVERY} bytes written to a staging file, starts an fsync of it unless one is running. */
    private void forceNowAndThen(Pending p) {
        if (written != p.channel()) {
            written = p.channel();
            unforced = 0;
        }
        unforced += p.bytes().remaining();
        if (unforced < FORCE_EVERY) return;
        unforced = 0;
        BlobChannel ch = p.channel();
        synchronized (this) {
            if (syncing) return;
            syncing = true;
        }
        try {
            writers.execute(() -> force(ch));
        } catch (RejectedExecutionException e) {
            synchronized (this) {
                syncing = false;
                notifyAll();
            }
        }
    }

    private void force(BlobChannel ch) {
        IOException failed = null;
        try {
            ch.force();
        } catch (IOException | RuntimeException | Error e) {
            failed = new IOException("fsync of the staging file failed: " + e.getMessage(), e);
        }
        synchronized (this) {
            syncing = false;
            if (failed != null && failure == null) failure = failed;
            notifyAll();
        }
    }

    /** Writes one chunk and feeds it to the sums; the failure, or null. */
    private static IOException write(Pending p) {
        try {
            p.channel().writeFully(p.bytes().duplicate(), p.offset());
            p.sums().written(p.offset(), p.bytes());
            return null;
        } catch (IOException | RuntimeException | Error e) {
            p.sums().changed(p.offset());
            String m = e.getMessage() == null ? e.toString() : e.getMessage();
            return new IOException("write of " + p.bytes().remaining() + " bytes at offset " + p.offset()
                    + " of the staging file failed: " + m, e);
        }
    }

    private static void recycle(ByteBuffer b) {
        if (FREE_COUNT.incrementAndGet() <= FREE_MAX) FREE.push(b);
        else FREE_COUNT.decrementAndGet();
    }

    /** Waits until every queued write is done. @throws IOException the first write that failed */
    synchronized void await() throws IOException {
        while (running || syncing) waitHere();
        if (failure != null) throw failure();
    }

    /** Like {@link #await}, without throwing: for dropping the staging file. */
    synchronized void settle() {
        boolean interrupted = false;
        while (running || syncing) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    /** True when a write failed since the last {@link #reset}. */
    synchronized boolean failed() { return failure != null; }

    /** Forgets a failure once the owner dropped what the failed writes were part of; call after {@link #settle}. */
    synchronized void reset() { failure = null; }

    /** A new exception each time (the caller may add to it), with the message that names the cause (ENOSPC, EIO). */
    private IOException failure() {
        return new IOException(failure.getMessage(), failure);
    }

    private void waitHere() throws InterruptedIOException {
        try {
            wait();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for staging writes");
        }
    }
}
