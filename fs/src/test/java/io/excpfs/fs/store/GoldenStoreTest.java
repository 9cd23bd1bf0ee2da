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
}
