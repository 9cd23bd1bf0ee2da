package io.excpfs.fs.store;

import io.excpfs.fs.reliability.Checkpoints;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.excpfs.fs.store.StoreTest.write;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Compaction through the store with the real codec, on drifting safetensors checkpoints (a weight and its two Adam
 * moments): every version left reads the same bytes before and after, across a reopen, and the store shrinks.
 */
class CompactionStoreTest {
    @TempDir Path tmp;

    static byte[] read(Store s, long id) throws Exception {
        try (VersionView v = s.openVersion(id)) {
            return v.read(0, (int) v.size());
        }
    }

    static Map<Long, byte[]> readAll(Store s) throws Exception {
        Map<Long, byte[]> out = new HashMap<>();
        for (VersionInfo v : s.versions()) out.put(v.id(), read(s, v.id()));
        return out;
    }

    static long objectBytes(Path store) throws Exception {
        try (Stream<Path> files = Files.walk(store.resolve("objects"))) {
            long n = 0;
            for (Path p : files.filter(Files::isRegularFile).toList()) n += Files.size(p);
            return n;
        }
    }

    static long storedBytes(Store s) throws Exception {
        return s.versions().stream().mapToLong(VersionInfo::storedBytes).sum();
    }

    /** Writes {@code count} versions of one path with the given options, flushing after each like a trainer's pace. */
    Path writeChain(String options, int count) throws Exception {
        Path dir = tmp.resolve("store");
        try (Store s = Store.open(dir, StoreOptions.parse(options))) {
            for (int step = 1; step <= count; step++) {
                write(s, "/ckpt.safetensors", Checkpoints.safetensors(7, step, 64, 256));
                s.flush();
            }
        }
        return dir;
    }

    @Test void keepLastAfterTheFactShrinksTheStoreAndEveryKeptVersionReadsTheSame() throws Exception {
        Path dir = writeChain("", 8);
        Map<Long, byte[]> before;
        long objectsBefore, storedBefore;
        try (Store s = Store.open(dir, StoreOptions.defaults())) {
            List<VersionInfo> h = s.history("/ckpt.safetensors");
            assertEquals(List.of("seed", "residual", "residual", "residual", "residual", "residual", "residual", "hot"),
                    h.stream().map(VersionInfo::kind).toList(), "keep_last=0 keeps the whole chain");
            assertEquals(0, s.reclaimedBytes());
            before = readAll(s);
            objectsBefore = objectBytes(dir);
            storedBefore = storedBytes(s);
        }
        try (Store s = Store.open(dir, StoreOptions.parse("keep_last=2"))) {
            s.flush();
            List<VersionInfo> h = s.history("/ckpt.safetensors");
            assertEquals(List.of(6L, 7L, 8L), h.stream().map(VersionInfo::id).toList(), h.toString());
            assertEquals(List.of("seed", "residual", "hot"), h.stream().map(VersionInfo::kind).toList());
            assertEquals(List.of(0L, 6L, 0L), h.stream().map(VersionInfo::base).toList());
            assertEquals(List.of(0, 1, 0), h.stream().map(VersionInfo::depth).toList());
            for (VersionInfo v : h) assertArrayEquals(before.get(v.id()), read(s, v.id()), "version " + v.id() + " reads the same");
            assertEquals(List.of(), s.verify(true));
            long storedAfter = storedBytes(s);
            assertTrue(storedAfter < storedBefore, storedAfter + " < " + storedBefore);
            assertTrue(objectBytes(dir) < objectsBefore, "objects on disk shrink");
            assertTrue(s.reclaimedBytes() > 0);
        }
        try (Store s = Store.openReadOnly(dir)) {
            for (VersionInfo v : s.versions()) assertArrayEquals(before.get(v.id()), read(s, v.id()), "after reopen: version " + v.id());
            assertEquals(List.of(), s.verify(true));
        }
    }

    @Test void aRunningKeepLastStoreStaysBoundedAndColdBytesNeverChange() throws Exception {
        Path dir = tmp.resolve("store");
        Map<Long, byte[]> cold = new HashMap<>();
        try (Store s = Store.open(dir, StoreOptions.parse("keep_last=1"))) {
            for (int step = 1; step <= 10; step++) {
                write(s, "/ckpt.safetensors", Checkpoints.safetensors(9, step, 64, 256));
                s.flush();
                for (VersionInfo o : s.versions()) {
                    if (o.state() != VersionState.COLD) continue;
                    byte[] now = read(s, o.id());
                    byte[] was = cold.putIfAbsent(o.id(), now);
                    if (was != null) assertArrayEquals(was, now, "COLD version " + o.id() + " changed bytes at step " + step);
                }
            }
            List<VersionInfo> h = s.history("/ckpt.safetensors");
            assertEquals(2, h.size(), "keep_last=1 and compaction leave the live version and one history version: " + h);
            assertEquals("seed", h.get(0).kind());
            assertEquals(List.of(), s.verify(true));
            assertTrue(s.reclaimedBytes() > 0);
            long raw = Checkpoints.safetensors(9, 1, 64, 256).length;
            assertTrue(objectBytes(dir) < 3L * raw, "two versions stay within three raw sizes: " + objectBytes(dir) + " vs raw " + raw);
        }
    }

    @Test void aHiddenRunBelowAKeptVersionIsOnlyCompactedWhenItCostsMoreThanASeed() throws Exception {
        Path dir = tmp.resolve("store");
        Map<Long, byte[]> before;
        try (Store s = Store.open(dir, StoreOptions.defaults())) {
            s.mkdir("/run", 0755, 0, 0);
            for (int step = 1; step <= 10; step++) {
                s.mkdir("/run/checkpoint-" + step, 0755, 0, 0);
                write(s, "/run/checkpoint-" + step + "/model.safetensors", Checkpoints.safetensors(11, step, 64, 256));
            }
            s.flush();
            before = readAll(s);
        }
        // rotate like an HF Trainer with save_total_limit=1, with keep_every=4 and keep_last=1 as retention
        try (Store s = Store.open(dir, StoreOptions.parse("keep_last=1,keep_every=4"))) {
            for (int step = 1; step <= 9; step++) {
                s.unlink("/run/checkpoint-" + step + "/model.safetensors");
                s.rmdir("/run/checkpoint-" + step);
            }
            s.flush();
            List<VersionInfo> h = s.history("/run/checkpoint-*/model.safetensors");
            Map<Long, VersionInfo> byStep = new HashMap<>();
            for (VersionInfo v : h) byStep.put(v.step(), v);
            assertEquals(java.util.Set.of(4L, 5L, 6L, 7L, 8L, 9L, 10L), byStep.keySet(), h.toString());
            assertEquals("seed", byStep.get(4L).kind(), "steps 1-3 (the seed and two residuals) cost more than a seed of step 4");
            for (long step : List.of(5L, 6L, 7L)) assertEquals(VersionStatus.HIDDEN, byStep.get(step).status());
            assertEquals("residual", byStep.get(8L).kind(), "steps 5-7 (three residuals) cost less than a seed of step 8: kept");
            assertEquals(byStep.get(7L).id(), byStep.get(8L).base());
            for (VersionInfo v : h) assertArrayEquals(before.get(v.id()), read(s, v.id()), "version " + v.id() + " (step " + v.step() + ")");
            assertEquals(List.of(), s.verify(true));
        }
    }

    /**
     * A crash (no cleanup at all after the step, as with kill -9) after the seed object is written or after the
     * commit leaves a store that verifies and reads the same bytes at the next open; compaction then finishes.
     */
    @ParameterizedTest @EnumSource(Compaction.Step.class)
    void aCrashBetweenStepsLeavesAStoreThatVerifiesAndReadsTheSame(Compaction.Step at) throws Exception {
        Path dir = tmp.resolve("store");
        Map<Long, byte[]> before;
        java.util.concurrent.atomic.AtomicInteger crashes = new java.util.concurrent.atomic.AtomicInteger();
        try (Store s = Store.open(dir, StoreOptions.parse("keep_last=1"))) {
            s.demotion().compaction().hook((step, target) -> {
                if (step == at) {
                    crashes.incrementAndGet();
                    throw new Compaction.SimulatedCrash("crash after " + step + " of re-seeding " + target);
                }
            });
            for (int step = 1; step <= 6; step++) {
                write(s, "/ckpt.safetensors", Checkpoints.safetensors(5, step, 64, 256));
                s.flush();
            }
            assertTrue(crashes.get() > 0, "a re-seeding reached " + at);
            before = readAll(s);
        }
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(Metadata.DB_FILE));
             java.sql.ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM garbage")) {
            long garbage = rs.getLong(1);
            if (at == Compaction.Step.COMMITTED) assertTrue(garbage > 0, "the crash left committed garbage undeleted");
        }
        if (at == Compaction.Step.SEED_WRITTEN) {
            try (Stream<Path> files = Files.walk(dir.resolve("objects"))) {
                long excp = files.filter(p -> p.toString().endsWith(".excp")).count();
                long cold;
                try (Store s = Store.openReadOnly(dir)) {
                    cold = s.versions().stream().filter(v -> v.state() == VersionState.COLD).count();
                }
                assertTrue(excp > cold, "the crash left a seed object no commit references: " + excp + " > " + cold);
            }
        }
        try (Store s = Store.open(dir, StoreOptions.parse("keep_last=1"))) {
            for (Map.Entry<Long, byte[]> e : before.entrySet()) {
                try {
                    assertArrayEquals(e.getValue(), read(s, e.getKey()), "version " + e.getKey() + " after the crash");
                } catch (io.excpfs.fs.ops.FsException gone) {
                    assertEquals(io.excpfs.fs.ops.Errno.ENOENT, gone.errno(), "only retention may have removed version " + e.getKey());
                }
            }
            assertEquals(List.of(), s.verify(true));
            s.flush();
            List<VersionInfo> h = s.history("/ckpt.safetensors");
            assertEquals(2, h.size(), "compaction finishes after the restart: " + h);
            for (VersionInfo v : h) assertArrayEquals(before.get(v.id()), read(s, v.id()), "version " + v.id() + " once compacted");
            assertEquals(List.of(), s.verify(true));
            assertTrue(s.reclaimedBytes() > 0);
        }
        try (Stream<Path> files = Files.walk(dir.resolve("objects"))) {
            long onDisk = files.filter(Files::isRegularFile).count();
            assertEquals(1 + 2, onDisk, "one seed object and the HOT version's raw and sum files, nothing left over");
        }
    }
}
