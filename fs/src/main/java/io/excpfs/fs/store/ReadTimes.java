package io.excpfs.fs.store;

import io.excpfs.fs.ops.FsException;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * When readers last opened each version, kept in the metadata ({@code version_reads}) so that the idle rule
 * ({@code idle=DURATION}) sees reads made before a restart: without them a version read a minute before a remount
 * would look unused since it was sealed, and be encoded at once. Recorded coarsely: a read is written when the
 * recorded time of its version is at least {@link #INTERVAL_NANOS} older (so at most once a minute per version, never
 * on every read); later reads wait in memory and are written at close. A crash loses at most a minute of read times,
 * which can only make a lineage look idle that much earlier. Failing to record never fails the read. Thread safe.
 */
final class ReadTimes {
    static final long INTERVAL_NANOS = 60_000_000_000L;

    private final Metadata db;
    private final Map<Long, Long> recorded = new HashMap<>();
    private final Map<Long, Long> pending = new HashMap<>();

    ReadTimes(Metadata db) {
        this.db = db;
    }

    /** The recorded read times by version id (ns since the epoch). */
    Map<Long, Long> load() throws IOException {
        Map<Long, Long> all;
        try {
            all = db.read(db::lastReads);
        } catch (FsException e) {
            throw new IOException("reading the recorded read times: " + e.getMessage(), e);
        }
        synchronized (this) {
            recorded.putAll(all);
        }
        return all;
    }

    /** A reader opened {@code id} at {@code nanos}. */
    void read(long id, long nanos) {
        synchronized (this) {
            Long last = recorded.get(id);
            if (last != null && nanos - last < INTERVAL_NANOS) {
                pending.merge(id, nanos, Math::max);
                return;
            }
            recorded.put(id, nanos);
            pending.remove(id);
        }
        write(Map.of(id, nanos));
    }

    /** Writes every read not yet recorded (at close). */
    void recordAll() {
        Map<Long, Long> due;
        synchronized (this) {
            due = new HashMap<>(pending);
            recorded.putAll(pending);
            pending.clear();
        }
        if (!due.isEmpty()) write(due);
    }

    /** The version is gone (its row, and with it its recorded time, is deleted). */
    synchronized void forget(long id) {
        recorded.remove(id);
        pending.remove(id);
    }

    private void write(Map<Long, Long> reads) {
        try {
            db.update(() -> {
                for (Map.Entry<Long, Long> e : reads.entrySet()) db.recordRead(e.getKey(), e.getValue());
            });
        } catch (FsException | RuntimeException e) {
            Store.LOG.log(System.Logger.Level.WARNING, "could not record the read time of versions " + reads.keySet()
                    + " (the idle rule may see them as unread after a restart): " + e.getMessage());
        }
    }
}
