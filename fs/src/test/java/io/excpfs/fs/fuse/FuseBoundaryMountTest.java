package io.excpfs.fs.fuse;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static io.excpfs.fs.fuse.MountFixture.ok;
import static org.junit.jupiter.api.Assertions.*;

/** The FUSE boundary on a real mount over an in-memory file system: every callback is reached and mapped. */
@Tag("slow")
class FuseBoundaryMountTest {
    @TempDir Path tmp;
    MemoryOps ops;
    FuseMount mount;
    Path mnt;

    @BeforeEach
    void mountIt() throws IOException {
        MountFixture.assumeFuse();
        ops = new MemoryOps();
        mnt = tmp.resolve("mnt");
        mount = MountFixture.mount(ops, mnt);
    }

    @AfterEach
    void unmountIt() {
        MountFixture.unmount(mount);
    }

    @Test
    void writesReadsAndListsThroughTheKernel() throws IOException {
        byte[] data = new byte[3 * 1024 * 1024 + 17];
        new Random(1).nextBytes(data);
        Files.createDirectories(mnt.resolve("run/checkpoint-500"));
        Files.write(mnt.resolve("run/checkpoint-500/model.bin"), data);
        assertArrayEquals(data, Files.readAllBytes(mnt.resolve("run/checkpoint-500/model.bin")));
        assertEquals(data.length, Files.size(mnt.resolve("run/checkpoint-500/model.bin")));
        try (Stream<Path> s = Files.list(mnt.resolve("run"))) {
            assertEquals(List.of("checkpoint-500"), s.map(p -> p.getFileName().toString()).toList());
        }
        assertEquals(0, ops.openHandles(), "every handle released after close");
    }

    @Test
    void randomWritesOverwriteInPlaceAndTruncate() throws IOException {
        Path f = mnt.resolve("f.bin");
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.seek(100_000);
            r.write(new byte[] {1, 2, 3});
            r.seek(10);
            r.write(new byte[] {9});
            r.setLength(100_002);
        }
        byte[] got = Files.readAllBytes(f);
        assertEquals(100_002, got.length);
        assertEquals(9, got[10]);
        assertEquals(1, got[100_000]);
        assertEquals(2, got[100_001]);
        Files.write(f, new byte[] {7}, StandardOpenOption.APPEND);
        assertEquals(100_003, Files.size(f));
        Files.write(f, new byte[] {5, 5}, StandardOpenOption.TRUNCATE_EXISTING);
        assertArrayEquals(new byte[] {5, 5}, Files.readAllBytes(f));
        assertTrue(ops.calls.contains("open /f.bin 1001"), "O_TRUNC reaches open atomically: " + ops.calls);
    }

    @Test
    void mmapReadsWork() throws IOException {
        byte[] data = new byte[200_000];
        new Random(2).nextBytes(data);
        Files.write(mnt.resolve("m.bin"), data);
        String py = "import mmap,sys,hashlib\n"
                + "with open(sys.argv[1],'rb') as f:\n"
                + "    m=mmap.mmap(f.fileno(),0,access=mmap.ACCESS_READ)\n"
                + "    print(hashlib.sha256(m[:]).hexdigest()); m.close()\n";
        String got = ok(tmp, "/usr/bin/python3", "-c", py, mnt.resolve("m.bin").toString()).strip();
        assertEquals(sha256(data), got);
    }

    static String sha256(byte[] data) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void renameReplacesAndErrorsMapToErrno() throws IOException {
        Files.writeString(mnt.resolve("ckpt.pt.tmp"), "new");
        Files.writeString(mnt.resolve("ckpt.pt"), "old");
        Files.move(mnt.resolve("ckpt.pt.tmp"), mnt.resolve("ckpt.pt"), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
        assertEquals("new", Files.readString(mnt.resolve("ckpt.pt")));
        assertFalse(Files.exists(mnt.resolve("ckpt.pt.tmp")));
        assertThrows(NoSuchFileException.class, () -> Files.readString(mnt.resolve("missing")));
        Files.createDirectory(mnt.resolve("d"));
        Files.writeString(mnt.resolve("d/x"), "x");
        assertThrows(java.nio.file.DirectoryNotEmptyException.class, () -> Files.delete(mnt.resolve("d")));
        assertThrows(java.nio.file.FileSystemException.class,
                () -> Files.createLink(mnt.resolve("hard"), mnt.resolve("d/x")));
    }

    @Test
    void nonAsciiAndLongNamesSymlinksAndXattrs() throws IOException {
        String name = "épôque-检查点-" + "n".repeat(200);
        Files.writeString(mnt.resolve(name), "ü");
        try (Stream<Path> s = Files.list(mnt)) {
            assertEquals(List.of(name), s.map(p -> p.getFileName().toString()).toList());
        }
        Files.createSymbolicLink(mnt.resolve("link"), Path.of(name));
        assertEquals(Path.of(name), Files.readSymbolicLink(mnt.resolve("link")));
        assertEquals("ü", Files.readString(mnt.resolve("link")));

        UserDefinedFileAttributeView view =
                Files.getFileAttributeView(mnt.resolve(name), UserDefinedFileAttributeView.class);
        view.write("lightning", ByteBuffer.wrap("v1".getBytes(StandardCharsets.UTF_8)));
        assertEquals(List.of("lightning"), view.list());
        ByteBuffer b = ByteBuffer.allocate(view.size("lightning"));
        view.read("lightning", b);
        assertEquals("v1", new String(b.array(), StandardCharsets.UTF_8));
        view.delete("lightning");
        assertEquals(List.of(), view.list());
    }

    @Test
    void aChildClosingAnInheritedDescriptorDoesNotFlushTheOpenersFile() throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(mnt.resolve("open.bin"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[10]));
            ok(tmp, "true");
            assertTrue(ops.calls.stream().noneMatch(c -> c.startsWith("flush")), ops.calls.toString());
        }
        assertTrue(ops.calls.stream().anyMatch(c -> c.startsWith("flush")), "the opener's close flushes: " + ops.calls);
    }

    @Test
    void shellToolsWork() throws IOException {
        Path src = tmp.resolve("src");
        Files.createDirectories(src.resolve("a/b"));
        Files.write(src.resolve("a/b/c.bin"), new byte[70_000]);
        ok(tmp, "cp", "-r", src.toString(), mnt.resolve("copy").toString());
        ok(tmp, "mv", mnt.resolve("copy/a").toString(), mnt.resolve("moved").toString());
        assertEquals(70_000, Files.size(mnt.resolve("moved/b/c.bin")));
        assertTrue(ok(mnt, "ls", "-la", "moved/b").contains("c.bin"));
        assertEquals("70000\n", ok(mnt, "stat", "-c", "%s", "moved/b/c.bin"));
        ok(mnt, "ln", "-s", "moved/b/c.bin", "sl");
        assertEquals("moved/b/c.bin\n", ok(mnt, "readlink", "sl"));
        ok(mnt, "chmod", "600", "moved/b/c.bin");
        assertEquals("600\n", ok(mnt, "stat", "-c", "%a", "moved/b/c.bin"));
        ok(mnt, "touch", "-d", "2001-02-03 04:05:06 UTC", "moved/b/c.bin");
        assertEquals("981173106\n", ok(mnt, "stat", "-c", "%Y", "moved/b/c.bin"));
        ok(tmp, "rm", "-rf", mnt.resolve("moved").toString(), mnt.resolve("copy").toString());
        assertEquals("sl\n", ok(mnt, "ls"));
        ok(mnt, "df", ".");
    }
}
