package io.excpfs.fs.store;

import io.excpfs.fs.mount.StoreFileSystem;
import io.excpfs.fs.ops.Errno;
import io.excpfs.fs.ops.FsException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.excpfs.fs.ops.FileSystemOps.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Reads of a sealed HOT version straight into a direct buffer (the kernel transport's reply buffer): exact at any
 * offset and length, concurrent readers of one handle agree with the file, and a flipped bit in the stored object
 * fails the reads that cover its block (whole or in part) with EIO while the other blocks still read.
 */
class DirectReadTest {
    @TempDir Path tmp;
    private StoreFileSystem fs;

    @AfterEach
    void close() {
        if (fs != null) fs.close();
    }

    private static Errno failureOf(long fh, long offset, int len, StoreFileSystem fs) {
        try {
            fs.read(fh, offset, ByteBuffer.allocateDirect(len));
            return null;
        } catch (FsException e) {
            return e.errno();
        }
    }

    private void checkRead(long fh, byte[] data, long off, int len) throws FsException {
        ByteBuffer buf = ByteBuffer.allocateDirect(len + 7).position(7);
        int n = fs.read(fh, off, buf);
        int want = (int) Math.max(0, Math.min(len, data.length - off));
        assertEquals(want, n, "read of " + len + " at " + off);
        assertEquals(7 + n, buf.position(), "the buffer's position moves by what was read");
        byte[] got = new byte[n];
        buf.flip().position(7).get(got);
        int from = (int) Math.min(off, data.length);
        assertArrayEquals(Arrays.copyOfRange(data, from, from + n), got, "read of " + len + " at " + off);
    }

    @Test
    void hotReadsAreExactAtAnyAlignmentConcurrentlyAndFailOnAFlippedBit() throws Exception {
        Path dir = tmp.resolve("store");
        fs = new StoreFileSystem(Store.open(dir, StoreOptions.defaults()));
        byte[] data = new byte[1_000_003];
        new Random(9).nextBytes(data);
        long w = fs.create("/ckpt.pt", 0644, O_WRONLY | O_CREAT | O_TRUNC);
        for (int off = 0; off < data.length; off += 131072) {
            int n = Math.min(131072, data.length - off);
            assertEquals(n, fs.write(w, off, Arrays.copyOfRange(data, off, off + n), n));
        }
        fs.release(w);

        long fh = fs.open("/ckpt.pt", O_RDONLY);
        try {
            Random r = new Random(11);
            for (int i = 0; i < 200; i++) {
                long off = i < 20 ? i * 65536L : r.nextInt(data.length + 1000);
                checkRead(fh, data, off, i % 3 == 0 ? 131072 : 1 + r.nextInt(200_000));
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                Future<?>[] readers = new Future<?>[4];
                for (int t = 0; t < readers.length; t++) {
                    long seed = t;
                    readers[t] = pool.submit(() -> {
                        Random rt = new Random(seed);
                        for (int i = 0; i < 100; i++) checkRead(fh, data, rt.nextInt(data.length), 1 + rt.nextInt(300_000));
                        return null;
                    });
                }
                for (Future<?> f : readers) f.get();
            } finally {
                pool.shutdownNow();
            }
        } finally {
            fs.release(fh);
        }

        Path raw;
        try (var objects = Files.walk(dir.resolve(Store.OBJECTS))) {
            raw = objects.filter(p -> p.toString().endsWith(".raw")).findFirst().orElseThrow();
        }
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            ch.read(one, 300_000);
            one.put(0, (byte) (one.get(0) ^ 0x10)).rewind();
            ch.write(one, 300_000);
        }
        long again = fs.open("/ckpt.pt", O_RDONLY);
        try {
            checkRead(again, data, 0, 131072);
            assertEquals(Errno.EIO, failureOf(again, 262144, 131072, fs), "a read covering the damaged block whole");
            assertEquals(Errno.EIO, failureOf(again, 299_008, 4096, fs), "a read covering part of it");
            checkRead(again, data, 600_000, 131072);
        } finally {
            fs.release(again);
        }
    }
}
