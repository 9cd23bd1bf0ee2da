package io.excpfs.fs.reliability;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A descriptor opened read-only before its file changes. POSIX, and the kernel's page cache (one per inode): an
 * in-place overwrite (open with O_TRUNC, as torch.save does) reaches every descriptor of the inode, so the reader
 * sees the new version; a rename-replace makes a new inode and the old descriptor keeps the old file
 * (docs/mount.md). Either way one whole version, never the new version's cached pages followed by the old one's
 * bytes.
 */
@Tag("slow")
class PinnedReaderTest extends DaemonTest {
    private static final int PAGE = 4096;

    private static byte[] readAll(FileChannel reader, int max) throws IOException {
        ByteBuffer all = ByteBuffer.allocate(max);
        long pos = 0;
        int n;
        while ((n = reader.read(all, pos)) > 0) pos += n;
        return Arrays.copyOf(all.array(), all.position());
    }

    private static String describe(byte[] got, byte[] v1, byte[] v2) {
        return Arrays.equals(got, v1) ? "the old version" : Arrays.equals(got, v2) ? "the new version"
                : "a mix: " + got.length + " bytes, first difference from the old version at "
                + Arrays.mismatch(got, v1) + ", from the new at " + Arrays.mismatch(got, v2);
    }

    private static void replaceByRename(Path p, byte[] content) throws IOException {
        Path tmp = p.resolveSibling(p.getFileName() + ".tmp");
        Files.write(tmp, content);
        Files.move(tmp, p, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    void aReaderOpenDuringAnInPlaceOverwriteSeesTheNewVersionWhole() throws Exception {
        byte[] v1 = LoadTest.random(1, 300_000), v2 = LoadTest.random(2, 600_000);
        try (Daemon d = Daemon.start(store, mnt, log, "")) {
            Path p = mnt.resolve("ckpt.pt");
            Files.write(p, v1);
            byte[] got;
            try (FileChannel reader = FileChannel.open(p, StandardOpenOption.READ)) {
                reader.read(ByteBuffer.allocate(PAGE), 0);
                Files.write(p, v2);
                got = readAll(reader, v2.length + 10);
                assertEquals(v2.length, reader.size(), "fstat through the old descriptor");
            }
            String what = describe(got, v1, v2);
            System.out.println("PinnedReaderTest: after an in-place overwrite the reader saw " + what);
            assertArrayEquals(v2, got, "the reader saw " + what);
            d.unmount();
        }
    }

    @Test
    void aReaderOfAFileReplacedByRenameKeepsTheOldFile() throws Exception {
        byte[] v1 = LoadTest.random(1, 300_000), v2 = LoadTest.random(2, 600_000);
        try (Daemon d = Daemon.start(store, mnt, log, "")) {
            Path p = mnt.resolve("ckpt.pt");
            Files.write(p, v1);
            byte[] got;
            try (FileChannel reader = FileChannel.open(p, StandardOpenOption.READ)) {
                reader.read(ByteBuffer.allocate(PAGE), 0);
                replaceByRename(p, v2);
                assertArrayEquals(v2, Files.readAllBytes(p), "the path names the new file");
                got = readAll(reader, v2.length + 10);
            }
            String what = describe(got, v1, v2);
            System.out.println("PinnedReaderTest: after a rename-replace the reader saw " + what);
            assertArrayEquals(v1, got, "the reader saw " + what);
            d.unmount();
        }
    }

    @Test
    void anMmapReaderFollowsAnInPlaceOverwriteAndKeepsAFileReplacedByRename() throws Exception {
        byte[] v1 = LoadTest.random(1, 300_000), v2 = LoadTest.random(2, 600_000), v3 = LoadTest.random(3, 500_000);
        try (Daemon d = Daemon.start(store, mnt, log, "")) {
            Path p = mnt.resolve("model.safetensors");
            Files.write(p, v1);
            MappedByteBuffer map;
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                map = ch.map(FileChannel.MapMode.READ_ONLY, 0, v1.length);
            }
            try {
                assertEquals(v1[PAGE + 1], map.get(PAGE + 1), "fault in a page of the old version");
                Files.write(p, v2);
                byte[] got = new byte[v1.length];
                map.get(0, got);
                assertArrayEquals(Arrays.copyOf(v2, v1.length), got,
                        "a shared mapping shows the in-place overwrite: " + describe(got, v1, Arrays.copyOf(v2, v1.length)));

                replaceByRename(p, v3);
                map.get(0, got);
                assertArrayEquals(Arrays.copyOf(v2, v1.length), got, "the mapping keeps the inode it was made from");
            } finally {
                unmap(map);
            }
            assertArrayEquals(v3, Files.readAllBytes(p));
            d.unmount();
        }
    }

    /**
     * A reader loops over the file while a writer overwrites it in place several times (truncate to 0, then
     * sequential writes, as torch.save does): every page a read returns belongs to one of the versions at that
     * offset (nothing else: no zeros, no pages of a stale pinned version past the new ones), and once the writer is
     * done a read returns the last version whole.
     */
    @Test
    void aReaderInTheMiddleOfReadsWhileTheWriterTruncatesSeesOnlyPagesOfRealVersions() throws Exception {
        List<byte[]> versions = new ArrayList<>();
        for (int i = 0; i < 6; i++) versions.add(LoadTest.random(10 + i, 200_000 + 97_000 * i));
        try (Daemon d = Daemon.start(store, mnt, log, "")) {
            Path p = mnt.resolve("ckpt.pt");
            Files.write(p, versions.get(0));
            AtomicBoolean writing = new AtomicBoolean(true);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong reads = new AtomicLong(), shortReads = new AtomicLong();
            Thread reader = new Thread(() -> {
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                    ByteBuffer buf = ByteBuffer.allocate(128 * 1024);
                    while (writing.get()) {
                        for (long pos = 0; ; pos += buf.position()) {
                            buf.clear();
                            int n = ch.read(buf, pos);
                            if (n <= 0) break;
                            reads.incrementAndGet();
                            if (n < buf.capacity()) shortReads.incrementAndGet();
                            checkPages(buf.array(), n, pos, versions);
                        }
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "reader");
            reader.start();
            try {
                for (int i = 1; i < versions.size(); i++) {
                    try (FileChannel w = FileChannel.open(p, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                        byte[] v = versions.get(i);
                        for (int off = 0; off < v.length; off += 32 * 1024) {
                            w.write(ByteBuffer.wrap(v, off, Math.min(32 * 1024, v.length - off)));
                        }
                    }
                }
            } finally {
                writing.set(false);
                reader.join(60_000);
            }
            System.out.println("PinnedReaderTest: " + reads.get() + " reads during " + (versions.size() - 1)
                    + " overwrites, " + shortReads.get() + " short");
            if (failure.get() != null) throw new AssertionError("reader: " + failure.get(), failure.get());
            assertTrue(reads.get() > 0);
            byte[] last = versions.get(versions.size() - 1);
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                assertArrayEquals(last, readAll(ch, last.length + 10));
            }
            d.unmount();
        }
    }

    /** munmap now: a mapping left to the garbage collector keeps the mount busy. */
    private static void unmap(MappedByteBuffer map) throws ReflectiveOperationException {
        java.lang.reflect.Field f = Class.forName("sun.misc.Unsafe").getDeclaredField("theUnsafe");
        f.setAccessible(true);
        Object unsafe = f.get(null);
        unsafe.getClass().getMethod("invokeCleaner", ByteBuffer.class).invoke(unsafe, map);
    }

    private static void checkPages(byte[] buf, int n, long pos, List<byte[]> versions) {
        for (int off = 0; off < n; off += PAGE) {
            int len = Math.min(PAGE, n - off);
            long at = pos + off;
            boolean known = false;
            for (byte[] v : versions) {
                if (at + len <= v.length && Arrays.equals(buf, off, off + len, v, (int) at, (int) at + len)) {
                    known = true;
                    break;
                }
            }
            if (!known) fail("bytes " + at + ".." + (at + len) + " belong to no version written");
        }
    }
}
