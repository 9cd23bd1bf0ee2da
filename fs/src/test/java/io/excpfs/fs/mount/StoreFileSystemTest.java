package io.excpfs.fs.mount;

import io.excpfs.fs.ops.Errno;
import io.excpfs.fs.ops.FileSystemOps;
import io.excpfs.fs.ops.FsException;
import io.excpfs.fs.store.Store;
import io.excpfs.fs.store.StoreOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.excpfs.fs.ops.FileSystemOps.*;
import static org.junit.jupiter.api.Assertions.*;

/** {@link StoreFileSystem} called directly, replaying what trainers do to a checkpoint directory. */
class StoreFileSystemTest {
    @TempDir Path tmp;
    StoreFileSystem fs;

    @BeforeEach
    void open() throws IOException {
        fs = new StoreFileSystem(Store.open(tmp.resolve("store"), StoreOptions.defaults()));
    }

    @AfterEach
    void close() {
        if (fs != null) fs.close();
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** torch.save: create, sequential 64 KiB writes, close. */
    static void save(FileSystemOps ops, String path, byte[] data) throws FsException {
        long fh = ops.create(path, 0644, O_WRONLY | O_CREAT | O_TRUNC);
        for (int off = 0; off < data.length; off += 65536) {
            int n = Math.min(65536, data.length - off);
            assertEquals(n, ops.write(fh, off, Arrays.copyOfRange(data, off, off + n), n));
        }
        ops.flush(fh);
        ops.release(fh);
    }

    static byte[] readAll(FileSystemOps ops, String path) throws FsException {
        long fh = ops.open(path, O_RDONLY);
        try {
            return drain(ops, fh);
        } finally {
            ops.release(fh);
        }
    }

    static byte[] drain(FileSystemOps ops, long fh) throws FsException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[131072];
        for (long off = 0; ; ) {
            int n = ops.read(fh, off, buf, buf.length);
            if (n == 0) return out.toByteArray();
            out.write(buf, 0, n);
            off += n;
        }
    }

    String xattr(String path, String name) throws FsException {
        return new String(fs.getxattr(path, name), StandardCharsets.UTF_8);
    }

    static Errno errno(Executable e) {
        try {
            e.run();
        } catch (FsException x) {
            return x.errno();
        }
        throw new AssertionError("no FsException");
    }

    interface Executable {
        void run() throws FsException;
    }

    @Test
    void torchSaveWritesAreSealedAtCloseAndReadBackExactly() throws FsException {
        byte[] data = random(1_000_003, 1);
        save(fs, "/ckpt.pt", data);
        assertArrayEquals(data, readAll(fs, "/ckpt.pt"));
        assertEquals(data.length, fs.getattr("/ckpt.pt").size());
        assertEquals("hot", xattr("/ckpt.pt", "user.excp.state"));
        assertEquals("/ckpt.pt", xattr("/ckpt.pt", "user.excp.lineage"));
        assertNotEquals("0", xattr("/ckpt.pt", "user.excp.version"));
        assertTrue(fs.listxattr("/ckpt.pt").containsAll(StoreFileSystem.VIRTUAL_XATTRS));
        assertEquals(1, fs.store().versions().size());
    }

    @Test
    void nanoGptOverwriteKeepsTheOldVersionInHistory() throws FsException {
        byte[] v1 = random(300_000, 1), v2 = random(310_000, 2);
        save(fs, "/ckpt.pt", v1);
        String firstVersion = xattr("/ckpt.pt", "user.excp.version");
        long reader = fs.open("/ckpt.pt", O_RDONLY);
        save(fs, "/ckpt.pt", v2);
        assertArrayEquals(v2, drain(fs, reader), "an in-place overwrite reaches every descriptor of the inode");
        assertEquals(v2.length, fs.fgetattr(reader).size());
        fs.release(reader);
        assertArrayEquals(v2, readAll(fs, "/ckpt.pt"));
        assertNotEquals(firstVersion, xattr("/ckpt.pt", "user.excp.version"));
        assertEquals(List.of("history"), fs.readdir("/.excp").stream().filter(n -> n.equals("history")).toList());
        String entry = "ckpt.pt@" + firstVersion;
        assertEquals(List.of(entry), fs.readdir("/.excp/history"));
        assertEquals(v1.length, fs.getattr("/.excp/history/" + entry).size());
        assertArrayEquals(v1, readAll(fs, "/.excp/history/" + entry));
        assertEquals(firstVersion, new String(fs.getxattr("/.excp/history/" + entry, "user.excp.version"),
                StandardCharsets.UTF_8));
        assertEquals(StoreFileSystem.VIRTUAL_XATTRS, fs.listxattr("/.excp/history/" + entry));
        assertEquals(Errno.EROFS, errno(() -> fs.open("/.excp/history/" + entry, O_WRONLY)));
        assertEquals(Errno.EROFS, errno(() -> fs.unlink("/.excp/history/" + entry)));
        assertFalse(fs.readdir("/").contains(".excp"), "the control tree is hidden from the root listing");
    }

    @Test
    void huggingFaceCheckpointDirectoriesRotateWithRmtree() throws FsException {
        for (int step = 1; step <= 3; step++) {
            String dir = "/checkpoint-" + step * 500;
            fs.mkdir(dir, 0755);
            save(fs, dir + "/model.safetensors", random(50_000, step));
            save(fs, dir + "/optimizer.pt", random(90_000, 10 + step));
            save(fs, dir + "/trainer_state.json", ("{\"step\": " + step + "}").getBytes(StandardCharsets.UTF_8));
            if (step > 2) {
                String old = "/checkpoint-" + (step - 2) * 500;
                for (String n : fs.readdir(old)) fs.unlink(old + "/" + n);
                fs.rmdir(old);
            }
        }
        assertEquals(List.of("checkpoint-1000", "checkpoint-1500"), fs.readdir("/"));
        assertArrayEquals(random(90_000, 13), readAll(fs, "/checkpoint-1500/optimizer.pt"));
        assertEquals("/checkpoint-*/model.safetensors", xattr("/checkpoint-1500/model.safetensors", "user.excp.lineage"));
        List<String> deleted = fs.readdir("/.excp/history/checkpoint-500");
        assertEquals(3, deleted.size(), "the rotated-out checkpoint stays readable as history: " + deleted);
        String model = deleted.stream().filter(n -> n.startsWith("model.safetensors@")).findFirst().orElseThrow();
        assertArrayEquals(random(50_000, 1), readAll(fs, "/.excp/history/checkpoint-500/" + model));
        assertTrue(fs.getattr("/.excp/history/checkpoint-500").isDir());
    }

    @Test
    void renameOfATmpFileReplacesTheTargetAtomically() throws FsException {
        save(fs, "/last.ckpt", random(1000, 1));
        save(fs, "/last.ckpt.tmp", random(2000, 2));
        fs.rename("/last.ckpt.tmp", "/last.ckpt", 0);
        assertArrayEquals(random(2000, 2), readAll(fs, "/last.ckpt"));
        assertEquals(Errno.ENOENT, errno(() -> fs.getattr("/last.ckpt.tmp")));
        assertEquals(1, fs.readdir("/.excp/history").size());
    }

    @Test
    void aReaderOfAFileReplacedByRenameKeepsTheOldFile() throws FsException {
        byte[] v1 = random(300_000, 1), v2 = random(600_000, 2);
        save(fs, "/ckpt.pt", v1);
        long reader = fs.open("/ckpt.pt", O_RDONLY);
        byte[] head = new byte[4096];
        assertEquals(head.length, fs.read(reader, 0, head, head.length));
        save(fs, "/ckpt.pt.tmp", v2);
        fs.rename("/ckpt.pt.tmp", "/ckpt.pt", 0);
        assertArrayEquals(v1, drain(fs, reader), "rename made a new inode; the old descriptor keeps the old file");
        assertEquals(v1.length, fs.fgetattr(reader).size());
        fs.flushAll();
        assertArrayEquals(v1, drain(fs, reader), "still readable once the replaced version is demoted");
        fs.release(reader);
        assertArrayEquals(v2, readAll(fs, "/ckpt.pt"));
    }

    @Test
    void aReaderSeesEachStateOfAnInPlaceOverwriteNeverAMix() throws FsException {
        byte[] v1 = random(300_000, 1), v2 = random(600_000, 2);
        save(fs, "/ckpt.pt", v1);
        long reader = fs.open("/ckpt.pt", O_RDONLY);
        byte[] buf = new byte[65536];
        assertEquals(buf.length, fs.read(reader, 0, buf, buf.length));
        assertArrayEquals(Arrays.copyOf(v1, buf.length), buf);
        long writer = fs.open("/ckpt.pt", O_WRONLY | O_TRUNC);
        assertEquals(0, fs.read(reader, 0, buf, buf.length), "truncated to 0 for every descriptor");
        assertEquals(0, fs.fgetattr(reader).size());
        fs.write(writer, 0, Arrays.copyOf(v2, 100_000), 100_000);
        assertEquals(100_000, fs.fgetattr(reader).size());
        assertEquals(0, fs.read(reader, 100_000, buf, buf.length), "nothing past what was written");
        assertEquals(buf.length, fs.read(reader, 0, buf, buf.length));
        assertArrayEquals(Arrays.copyOf(v2, buf.length), buf, "the writer's bytes, not the old version's");
        fs.write(writer, 100_000, Arrays.copyOfRange(v2, 100_000, v2.length), v2.length - 100_000);
        fs.flush(writer);
        fs.release(writer);
        assertArrayEquals(v2, drain(fs, reader));
        fs.release(reader);
        assertEquals(List.of("ckpt.pt@1"), fs.readdir("/.excp/history"));
    }

    /** libfuse's hide protocol (mounted without hard_remove): what a rename to a hidden name stands for. */
    @Test
    void aHideFollowedByARenameOntoThePathIsOneAtomicReplace() throws FsException {
        save(fs, "/last.ckpt", random(1000, 1));
        save(fs, "/last.ckpt.tmp", random(2000, 2));
        long reader = fs.open("/last.ckpt", O_RDONLY);
        String hidden = "/.fuse_hidden0000000200000001";
        assertEquals(Errno.ENOENT, errno(() -> fs.getattr(hidden)), "libfuse probes for a free hidden name");
        fs.rename("/last.ckpt", hidden, 0);
        fs.rename("/last.ckpt.tmp", "/last.ckpt", 0);
        assertEquals(List.of("last.ckpt"), fs.readdir("/"));
        assertEquals("replaced", fs.store().history("/last.ckpt").get(0).endReason());
        assertEquals(1000, fs.getattr(hidden).size());
        assertEquals(0, fs.getattr(hidden).nlink());
        assertArrayEquals(random(1000, 1), drain(fs, reader));
        fs.release(reader);
        fs.unlink(hidden);
        assertEquals(Errno.ENOENT, errno(() -> fs.getattr(hidden)));
        assertArrayEquals(random(2000, 2), readAll(fs, "/last.ckpt"));
    }

    @Test
    void aHideFollowedByAnythingElseIsAnUnlink() throws FsException {
        save(fs, "/a.pt", random(1000, 1));
        fs.mkdir("/d", 0755);
        save(fs, "/d/b.pt", random(500, 2));
        long a = fs.open("/a.pt", O_RDWR), b = fs.open("/d/b.pt", O_RDONLY);
        fs.rename("/a.pt", "/.fuse_hidden0000000300000001", 0);
        assertEquals(Errno.ENOENT, errno(() -> fs.getattr("/a.pt")), "carried out before the next call");
        fs.write(a, 1000, new byte[24], 24);
        assertEquals(1024, fs.getattr("/.fuse_hidden0000000300000001").size(), "fstat follows the open content");
        fs.rename("/d/b.pt", "/d/.fuse_hidden0000000400000001", 0);
        fs.rmdir("/d");
        assertEquals(List.of(), fs.readdir("/"), "hidden names are never listed, and never block rmdir");
        assertArrayEquals(random(500, 2), drain(fs, b));
        fs.release(b);
        fs.release(a);
        assertEquals(Errno.ENOENT, errno(() -> fs.getattr("/d/.fuse_hidden0000000400000001")),
                "forgotten at the last release, also when libfuse cannot name it any more");
        assertEquals(Errno.ENOENT, errno(() -> fs.getattr("/a.pt")));
        assertEquals("deleted", fs.store().history("/a.pt").get(0).endReason());
    }

    @Test
    void aWritersCloseSealsEvenWhileReadersAreOpen() throws FsException {
        save(fs, "/f", random(1000, 1));
        long reader = fs.open("/f", O_RDONLY);
        long writer = fs.open("/f", O_WRONLY | O_TRUNC);
        fs.write(writer, 0, random(2000, 2), 2000);
        fs.flush(writer);
        assertEquals("hot", xattr("/f", "user.excp.state"), "sealed at close, not at the reader's release");
        assertEquals("2", xattr("/f", "user.excp.version"));
        fs.release(writer);
        fs.release(reader);
        assertEquals(2, fs.store().versions().size());
        assertArrayEquals(random(2000, 2), readAll(fs, "/f"));
    }

    @Test
    void writesWithoutTruncStartFromTheCurrentContentAndAppendGoesToTheEnd() throws FsException {
        save(fs, "/f", "hello world".getBytes(StandardCharsets.UTF_8));
        long fh = fs.open("/f", O_RDWR);
        fs.write(fh, 6, "WORLD".getBytes(StandardCharsets.UTF_8), 5);
        byte[] buf = new byte[64];
        int n = fs.read(fh, 0, buf, 64);
        assertEquals("hello WORLD", new String(buf, 0, n, StandardCharsets.UTF_8), "a writer reads its own writes");
        assertEquals(11, fs.getattr("/f").size());
        fs.flush(fh);
        fs.release(fh);
        long ap = fs.open("/f", O_WRONLY | O_APPEND);
        fs.write(ap, 0, "!".getBytes(StandardCharsets.UTF_8), 1);
        fs.release(ap);
        assertEquals("hello WORLD!", new String(readAll(fs, "/f"), StandardCharsets.UTF_8));
        fs.truncate("/f", 5);
        assertEquals("hello", new String(readAll(fs, "/f"), StandardCharsets.UTF_8));
        fs.truncate("/f", 7);
        assertArrayEquals("hello\0\0".getBytes(StandardCharsets.UTF_8), readAll(fs, "/f"));
        assertEquals(5, fs.store().versions().size(), "save, overwrite, append, two truncates: "
                + fs.store().versions().size());
    }

    @Test
    void timesSetBeforeCloseSurviveTheSealLikeCpMinusP() throws FsException {
        long fh = fs.create("/copy", 0644, O_WRONLY | O_CREAT | O_TRUNC);
        fs.write(fh, 0, random(1000, 1), 1000);
        fs.utimens("/copy", 1_000_000_000_000L, 2_000_000_000_000L);
        fs.flush(fh);
        fs.release(fh);
        assertEquals(2_000_000_000_000L, fs.getattr("/copy").mtimeNanos());
        assertArrayEquals(random(1000, 1), readAll(fs, "/copy"));
        assertEquals(1, fs.store().versions().size());
    }

    @Test
    void closingWithoutChangesSealsNothing() throws FsException {
        save(fs, "/f", random(100, 1));
        long fh = fs.open("/f", O_RDWR);
        assertEquals(100, drain(fs, fh).length);
        fs.flush(fh);
        fs.release(fh);
        long empty = fs.create("/empty", 0644, O_WRONLY | O_CREAT);
        fs.release(empty);
        assertEquals(0, fs.getattr("/empty").size());
        assertEquals(0, readAll(fs, "/empty").length);
        assertEquals("empty", xattr("/empty", "user.excp.kind"));
        assertEquals(1, fs.store().versions().size());
    }

    @Test
    void aBareTruncationIsSealedAtReleaseNotAtTheFirstClose() throws FsException {
        save(fs, "/f", random(100, 1));
        long fh = fs.open("/f", O_WRONLY | O_TRUNC);
        fs.flush(fh);
        assertEquals(1, fs.store().versions().size(), "the shell's dup2+close before writing seals nothing");
        fs.write(fh, 0, random(7, 2), 7);
        fs.flush(fh);
        assertEquals(2, fs.store().versions().size(), "close after writes seals");
        fs.release(fh);
        long t = fs.open("/f", O_WRONLY | O_TRUNC);
        fs.flush(t);
        fs.release(t);
        assertEquals(0, fs.getattr("/f").size());
        assertEquals(3, fs.store().versions().size(), "the truncation alone is sealed at release");
    }

    @Test
    void fsyncSealsAVersionBeforeClose() throws FsException {
        long fh = fs.create("/ckpt.pt", 0644, O_WRONLY | O_CREAT | O_TRUNC);
        fs.write(fh, 0, random(5000, 1), 5000);
        assertEquals("staging", xattr("/ckpt.pt", "user.excp.state"));
        fs.fsync(fh, false);
        assertEquals("hot", xattr("/ckpt.pt", "user.excp.state"));
        String sealed = xattr("/ckpt.pt", "user.excp.version");
        assertNotEquals("0", sealed);
        fs.write(fh, 5000, random(10, 2), 10);
        fs.flush(fh);
        fs.release(fh);
        byte[] expect = Arrays.copyOf(random(5000, 1), 5010);
        System.arraycopy(random(10, 2), 0, expect, 5000, 10);
        assertArrayEquals(expect, readAll(fs, "/ckpt.pt"));
        assertNotEquals(sealed, xattr("/ckpt.pt", "user.excp.version"));
    }

    @Test
    void twoHandlesOnOneFileShareTheirBytesAndSealOnceAtTheLastClose() throws FsException {
        long a = fs.create("/f", 0644, O_RDWR | O_CREAT);
        long b = fs.open("/f", O_RDWR);
        fs.write(a, 0, "aaaa".getBytes(StandardCharsets.UTF_8), 4);
        fs.write(b, 2, "bb".getBytes(StandardCharsets.UTF_8), 2);
        fs.flush(a);
        assertEquals(0, fs.store().versions().size(), "not sealed while another handle is open");
        fs.release(a);
        assertEquals("aabb", new String(drain(fs, b), StandardCharsets.UTF_8));
        fs.flush(b);
        fs.release(b);
        assertEquals(1, fs.store().versions().size());
        assertEquals("aabb", new String(readAll(fs, "/f"), StandardCharsets.UTF_8));
    }

    @Test
    void changesToAnUnlinkedOpenFileAreDropped() throws FsException {
        long fh = fs.create("/f", 0644, O_WRONLY | O_CREAT);
        fs.write(fh, 0, random(10, 1), 10);
        fs.unlink("/f");
        fs.flush(fh);
        fs.release(fh);
        assertEquals(Errno.ENOENT, errno(() -> fs.getattr("/f")));
        assertEquals(List.of(), fs.readdir("/"));
    }

    @Test
    void aFileRecreatedWhileTheOldOneIsStillOpenStartsEmpty() throws FsException {
        save(fs, "/keep", random(10, 0));
        long old = fs.create("/f", 0644, O_RDWR | O_CREAT);
        fs.write(old, 0, random(5000, 1), 5000);
        fs.flush(old);
        fs.unlink("/f");
        long fresh = fs.create("/f", 0644, O_RDWR | O_CREAT);
        fs.ftruncate(fresh, 2051);
        fs.write(old, 5000, random(10, 2), 10);
        fs.release(old);
        fs.flush(fresh);
        fs.release(fresh);
        assertArrayEquals(new byte[2051], readAll(fs, "/f"), "nothing of the unlinked file leaks into the new one");
        long fh = fs.create("/g", 0644, O_RDWR | O_CREAT);
        fs.write(fh, 0, random(100, 3), 100);
        fs.rename("/keep", "/g", 0);
        fs.write(fh, 100, random(100, 4), 100);
        fs.release(fh);
        assertArrayEquals(random(10, 0), readAll(fs, "/g"), "a file replaced by rename while open is not resealed");
    }

    @Test
    void errorsCarryThePosixErrno() throws FsException {
        save(fs, "/f", random(10, 1));
        fs.mkdir("/d", 0755);
        assertEquals(Errno.ENOENT, errno(() -> fs.open("/missing", O_RDONLY)));
        assertEquals(Errno.EEXIST, errno(() -> fs.create("/f", 0644, O_WRONLY | O_CREAT | O_EXCL)));
        assertEquals(Errno.EISDIR, errno(() -> fs.open("/d", O_RDONLY)));
        assertEquals(Errno.EPERM, errno(() -> fs.link("/f", "/g")));
        assertEquals(Errno.EPERM, errno(() -> fs.setxattr("/f", "user.excp.state", new byte[1], 0)));
        assertEquals(Errno.EEXIST, errno(() -> fs.mkdir("/.excp", 0755)));
        assertEquals(Errno.EROFS, errno(() -> fs.rename("/f", "/.excp/history/f", 0)));
        long ro = fs.open("/f", O_RDONLY);
        assertEquals(Errno.EBADF, errno(() -> fs.write(ro, 0, new byte[1], 1)));
        fs.release(ro);
        assertEquals(Errno.EBADF, errno(() -> fs.release(ro)));
    }

    @Test
    void userXattrsAndMetadataPassThrough() throws FsException {
        save(fs, "/f", random(10, 1));
        fs.setxattr("/f", "user.lightning", "x".getBytes(StandardCharsets.UTF_8), 0);
        assertEquals("x", xattr("/f", "user.lightning"));
        assertTrue(fs.listxattr("/f").contains("user.lightning"));
        fs.removexattr("/f", "user.lightning");
        assertEquals(Errno.ENODATA, errno(() -> fs.getxattr("/f", "user.lightning")));
        fs.chmod("/f", 0600);
        assertEquals(0600, fs.getattr("/f").mode() & 07777);
        fs.utimens("/f", Long.MIN_VALUE, 1_000_000_000_000L);
        assertEquals(1_000_000_000_000L, fs.getattr("/f").mtimeNanos());
        fs.symlink("f", "/l");
        assertEquals("f", fs.readlink("/l"));
        assertTrue(fs.statfs().blockSize() > 0);
    }

    @Test
    void sealedVersionsSurviveAReopenOfTheStore() throws IOException, FsException {
        save(fs, "/ckpt.pt", random(70_000, 1));
        save(fs, "/ckpt.pt", random(70_000, 2));
        long open = fs.create("/partial", 0644, O_WRONLY | O_CREAT);
        fs.write(open, 0, random(100, 3), 100);
        fs.close();
        fs = new StoreFileSystem(Store.open(tmp.resolve("store"), StoreOptions.defaults()));
        assertArrayEquals(random(70_000, 2), readAll(fs, "/ckpt.pt"));
        assertEquals(1, fs.readdir("/.excp/history").size());
        assertArrayEquals(random(100, 3), readAll(fs, "/partial"), "a clean unmount seals open changes");
    }

    @Test
    void concurrentWritersOfDifferentFiles() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> jobs = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                int k = i;
                jobs.add(pool.submit(() -> {
                    save(fs, "/f" + k, random(200_000 + k, k));
                    assertArrayEquals(random(200_000 + k, k), readAll(fs, "/f" + k));
                    return null;
                }));
            }
            for (Future<?> f : jobs) f.get();
        } finally {
            pool.shutdownNow();
        }
        assertEquals(16, fs.readdir("/").size());
    }

    /** Opens read-only and tells whether the kernel may keep its pages for the file, then closes. */
    private boolean keepsCache(String path) throws FsException {
        long fh = fs.open(path, O_RDONLY);
        try {
            return fs.keepCache(fh);
        } finally {
            fs.release(fh);
        }
    }

    @Test
    void kernelPageCacheIsKeptOnlyForTheVersionItWasFilledFrom() throws Exception {
        save(fs, "/ckpt.pt", random(300_000, 1));
        assertFalse(keepsCache("/ckpt.pt"), "first open: the kernel may hold pages from the writes");
        assertTrue(keepsCache("/ckpt.pt"), "same sealed version again");
        assertTrue(keepsCache("/ckpt.pt"));

        save(fs, "/ckpt.pt", random(300_000, 2));
        assertFalse(keepsCache("/ckpt.pt"), "overwritten: a new version");
        assertTrue(keepsCache("/ckpt.pt"));

        long writer = fs.open("/ckpt.pt", O_WRONLY);
        long reader = fs.open("/ckpt.pt", O_RDONLY);
        assertFalse(fs.keepCache(reader), "a reader while a writer is open reads the draft");
        fs.release(reader);
        fs.release(writer);
        assertFalse(keepsCache("/ckpt.pt"), "a writer was open since (it may have changed pages without sealing)");
        assertTrue(keepsCache("/ckpt.pt"));

        fs.truncate("/ckpt.pt", 10);
        assertFalse(keepsCache("/ckpt.pt"), "truncated");

        save(fs, "/other.pt", random(1000, 3));
        assertFalse(keepsCache("/other.pt"));
        fs.rename("/other.pt", "/ckpt.pt", 0);
        assertTrue(keepsCache("/ckpt.pt"), "renamed: same inode, same version, same pages");
        fs.unlink("/ckpt.pt");
        save(fs, "/ckpt.pt", random(1000, 4));
        assertFalse(keepsCache("/ckpt.pt"), "a new file, maybe with a reused inode number");

        String history = "/.excp/history/" + fs.readdir("/.excp/history").get(0);
        assertFalse(keepsCache(history));
        assertTrue(keepsCache(history), "history versions never change");
        long write = fs.create("/empty", 0644, O_WRONLY | O_CREAT);
        fs.release(write);
        assertFalse(keepsCache("/empty"), "no version to vouch for");
        assertFalse(keepsCache("/empty"));
    }
}
