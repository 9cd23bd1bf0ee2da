package io.excpfs.fs.store;

import io.excpfs.fs.ops.Attr;
import io.excpfs.fs.ops.Errno;
import io.excpfs.fs.ops.FileSystemOps;
import io.excpfs.fs.ops.FsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.DriverManager;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class StoreTest {
    @TempDir Path tmp;

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static VersionInfo write(Store s, String path, byte[] data) throws Exception {
        try {
            s.stat(path);
        } catch (FsException e) {
            if (e.errno() != Errno.ENOENT) throw e;
            s.createFile(path, 0644, 0, 0);
        }
        return s.seal(path, s.stage(new ByteArrayInputStream(data)));
    }

    static byte[] read(Store s, String path) throws Exception {
        try (VersionView v = s.openCurrent(path)) {
            return v == null ? new byte[0] : v.read(0, (int) v.size());
        }
    }

    Store open() throws IOException { return Store.open(tmp.resolve("store"), StoreOptions.defaults()); }

    @Test void inodeNumbersAreNeverReused() throws Exception {
        java.util.Set<Long> used = new java.util.HashSet<>();
        try (Store s = open()) {
            for (int i = 0; i < 20; i++) {
                s.createFile("/f" + i, 0644, 0, 0);
                assertTrue(used.add(s.ino("/f" + i)), "fresh number for /f" + i);
                if (i % 2 == 0) s.unlink("/f" + i);
                s.mkdir("/d" + i, 0755, 0, 0);
                assertTrue(used.add(s.ino("/d" + i)), "fresh number for /d" + i);
                s.rmdir("/d" + i);
            }
        }
        try (Store s = open()) {
            s.createFile("/after-reopen", 0644, 0, 0);
            assertTrue(used.add(s.ino("/after-reopen")), "fresh number after a reopen");
        }
    }

    @Test void hotVersionReadsBackExactlyAndStoreIsPrivate() throws Exception {
        byte[] data = random(300_000, 1);
        try (Store s = open()) {
            s.mkdir("/run", 0755, 1000, 1000);
            VersionInfo v = write(s, "/run/ckpt.pt", data);
            assertEquals(VersionState.HOT, v.state());
            assertEquals(data.length, s.stat("/run/ckpt.pt").size());
            assertArrayEquals(data, read(s, "/run/ckpt.pt"));
            assertEquals(List.of("ckpt.pt"), s.list("/run"));
            assertEquals(1000, s.stat("/run").uid());
        }
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("store"))));
    }

    @Test void overwrittenPathKeepsHistoryAndPinnedViewSurvives() throws Exception {
        byte[] a = random(100_000, 2), b = random(120_000, 3);
        try (Store s = open()) {
            write(s, "/ckpt.pt", a);
            try (VersionView pinned = s.openCurrent("/ckpt.pt")) {
                write(s, "/ckpt.pt", b);
                s.flush();
                assertArrayEquals(a, pinned.read(0, (int) pinned.size()), "a reader keeps the version it opened");
            }
            assertArrayEquals(b, read(s, "/ckpt.pt"));
            List<VersionInfo> h = s.history("/ckpt.pt");
            assertEquals(2, h.size());
            assertEquals(VersionStatus.HISTORY, h.get(0).status());
            assertEquals("overwritten", h.get(0).endReason());
            assertEquals(VersionStatus.LIVE, h.get(1).status());
            assertEquals(h.get(1), s.current("/ckpt.pt"));
            try (VersionView old = s.openVersion(h.get(0).id())) {
                assertArrayEquals(a, old.read(0, (int) old.size()));
            }
        }
    }

    @Test void unlinkMovesVersionToHistoryAndRenameFollowsLineage() throws Exception {
        try (Store s = open()) {
            s.mkdir("/out", 0755, 0, 0);
            write(s, "/out/ckpt.pt", random(10, 1));
            write(s, "/out/ckpt.pt.tmp", random(20, 2));
            s.rename("/out/ckpt.pt.tmp", "/out/ckpt.pt", 0);
            assertEquals(20, s.stat("/out/ckpt.pt").size());
            assertThrows(FsException.class, () -> s.stat("/out/ckpt.pt.tmp"));
            List<VersionInfo> h = s.history("/out/ckpt.pt");
            assertEquals(2, h.size(), "the renamed version joins the lineage of its new path");
            assertEquals("replaced", h.get(0).endReason());
            s.unlink("/out/ckpt.pt");
            assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> s.stat("/out/ckpt.pt")).errno());
            VersionInfo last = s.history("/out/ckpt.pt").get(1);
            assertEquals("deleted", last.endReason());
            assertEquals(VersionStatus.HISTORY, last.status());
        }
    }

    @Test void renameFlagsAndErrors() throws Exception {
        try (Store s = open()) {
            s.mkdir("/d", 0755, 0, 0);
            s.mkdir("/e", 0755, 0, 0);
            write(s, "/d/a", random(5, 1));
            write(s, "/e/b", random(7, 2));
            assertEquals(Errno.EEXIST, assertThrows(FsException.class, () -> s.rename("/d/a", "/e/b", FileSystemOps.RENAME_NOREPLACE)).errno());
            s.rename("/d/a", "/e/b", FileSystemOps.RENAME_EXCHANGE);
            assertEquals(7, s.stat("/d/a").size());
            assertEquals(5, s.stat("/e/b").size());
            assertEquals(Errno.EISDIR, assertThrows(FsException.class, () -> s.rename("/d/a", "/e", 0)).errno());
            assertEquals(Errno.ENOTEMPTY, assertThrows(FsException.class, () -> s.rename("/d", "/e", 0)).errno());
            assertEquals(Errno.EINVAL, assertThrows(FsException.class, () -> s.rename("/d", "/d/x", 0)).errno());
            assertEquals(Errno.ENOTEMPTY, assertThrows(FsException.class, () -> s.rmdir("/d")).errno());
            assertEquals(Errno.ENOTDIR, assertThrows(FsException.class, () -> s.rmdir("/d/a")).errno());
            assertEquals(Errno.EISDIR, assertThrows(FsException.class, () -> s.unlink("/d")).errno());
            s.rename("/d", "/f", 0);
            assertEquals(7, s.stat("/f/a").size());
            assertEquals("/f/a", s.history("/f/a").get(0).path(), "live versions follow a directory rename");
            s.symlink("f/a", "/link", 0, 0);
            assertEquals("f/a", s.readlink("/link"));
            assertTrue(s.stat("/link").isSymlink());
            s.setxattr("/f/a", "user.x", new byte[]{1, 2}, 0);
            assertArrayEquals(new byte[]{1, 2}, s.getxattr("/f/a", "user.x"));
            assertEquals(Errno.EEXIST, assertThrows(FsException.class, () -> s.setxattr("/f/a", "user.x", new byte[]{3}, FileSystemOps.XATTR_CREATE)).errno());
            assertEquals(List.of("user.x"), s.listxattr("/f/a"));
            s.removexattr("/f/a", "user.x");
            assertEquals(Errno.ENODATA, assertThrows(FsException.class, () -> s.getxattr("/f/a", "user.x")).errno());
            s.chmod("/f/a", 0600);
            assertEquals(Attr.S_IFREG | 0600, s.stat("/f/a").mode());
            s.utimens("/f/a", 5, 7);
            assertEquals(7, s.stat("/f/a").mtimeNanos());
            assertEquals(Errno.EEXIST, assertThrows(FsException.class, () -> s.mkdir("/f", 0755, 0, 0)).errno());
            assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> s.mkdir("/nope/x", 0755, 0, 0)).errno());
            assertEquals(Errno.ENAMETOOLONG, assertThrows(FsException.class, () -> s.stat("/" + "x".repeat(256))).errno());
        }
    }

    @Test void reopenKeepsEverythingAndDropsStaging() throws Exception {
        byte[] a = random(70_000, 5);
        try (Store s = open()) {
            s.mkdir("/ü dir", 0700, 0, 0);
            write(s, "/ü dir/ckpt.pt", random(1000, 4));
            write(s, "/ü dir/ckpt.pt", a);
            s.newStagingFile();
        }
        try (Store s = open()) {
            assertArrayEquals(a, read(s, "/ü dir/ckpt.pt"));
            assertEquals(2, s.history("/ü dir/ckpt.pt").size());
            try (var files = Files.list(tmp.resolve("store/staging"))) {
                assertEquals(0, files.count(), "unsealed staging files are dropped at open");
            }
            assertEquals(List.of(), s.verify(true));
        }
    }

    @Test void secondWriterIsRefusedButReadOnlyOpenWorks() throws Exception {
        try (Store s = open()) {
            write(s, "/x", random(10, 1));
            IOException e = assertThrows(IOException.class, this::open);
            assertTrue(e.getMessage().contains("open for writing"), e.getMessage());
            try (Store ro = Store.openReadOnly(tmp.resolve("store"))) {
                assertEquals(10, ro.stat("/x").size());
                assertEquals(Errno.EROFS, assertThrows(FsException.class, () -> ro.mkdir("/y", 0755, 0, 0)).errno());
            }
        }
    }

    @Test void newerFormatIsRefused() throws Exception {
        try (Store s = open()) {
            write(s, "/x", random(10, 1));
        }
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + tmp.resolve("store/excpfs.db"))) {
            c.createStatement().executeUpdate("UPDATE meta SET value='99' WHERE key='format_version'");
        }
        StoreFormatException e = assertThrows(StoreFormatException.class, this::open);
        assertTrue(e.getMessage().contains("99") && e.getMessage().contains("newer"), e.getMessage());
        assertThrows(StoreFormatException.class, () -> Store.openReadOnly(tmp.resolve("store")));
    }

    @Test void notAStoreIsRefused() throws Exception {
        Files.createDirectories(tmp.resolve("other"));
        Files.writeString(tmp.resolve("other/file.txt"), "hello");
        assertThrows(StoreFormatException.class, () -> Store.open(tmp.resolve("other"), StoreOptions.defaults()));
    }

    @Test void flippedBitIsAnErrorNotWrongBytes() throws Exception {
        byte[] data = random(200_000, 9);
        Path raw;
        try (Store s = open()) {
            write(s, "/ckpt.pt", data);
            try (var files = Files.walk(tmp.resolve("store/objects"))) {
                raw = files.filter(p -> p.toString().endsWith(".raw")).findFirst().orElseThrow();
            }
        }
        byte[] onDisk = Files.readAllBytes(raw);
        onDisk[150_000] ^= 0x10;
        Files.write(raw, onDisk);
        try (Store s = open()) {
            try (VersionView v = s.openCurrent("/ckpt.pt")) {
                assertArrayEquals(java.util.Arrays.copyOf(data, 1000), v.read(0, 1000), "untouched blocks still read");
                CorruptDataException e = assertThrows(CorruptDataException.class, () -> v.read(140_000, 20_000));
                assertTrue(e.getMessage().contains("block 2"), e.getMessage());
            }
            List<String> problems = s.verify(false);
            assertEquals(1, problems.size(), problems.toString());
            assertTrue(problems.get(0).contains("/ckpt.pt") && problems.get(0).contains("CRC32C"), problems.get(0));
        }
    }

    @Test void missingObjectIsReported() throws Exception {
        try (Store s = open()) {
            write(s, "/a.bin", random(1000, 1));
            write(s, "/b.bin", random(1000, 2));
        }
        try (Store ro = Store.openReadOnly(tmp.resolve("store"))) {
            long id = ro.history("/b.bin").get(0).id();
            String obj = ro.metadata().read(() -> ro.metadata().objectOf(id));
            Files.delete(tmp.resolve("store/objects").resolve(obj.substring(0, 2)).resolve(obj + ".raw"));
            List<String> problems = ro.verify(true);
            assertEquals(1, problems.size(), problems.toString());
            assertTrue(problems.get(0).contains("/b.bin") && problems.get(0).contains("missing"), problems.get(0));
        }
    }

    @Test void emptyFileHasNoVersionUntilSealed() throws Exception {
        try (Store s = open()) {
            s.createFile("/new.pt", 0644, 0, 0);
            assertEquals(0, s.stat("/new.pt").size());
            assertNull(s.openCurrent("/new.pt"));
            assertNull(s.current("/new.pt"));
            write(s, "/new.pt", new byte[0]);
            try (VersionView v = s.openCurrent("/new.pt")) {
                assertEquals(0, v.size());
            }
            long ino = s.ino("/new.pt");
            s.unlink("/new.pt");
            Path staging = s.newStagingFile();
            assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> s.seal(ino, staging)).errno());
            assertFalse(Files.exists(staging), "the staging file is consumed on failure too");
        }
    }
}
