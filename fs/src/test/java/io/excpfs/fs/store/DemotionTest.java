package io.excpfs.fs.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static io.excpfs.fs.store.StoreTest.random;
import static io.excpfs.fs.store.StoreTest.write;
import static org.junit.jupiter.api.Assertions.*;

/** Demotion, chains and retention through the store, with {@link LossyTestCodec} standing in for the codec. */
class DemotionTest {
    @TempDir Path tmp;
    final LossyTestCodec codec = new LossyTestCodec();

    Store open(String options) throws IOException { return Store.open(tmp.resolve("store"), StoreOptions.parse(options), codec); }

    static byte[] readVersion(Store s, long id) throws Exception {
        try (VersionView v = s.openVersion(id)) {
            return v.read(0, (int) v.size());
        }
    }

    @Test void overwrittenVersionsBecomeAClosedLoopChainAndReadTheSameAfterReopen() throws Exception {
        byte[][] data = new byte[5][];
        for (int i = 0; i < data.length; i++) data[i] = random(30_000, 100 + i);
        try (Store s = open("")) {
            for (byte[] d : data) write(s, "/ckpt.pt", d);
            s.flush();
            List<VersionInfo> h = s.history("/ckpt.pt");
            assertEquals(List.of("seed", "residual", "residual", "residual", "hot"), h.stream().map(VersionInfo::kind).toList());
            assertEquals(List.of(0L, h.get(0).id(), h.get(1).id(), h.get(2).id(), 0L), h.stream().map(VersionInfo::base).toList());
            assertEquals(List.of(0, 1, 2, 3, 0), h.stream().map(VersionInfo::depth).toList());
            for (int i = 0; i < 4; i++) {
                assertEquals(VersionState.COLD, h.get(i).state());
                assertArrayEquals(LossyTestCodec.lossy(data[i]), readVersion(s, h.get(i).id()), "COLD read = what the codec returned, v" + i);
            }
            assertArrayEquals(data[4], StoreTest.read(s, "/ckpt.pt"), "the newest version stays exact");
            assertEquals(List.of(), s.verify(true));
        }
        try (Store s = open("")) {
            List<VersionInfo> h = s.history("/ckpt.pt");
            for (int i = 3; i >= 0; i--) {
                assertArrayEquals(LossyTestCodec.lossy(data[i]), readVersion(s, h.get(i).id()), "same bytes after reopen, v" + i);
            }
            try (Stream<Path> files = Files.walk(tmp.resolve("store/objects"))) {
                assertEquals(4 + 2, files.filter(Files::isRegularFile).count(), "raw objects of demoted versions are deleted");
            }
        }
    }

    @Test void hotZeroEncodesTheNewestVersionToo() throws Exception {
        byte[] a = random(9000, 1), b = random(9000, 2);
        try (Store s = open("hot=0")) {
            write(s, "/ckpt.pt", a);
            write(s, "/ckpt.pt", b);
            s.flush();
            List<VersionInfo> h = s.history("/ckpt.pt");
            assertEquals(List.of("seed", "residual"), h.stream().map(VersionInfo::kind).toList());
            assertArrayEquals(LossyTestCodec.lossy(b), StoreTest.read(s, "/ckpt.pt"));
        }
    }

    @Test void aPinnedHotViewKeepsExactBytesAcrossDemotion() throws Exception {
        byte[] a = random(200_000, 1);
        try (Store s = open("")) {
            write(s, "/ckpt.pt", a);
            try (VersionView v = s.openCurrent("/ckpt.pt")) {
                write(s, "/ckpt.pt", random(200_000, 2));
                s.flush();
                assertEquals(VersionState.COLD, s.history("/ckpt.pt").get(0).state());
                assertArrayEquals(a, v.read(0, a.length));
            }
        }
    }

    @Test void checkpointDirectoriesAreEncodedAsSetsInStepOrder() throws Exception {
        try (Store s = open("")) {
            for (int step : new int[]{10, 20, 30}) {
                s.mkdir("/run/checkpoint-" + step, 0755, 0, 0);
            }
        } catch (Exception e) {
            // parent missing: create it first
        }
        try (Store s = open("")) {
            s.mkdir("/run", 0755, 0, 0);
            for (int step : new int[]{10, 20, 30}) {
                s.mkdir("/run/checkpoint-" + step, 0755, 0, 0);
                write(s, "/run/checkpoint-" + step + "/model.bin", random(5000, step));
                write(s, "/run/checkpoint-" + step + "/optimizer.bin", random(9000, step + 1));
            }
            s.flush();
            assertEquals(List.of(List.of("model.bin", "optimizer.bin"), List.of("model.bin", "optimizer.bin")), codec.sets);
            List<VersionInfo> model = s.history("/run/checkpoint-*/model.bin");
            assertEquals(List.of("seed", "residual", "hot"), model.stream().map(VersionInfo::kind).toList());
            assertEquals(model.get(0).setId(), s.history("/run/checkpoint-*/optimizer.bin").get(0).setId());
            assertTrue(model.stream().allMatch(v -> v.status() == VersionStatus.LIVE));
        }
    }

    @Test void stepFilesInOneDirectoryAreSeparateSetsAndAllButTheNewestDemote() throws Exception {
        try (Store s = open("")) {
            s.mkdir("/out", 0755, 0, 0);
            for (int step = 1; step <= 5; step++) write(s, "/out/ckpt-step" + step + ".pt", random(8000, step));
            s.flush();
            List<VersionInfo> h = s.history("/out/ckpt-step*.pt");
            assertEquals(List.of("seed", "residual", "residual", "residual", "hot"), h.stream().map(VersionInfo::kind).toList());
            assertEquals(5, h.stream().map(VersionInfo::setId).distinct().count(), "one set per checkpoint file");
        }
    }

    @Test void keepLastHidesBasesAndRemovesWhatNobodyNeeds() throws Exception {
        byte[][] data = new byte[6][];
        for (int i = 0; i < data.length; i++) data[i] = random(20_000, 200 + i);
        try (Store s = open("keep_last=1,seed_every=2")) {
            for (byte[] d : data) {
                write(s, "/ckpt.pt", d);
                s.flush();
            }
            List<VersionInfo> h = s.history("/ckpt.pt");
            // v1 seed, v2 r(1), v3 r(2), v4 seed, v5 r(4) kept (keep_last=1), v6 live HOT; v4 is hidden, and as the
            // test codec's seeds cost no more than its residuals, compaction re-seeds v5 and removes v4
            assertEquals(List.of(5L, 6L), h.stream().map(VersionInfo::id).toList(), h.toString());
            assertEquals(List.of(VersionStatus.HISTORY, VersionStatus.LIVE), h.stream().map(VersionInfo::status).toList());
            assertEquals("seed", h.get(0).kind());
            assertArrayEquals(LossyTestCodec.lossy(data[4]), readVersion(s, 5));
            assertEquals(List.of(), s.verify(true));
            try (Stream<Path> files = Files.walk(tmp.resolve("store/objects"))) {
                assertEquals(1 + 2, files.filter(Files::isRegularFile).count(), "objects of removed versions are deleted");
            }
        }
    }

    @Test void keepLastWithWritesRacingTheEncoder() throws Exception {
        byte[][] data = new byte[5][];
        for (int i = 0; i < data.length; i++) data[i] = random(20_000, 300 + i);
        try (Store s = open("keep_last=1")) {
            for (byte[] d : data) write(s, "/ckpt.pt", d);
            s.flush();
            List<VersionInfo> visible = s.history("/ckpt.pt").stream().filter(v -> v.status() != VersionStatus.HIDDEN).toList();
            assertEquals(List.of(4L, 5L), visible.stream().map(VersionInfo::id).toList(), visible.toString());
            assertEquals(VersionState.COLD, visible.get(0).state());
            assertArrayEquals(LossyTestCodec.lossy(data[3]), readVersion(s, 4));
            assertEquals(List.of(), s.verify(true));
        }
    }

    @Test void aFailedEncodeLeavesTheVersionHotAndTheNextOneSeeds() throws Exception {
        byte[] a = random(10_000, 1), b = random(10_000, 2);
        try (Store s = open("")) {
            codec.fail = true;
            write(s, "/ckpt.pt", a);
            write(s, "/ckpt.pt", b);
            s.flush();
            VersionInfo v1 = s.history("/ckpt.pt").get(0);
            assertEquals(VersionState.HOT, v1.state());
            assertArrayEquals(a, readVersion(s, v1.id()));
            codec.fail = false;
            write(s, "/ckpt.pt", random(10_000, 3));
            s.flush();
            List<VersionInfo> h = s.history("/ckpt.pt");
            assertEquals(List.of("hot", "seed", "hot"), h.stream().map(VersionInfo::kind).toList());
        }
        try (Store s = open("")) {
            s.flush();
            assertEquals(List.of("seed", "seed", "hot"), s.history("/ckpt.pt").stream().map(VersionInfo::kind).toList(),
                    "a failed encode is retried at the next open");
        }
    }

    @Test void verifyFindsACorruptColdObject() throws Exception {
        try (Store s = open("")) {
            write(s, "/a", random(10_000, 1));
            write(s, "/a", random(10_000, 2));
            write(s, "/a", random(10_000, 3));
            s.flush();
        }
        Path obj;
        try (Stream<Path> files = Files.walk(tmp.resolve("store/objects"))) {
            obj = files.filter(p -> p.toString().endsWith(".excp")).sorted().findFirst().orElseThrow();
        }
        byte[] b = Files.readAllBytes(obj);
        b[b.length / 2] ^= 4;
        Files.write(obj, b);
        try (Store s = Store.openReadOnly(tmp.resolve("store"), codec)) {
            List<String> problems = s.verify(true);
            assertFalse(problems.isEmpty());
            assertTrue(problems.stream().allMatch(p -> p.contains("CRC32C")), problems.toString());
        }
    }
}
