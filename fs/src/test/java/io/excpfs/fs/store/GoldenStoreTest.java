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
 * symlink) must stay readable by every later excpfs. Never regenerate it; add a new golden store for a new format.
 */
class GoldenStoreTest {
    @TempDir Path tmp;

    Path copy() throws Exception {
        Path src = Path.of(GoldenStoreTest.class.getResource("/golden/store-v1/excpfs.db").toURI()).getParent();
        Path dst = tmp.resolve("store");
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
            assertEquals("2", formatVersion(dir));
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

    static String formatVersion(Path dir) throws Exception {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(Metadata.DB_FILE));
             java.sql.ResultSet rs = c.createStatement().executeQuery("SELECT value FROM meta WHERE key='format_version'")) {
            return rs.getString(1);
        }
    }
}
