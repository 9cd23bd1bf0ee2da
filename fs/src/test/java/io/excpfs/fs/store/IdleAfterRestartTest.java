package io.excpfs.fs.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

import static io.excpfs.fs.store.StoreTest.random;
import static io.excpfs.fs.store.StoreTest.write;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The idle rule across a restart: a version a reader opened shortly before the store was closed is not idle after
 * the reopen merely because the in-memory read times are gone. The seal is moved two hours into the past in the
 * closed store's metadata so that only the recorded read can keep the lineage busy under {@code idle=1h}.
 */
class IdleAfterRestartTest {
    static final long HOUR = 3_600_000_000_000L;
    static final String OPTIONS = "hot=1,idle=1h";

    @TempDir Path tmp;

    Path dir() { return tmp.resolve("store"); }

    Store open() throws Exception { return Store.open(dir(), StoreOptions.parse(OPTIONS)); }

    /** Moves every seal and recorded read of the closed store {@code hours} into the past. */
    void age(long hours, boolean reads) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir().resolve(Metadata.DB_FILE));
             Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE versions SET sealed = sealed - " + hours * HOUR);
            if (reads) s.executeUpdate("UPDATE version_reads SET last_read = last_read - " + hours * HOUR);
        }
    }

    static void read(Store s, long id) throws Exception {
        try (VersionView v = s.openVersion(id)) {
            v.read(0, (int) v.size());
        }
    }

    long sealOne() throws Exception {
        try (Store s = open()) {
            return write(s, "/ckpt.pt", random(20_000, 1)).id();
        }
    }

    @Test void aVersionReadBeforeTheRestartIsNotIdleAfterIt() throws Exception {
        long id = sealOne();
        try (Store s = open()) {
            read(s, id);
        }
        age(2, false);
        try (Store s = open()) {
            s.flush();
            assertEquals(VersionState.HOT, s.version(id).state(), "read just before the restart: not idle for idle=1h");
        }
    }

    /** The control of the test above: the aged seal alone makes the lineage idle, so the recorded read is what counts. */
    @Test void aVersionLastReadLongerAgoThanIdleIsDemotedAfterTheRestart() throws Exception {
        long id = sealOne();
        try (Store s = open()) {
            read(s, id);
        }
        age(2, true);
        try (Store s = open()) {
            s.flush();
            assertEquals(VersionState.COLD, s.version(id).state(), "sealed and last read 2 h ago: idle under idle=1h");
            assertEquals(List.of(), s.verify(true));
        }
    }

    /** At most one metadata write per version per {@link ReadTimes#INTERVAL_NANOS}; the latest read is written at close. */
    @Test void readTimesAreRecordedCoarselyAndTheLatestAtClose() throws Exception {
        long id = sealOne();
        long first, second;
        try (Store s = open()) {
            Metadata db = s.metadata();
            read(s, id);
            first = db.read(db::lastReads).get(id);
            Thread.sleep(5);
            read(s, id);
            second = s.lastOpened(id);
            assertTrue(second > first);
            assertEquals(first, db.read(db::lastReads).get(id), "a second read within the interval is not written");
        }
        try (Store s = open()) {
            assertEquals(Map.of(id, second), s.metadata().read(s.metadata()::lastReads), "written at close");
            assertEquals(second, s.lastOpened(id), "loaded at open");
        }
    }

    @Test void aRemovedVersionTakesItsReadTimeWithIt() throws Exception {
        long id = sealOne();
        try (Store s = open()) {
            read(s, id);
            s.unlink("/ckpt.pt");
            Metadata db = s.metadata();
            assertTrue(db.write(() -> db.remove(id)));
            s.forget(id);
            assertEquals(Map.of(), db.read(db::lastReads));
        }
    }

    @Test void aReadOnlyStoreRecordsNothing() throws Exception {
        long id = sealOne();
        try (Store s = Store.openReadOnly(dir())) {
            read(s, id);
        }
        try (Store s = open()) {
            assertEquals(Map.of(), s.metadata().read(s.metadata()::lastReads));
        }
    }
}
