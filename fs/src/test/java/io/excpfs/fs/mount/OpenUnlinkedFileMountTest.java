package io.excpfs.fs.mount;

import io.excpfs.fs.ops.Errno;
import io.excpfs.fs.ops.FsException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * fstat(2) and friends on descriptors of files unlinked or replaced while open, through a real mount: libfuse keeps
 * such a file under a hidden name the store never holds (StoreFileSystem#hide).
 */
@Tag("slow")
class OpenUnlinkedFileMountTest extends MountedStoreTest {

    private List<String> listing(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void fstatFtruncateAndWritesWorkOnAnUnlinkedOpenFile() throws Exception {
        Path p = mnt.resolve("scratch.pt");
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[100_000]));
            Files.delete(p);
            assertEquals(List.of(), listing(mnt), "gone from the directory, no .fuse_hidden entry listed");
            assertEquals(100_000, ch.size(), "fstat through the descriptor");
            ch.write(ByteBuffer.wrap(new byte[5000]), 100_000);
            assertEquals(105_000, ch.size());
            ch.truncate(1000);
            assertEquals(1000, ch.size(), "FileChannel.truncate calls fstat, then ftruncate");
            assertEquals(1000, ch.read(ByteBuffer.allocate(4096), 0));
        }
        assertEquals(List.of(), listing(mnt));
        assertEquals(Errno.ENOENT, errno(() -> fs.store().stat("/scratch.pt")));
    }

    private static Errno errno(MountFixtureCall c) {
        try {
            c.run();
        } catch (FsException e) {
            return e.errno();
        }
        throw new AssertionError("no FsException");
    }

    interface MountFixtureCall {
        void run() throws FsException;
    }

    @Test
    void anUnlinkIsCarriedOutEvenWhenNothingElseHappens() throws Exception {
        Path p = mnt.resolve("a.pt");
        Files.write(p, new byte[1000]);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            Files.delete(p);
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (errnoOrNull(() -> fs.store().stat("/a.pt")) != Errno.ENOENT) {
                assertTrue(System.nanoTime() < deadline, "the store still has /a.pt 5 s after unlink(2) returned");
                Thread.sleep(5);
            }
            assertEquals(1000, ch.size());
            assertEquals(1, fs.store().versions().stream().filter(v -> v.path().equals("/a.pt")).count(),
                    "the deleted version stays as history");
        }
    }

    private static Errno errnoOrNull(MountFixtureCall c) {
        try {
            c.run();
            return null;
        } catch (FsException e) {
            return e.errno();
        }
    }

    @Test
    void aRenameOverAnOpenFileStillReplacesItAtomically() throws Exception {
        Path p = mnt.resolve("last.ckpt");
        Files.write(p, new byte[3000]);
        try (FileChannel reader = FileChannel.open(p, StandardOpenOption.READ)) {
            Files.write(mnt.resolve("last.ckpt.tmp"), new byte[7000]);
            long before = fs.store().versions().size();
            Files.move(mnt.resolve("last.ckpt.tmp"), p, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            assertEquals(3000, reader.size(), "fstat of the replaced file");
            assertEquals(7000, Files.size(p));
            assertEquals(List.of("last.ckpt"), listing(mnt));
            assertEquals(before, fs.store().versions().size());
            assertEquals("replaced", historyStatusOfOldest("/last.ckpt"),
                    "one rename in the store (replaced), not an unlink then a rename");
        }
        assertEquals(List.of("last.ckpt"), listing(mnt));
    }

    private String historyStatusOfOldest(String path) throws FsException {
        return fs.store().history(path).stream().filter(v -> v.path().equals(path))
                .min(java.util.Comparator.comparingLong(v -> v.id())).map(v -> v.endReason()).orElse("none");
    }

    @Test
    void aDirectoryWhoseFilesAreOpenCanBeRemovedAndRecreated() throws Exception {
        Path dir = mnt.resolve("checkpoint-5");
        Files.createDirectories(dir);
        Files.write(dir.resolve("model.safetensors"), new byte[2000]);
        try (FileChannel held = FileChannel.open(dir.resolve("model.safetensors"), StandardOpenOption.READ)) {
            Files.delete(dir.resolve("model.safetensors"));
            assertEquals(2000, held.size(), "fstat while the directory still exists");
            Files.delete(dir);
            assertFalse(Files.exists(dir));
            assertEquals(2000, held.read(ByteBuffer.allocate(4096), 0), "still readable once its directory is gone");
            Files.createDirectories(dir);
            Files.write(dir.resolve("model.safetensors"), new byte[10]);
            assertEquals(List.of("model.safetensors"), listing(dir));
        }
        assertEquals(List.of("checkpoint-5"), listing(mnt));
    }
}
