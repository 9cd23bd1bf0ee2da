package io.excpfs.fs.cli;

import io.excpfs.fs.ops.FsException;
import io.excpfs.fs.store.Store;
import io.excpfs.fs.store.VersionInfo;
import io.excpfs.fs.store.VersionState;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * The versions waiting for the encoder: HOT versions that are not among the newest {@code hot} of their lineage
 * (those stay exact by design). An estimate from the metadata alone: retention may remove some before they are
 * encoded, and a version whose encode failed stays HOT.
 */
final class EncodeBacklog {
    private static final long POLL_MILLIS = 500;

    private EncodeBacklog() {}

    static long pending(List<VersionInfo> versions, int hot) {
        Map<String, Integer> newer = new HashMap<>();
        long n = 0;
        for (int i = versions.size() - 1; i >= 0; i--) {
            VersionInfo v = versions.get(i);
            int seen = newer.merge(v.lineage(), 1, Integer::sum) - 1;
            if (v.state() == VersionState.HOT && seen >= hot) n++;
        }
        return n;
    }

    static long pending(Store store) throws FsException {
        return pending(store.versions(), store.options().hot());
    }

    /**
     * Starts a daemon thread that calls {@code onChange} with the backlog whenever it changes (first with its
     * current value), polling every {@code millis}; it ends when interrupted or when the store closes.
     */
    static Thread watch(Store store, long millis, LongConsumer onChange) {
        Thread t = new Thread(() -> {
            long last = -1;
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    long now = pending(store);
                    if (now != last) onChange.accept(now);
                    last = now;
                    Thread.sleep(millis);
                }
            } catch (InterruptedException | FsException | RuntimeException e) {
                // unmounted: the store is closed
            }
        }, "excpfs-backlog");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Waits for every pending demotion of {@code store}, showing the backlog shrink on {@code progress}. */
    static void flush(Store store, Progress progress) throws IOException, FsException {
        long start = pending(store);
        progress.phase("encoding " + start + " version" + (start == 1 ? "" : "s"), start);
        Thread watcher = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.sleep(POLL_MILLIS);
                    progress.count("encoded", Math.max(0, start - pending(store)), start);
                }
            } catch (InterruptedException | FsException | RuntimeException e) {
                // flush finished, or the store is closing: the final count is printed by flush
            }
        }, "excpfs-backlog");
        watcher.setDaemon(true);
        watcher.start();
        try {
            store.flush();
        } finally {
            watcher.interrupt();
            try {
                watcher.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        progress.count("encoded", Math.max(0, start - pending(store)), start);
        progress.done();
    }
}
