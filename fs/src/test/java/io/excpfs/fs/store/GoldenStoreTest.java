package io.excpfs.fs.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A store written by format version 1 (src/test/resources/golden/store-v1: two imports, HOT versions, history, a
 * symlink) and those written by format versions 2 and 3 (store-v2, store-v3, by {@link GoldenStoreWriter}: HOT, a
 * COLD seed and residual chain, history, a deleted newest version; {@code expected.tsv} holds every version's id and
 * the SHA-256 of its read) must stay readable by every later excpfs, with the same ids and bytes. Never regenerate them; add a
 * new golden store for a new format.
 */
class GoldenStoreTest {
    @TempDir Path tmp;

    Path copy() throws Exception {
        return copy("store-v1");
    }

    Path copy(String name) throws Exception {
        Path src = Path.of(GoldenStoreTest.class.getResource("/golden/" + name + "/excpfs.db").toURI()).getParent();
        Path dst = tmp.resolve(name);
        try (Stream<Path> s = Files.walk(src)) {
            for (Path p : s.toList()) {
                Path t = dst.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t);
            }
        }
        return dst;
    }

    static String text(Store s, long version) throws Exception {
        try (VersionView v = s.openVersion(version)) {
            return new String(v.read(0, (int) v.size()), StandardCharsets.UTF_8);
        }
    }

    @Test void versionOneStoreReadsBack() throws Exception {
        Path dir = copy();
        try (Store s = Store.openReadOnly(dir)) {
            assertEquals(List.of("a.txt", "dir", "link"), s.list("/"));
            assertEquals("dir/b.bin", s.readlink("/link"));
            List<VersionInfo> a = s.history("/a.txt");
            assertEquals(2, a.size());
            assertEquals("first version of a\n", text(s, a.get(0).id()));
            assertEquals("second version of a, longer\n", text(s, a.get(1).id()));
            assertEquals(VersionStatus.HISTORY, a.get(0).status());
            try (VersionView v = s.openCurrent("/dir/b.bin")) {
                assertArrayEquals(new byte[]{0, 1, 2, 'b', 'i', 'n', 'a', 'r', 'y', (byte) 0xff}, v.read(0, 10));
            }
            assertEquals(List.of(), s.verify(true));
        }
    }

    @Test void versionOneStoreOpensForWriting() throws Exception {
        Path dir = copy();
        try (Store s = Store.open(dir, StoreOptions.defaults())) {
            s.flush();
            assertEquals("second version of a, longer\n", text(s, s.history("/a.txt").get(1).id()));
            assertEquals("first version of a\n", text(s, s.history("/a.txt").get(0).id()));
            assertEquals(List.of(), s.verify(true));
        }
    }

    @Test void versionOneStoreIsMigratedToNeverReuseInodeNumbers() throws Exception {
        Path dir = copy();
        long maxUsed;
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(Metadata.DB_FILE));
             java.sql.ResultSet rs = c.createStatement().executeQuery(
                     "SELECT max(m) FROM (SELECT max(ino) AS m FROM inodes UNION ALL SELECT max(ino) FROM versions)")) {
            maxUsed = rs.getLong(1);
        }
        try (Store s = Store.openReadOnly(dir)) {
            assertEquals("first version of a\n", text(s, s.history("/a.txt").get(0).id()), "read-only opens do not migrate");
        }
        assertEquals("1", formatVersion(dir));
        try (Store s = Store.open(dir, StoreOptions.defaults())) {
            assertEquals(Integer.toString(Metadata.FORMAT_VERSION), formatVersion(dir));
            s.createFile("/new", 0644, 0, 0);
            assertEquals(maxUsed + 1, s.ino("/new"));
            s.unlink("/new");
            s.createFile("/newer", 0644, 0, 0);
            assertEquals(maxUsed + 2, s.ino("/newer"), "the number of a deleted newest inode is not handed out again");
            assertEquals("second version of a, longer\n", text(s, s.history("/a.txt").get(1).id()));
            assertEquals("first version of a\n", text(s, s.history("/a.txt").get(0).id()));
            assertEquals(List.of(), s.verify(true));
        }
        try (Store s = Store.open(dir, StoreOptions.defaults())) {
            s.createFile("/after-reopen", 0644, 0, 0);
            assertEquals(maxUsed + 3, s.ino("/after-reopen"));
        }
    }

    /** id → "path status state kind base sha256" from the golden store's expected.tsv. */
    static java.util.Map<Long, String> expected(Path dir) throws Exception {
        java.util.Map<Long, String> out = new java.util.TreeMap<>();
        for (String line : Files.readAllLines(dir.resolve(GoldenStoreWriter.EXPECTED))) {
            if (line.startsWith("#")) continue;
            String[] f = line.split("\t");
            out.put(Long.parseLong(f[0]), String.join(" ", java.util.Arrays.copyOfRange(f, 1, f.length)));
        }
        return out;
    }

    static java.util.Map<Long, String> actual(Store s) throws Exception {
        java.util.Map<Long, String> out = new java.util.TreeMap<>();
        for (VersionInfo v : s.versions()) {
            out.put(v.id(), String.join(" ", v.path(), v.status().name(), v.state().name(), v.kind(), Long.toString(v.base()),
                    GoldenStoreWriter.sha256(s, v.id())));
        }
        return out;
    }

    @Test void versionTwoStoreReadsBackWithItsIdsAndBytes() throws Exception {
        Path dir = copy("store-v2");
        java.util.Map<Long, String> expected = expected(dir);
        assertEquals(8, expected.size());
        try (Store s = Store.openReadOnly(dir)) {
            assertEquals(expected, actual(s));
            assertEquals(List.of("a.txt", "dir", "link", "run"), s.list("/"));
            assertEquals("dir/b.bin", s.readlink("/link"));
            assertEquals(List.of(), s.verify(true));
        }
        assertEquals("2", formatVersion(dir), "read-only opens do not migrate");
    }

    /**
     * Format 2 → 3: the versions keep their ids (history names, logs and scripts hold them) and bytes, and the first
     * seal after the migration takes an id above every id the store remembers, as does every later one, also after
     * the newest version is deleted.
     */
    @Test void versionTwoStoreIsMigratedToNeverReuseVersionIds() throws Exception {
        Path dir = copy("store-v2");
        java.util.Map<Long, String> expected = expected(dir);
        long maxId = ((java.util.TreeMap<Long, String>) expected).lastKey();
        try (Store s = Store.open(dir, StoreOptions.parse("hot=1,keep_last=0"))) {
            assertEquals("3", formatVersion(dir));
            s.flush();
            assertEquals(expected, actual(s));
            VersionInfo v = StoreTest.write(s, "/new.txt", "after the migration\n".getBytes(StandardCharsets.UTF_8));
            assertEquals(maxId + 1, v.id());
            s.unlink("/new.txt");
            Metadata db = s.metadata();
            assertTrue(db.write(() -> db.remove(v.id())), "the newest version is removable once it is history");
            s.forget(v.id());
            assertEquals(List.of(), s.verify(true));
        }
        try (Store s = Store.open(dir, StoreOptions.parse("hot=1,keep_last=0"))) {
            VersionInfo v = StoreTest.write(s, "/new.txt", "sealed after the newest was deleted\n".getBytes(StandardCharsets.UTF_8));
            assertEquals(maxId + 2, v.id(), "the id of the deleted newest version is not handed out again");
            java.util.Map<Long, String> now = actual(s);
            now.remove(v.id());
            assertEquals(expected, now, "every version of the format-2 store keeps its id and bytes");
            assertEquals(List.of(), s.verify(true));
        }
    }

    /**
     * Format 3 as written (store-v3: the content of store-v2, read once each, then a newest version sealed and
     * removed, so {@code next_version} is above every remaining id).
     */
    @Test void versionThreeStoreReadsBackAndNeverReusesTheIdOfItsRemovedNewestVersion() throws Exception {
        Path dir = copy("store-v3");
        java.util.Map<Long, String> expected = expected(dir);
        long maxId = ((java.util.TreeMap<Long, String>) expected).lastKey();
        try (Store s = Store.openReadOnly(dir)) {
            assertEquals(expected, actual(s));
            assertEquals(List.of(), s.verify(true));
        }
        try (Store s = Store.open(dir, StoreOptions.parse("hot=1,keep_last=0"))) {
            assertEquals("3", formatVersion(dir));
            assertEquals(expected.keySet(), s.metadata().read(s.metadata()::lastReads).keySet(), "read times recorded by the writer");
            VersionInfo v = StoreTest.write(s, "/new.txt", "after the removed one\n".getBytes(StandardCharsets.UTF_8));
            assertEquals(maxId + 2, v.id(), "id " + (maxId + 1) + " belonged to the removed newest version");
            java.util.Map<Long, String> now = actual(s);
            now.remove(v.id());
            assertEquals(expected, now);
        }
    }

    static String formatVersion(Path dir) throws Exception {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(Metadata.DB_FILE));
             java.sql.ResultSet rs = c.createStatement().executeQuery("SELECT value FROM meta WHERE key='format_version'")) {
            return rs.getString(1);
        }
    }
}
