package io.excpfs.codec;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs the independent pieces of one decode (the regions of an object, the checksums of a reconstruction) on the
 * calling thread and on a shared pool of daemon threads, one thread per core in all. Pieces are claimed in index
 * order, so the first ones finish first. The caller claims pieces too and waits only for pieces a pool thread has
 * already started, so a decode never waits for a pool that is busy elsewhere and nested use cannot deadlock.
 */
final class DecodeThreads {
    /** One piece of work; {@code index} runs from 0 to the piece count. */
    @FunctionalInterface
    interface Piece {
        void run(int index) throws CorruptObjectException;
    }

    /** Work the calling thread does first, while pool threads already run pieces (reading the object they decode). */
    @FunctionalInterface
    interface Lead {
        void run() throws java.io.IOException, CorruptObjectException;
    }

    private static final int THREADS = Math.max(1, Integer.getInteger("excpfs.decodeThreads", Runtime.getRuntime().availableProcessors()));

    private DecodeThreads() {}

    private static final class Pool {
        static final ExecutorService EXECUTOR = Executors.newFixedThreadPool(Math.max(1, THREADS - 1), new java.util.concurrent.ThreadFactory() {
            private final AtomicInteger count = new AtomicInteger();

            @Override public Thread newThread(Runnable r) {
                Thread t = new Thread(r, "excpfs-decode-" + count.incrementAndGet());
                t.setDaemon(true);
                return t;
            }
        });
    }

    /**
     * Runs {@code piece} for every index in {@code [0, count)} and returns when all have run. When pieces fail, the
     * remaining ones are skipped and the failure of the lowest index is thrown.
     */
    static void run(int count, Piece piece) throws CorruptObjectException {
        try {
            run(count, piece, () -> {});
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Runs {@code lead} on the calling thread while pool threads start on the pieces, then runs pieces on the calling
     * thread too, and returns when all have run. A failure of {@code lead} is thrown in preference to any piece's
     * (the pieces still running are waited for, the rest skipped); pieces that wait for something {@code lead}
     * produces must also wake up when it fails.
     */
    static void run(int count, Piece piece, Lead lead) throws java.io.IOException, CorruptObjectException {
        if (count <= 1 || THREADS == 1) {
            lead.run();
            for (int i = 0; i < count; i++) piece.run(i);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        AtomicBoolean failed = new AtomicBoolean();
        Throwable[] failures = new Throwable[count];
        CountDownLatch done = new CountDownLatch(count);
        Runnable worker = () -> {
            for (int i; (i = next.getAndIncrement()) < count; ) {
                try {
                    if (!failed.get()) piece.run(i);
                } catch (Throwable t) {
                    failures[i] = t;
                    failed.set(true);
                } finally {
                    done.countDown();
                }
            }
        };
        for (int h = Math.min(THREADS - 1, count - 1); h > 0; h--) Pool.EXECUTOR.execute(worker);
        Throwable leadFailure = null;
        try {
            lead.run();
        } catch (java.io.IOException | CorruptObjectException | RuntimeException | Error e) {
            leadFailure = e;
            failed.set(true);
        }
        worker.run();
        boolean interrupted = false;
        while (true) {
            try {
                done.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        if (leadFailure instanceof java.io.IOException io) throw io;
        if (leadFailure instanceof CorruptObjectException c) throw c;
        if (leadFailure instanceof RuntimeException r) throw r;
        if (leadFailure instanceof Error e) throw e;
        for (Throwable t : failures) {
            if (t == null) continue;
            if (t instanceof CorruptObjectException c) throw c;
            if (t instanceof RuntimeException r) throw r;
            if (t instanceof Error e) throw e;
            throw new IllegalStateException(t);
        }
    }
}
