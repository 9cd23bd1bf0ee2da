package io.excpfs.codec;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
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

    /** Work that feeds the pieces (reading the object they decode), run on a thread of its own meanwhile. */
    @FunctionalInterface
    interface Lead {
        void run() throws IOException, CorruptObjectException;
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

    /** Threads for {@link Lead}s: mostly blocked in reads, so not counted against the cores. */
    private static final class Readers {
        static final ExecutorService EXECUTOR = Executors.newCachedThreadPool(new java.util.concurrent.ThreadFactory() {
            private final AtomicInteger count = new AtomicInteger();

            @Override public Thread newThread(Runnable r) {
                Thread t = new Thread(r, "excpfs-object-read-" + count.incrementAndGet());
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
            run(count, piece, null);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Runs {@code lead} (unless null) on a thread of its own while the calling thread and the pool run the pieces,
     * and returns when all have run. A failure of {@code lead} is thrown in preference to any piece's (it also skips
     * the pieces not started yet); pieces that wait for something {@code lead} produces must also wake up when it
     * fails. With one core, or one piece, {@code lead} runs first on the calling thread, then the pieces.
     */
    static void run(int count, Piece piece, Lead lead) throws IOException, CorruptObjectException {
        if (count <= 1 || THREADS == 1) {
            if (lead != null) lead.run();
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
        CompletableFuture<Void> led = new CompletableFuture<>();
        if (lead == null) {
            led.complete(null);
        } else {
            Readers.EXECUTOR.execute(() -> {
                try {
                    lead.run();
                    led.complete(null);
                } catch (Throwable t) {
                    failed.set(true);
                    led.completeExceptionally(t);
                }
            });
        }
        for (int h = Math.min(THREADS - 1, count - 1); h > 0; h--) Pool.EXECUTOR.execute(worker);
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
        Throwable leadFailure = null;
        while (true) {
            try {
                led.get();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (ExecutionException e) {
                leadFailure = e.getCause();
                break;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        if (leadFailure instanceof IOException io) throw io;
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
