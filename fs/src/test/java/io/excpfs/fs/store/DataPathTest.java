package io.excpfs.fs.store;

import io.excpfs.fs.mount.StoreFileSystem;
import io.excpfs.fs.ops.Errno;
import io.excpfs.fs.ops.FsException;
import io.excpfs.fs.store.blob.BlobChannel;
import io.excpfs.fs.store.blob.Blobs;
import io.excpfs.fs.store.blob.LocalBlobs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static io.excpfs.fs.ops.FileSystemOps.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The mount's handlers write staging files behind the FUSE thread ({@code WriteBehind}): a write returns once its
 * bytes are queued. These tests pin what that must not change: a failed staging write surfaces at fsync/close with
 * its errno and never becomes a version, a retried save works, and reads of a file racing its in-place overwrites
 * (truncate, writes, seal, which now run concurrently with reads of the pinned version) always return one whole
 * version's bytes. Reads of HOT versions go straight into the caller's buffer and are still checked block by block.
 */
class DataPathTest {
    @TempDir Path tmp;
    StoreFileSystem fs;

    /** Local blobs whose staging writes fail with {@code failure} while it is set. */
    static final class FailingStaging implements Blobs {
        final LocalBlobs disk;
        volatile String failure;
        final AtomicInteger failed = new AtomicInteger();

        FailingStaging(Path dir) {
            disk = new LocalBlobs(dir);
        }

        @Override public BlobChannel create(String name) throws IOException { return wrap(name, disk.create(name)); }

        @Override public BlobChannel open(String name, boolean writable) throws IOException { return wrap(name, disk.open(name, writable)); }

        private BlobChannel wrap(String name, BlobChannel ch) {
            if (!name.startsWith(Store.STAGING + "/")) return ch;
            return new BlobChannel() {
                @Override public long size() throws IOException { return ch.size(); }

                @Override public int read(ByteBuffer dst, long pos) throws IOException { return ch.read(dst, pos); }

                @Override public int write(ByteBuffer src, long pos) throws IOException {
                    String f = failure;
                    if (f != null) {
                        failed.incrementAndGet();
                        throw new IOException(f);
                    }
                    return ch.write(src, pos);
                }

                @Override public void truncate(long size) throws IOException { ch.truncate(size); }

                @Override public void force() throws IOException { ch.force(); }

                @Override public void close() throws IOException { ch.close(); }
            };
        }

        @Override public void rename(String from, String to) throws IOException { disk.rename(from, to); }

        @Override public boolean delete(String name) throws IOException { return disk.delete(name); }

        @Override public boolean createDirectory(String dir) throws IOException { return disk.createDirectory(dir); }

        @Override public void syncDirectory(String dir) throws IOException { disk.syncDirectory(dir); }

        @Override public List<String> list(String dir) throws IOException { return disk.list(dir); }
    }

    @AfterEach
    void close() {
        if (fs != null) fs.close();
    }

    private FailingStaging mount() throws IOException {
        Path dir = tmp.resolve("store");
        FailingStaging blobs = new FailingStaging(dir);
        fs = new StoreFileSystem(Store.open(dir, StoreOptions.defaults(), Codec.checkpointCodec(), d -> blobs));
        return blobs;
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private void save(String path, byte[] data) throws FsException {
        long fh = fs.create(path, 0644, O_WRONLY | O_CREAT | O_TRUNC);
        write(fh, data);
        fs.flush(fh);
        fs.release(fh);
    }

    private void write(long fh, byte[] data) throws FsException {
        for (int off = 0; off < data.length; off += 131072) {
            int n = Math.min(131072, data.length - off);
            assertEquals(n, fs.write(fh, off, ByteBuffer.allocateDirect(n).put(data, off, n).flip()));
        }
    }

    private byte[] readAll(String path) throws FsException {
        long fh = fs.open(path, O_RDONLY);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocateDirect(131072);
            for (long off = 0; ; ) {
                buf.clear();
                int n = fs.read(fh, off, buf);
                if (n == 0) return out.toByteArray();
                byte[] b = new byte[n];
                buf.flip().get(b);
                out.writeBytes(b);
                off += n;
            }
        } finally {
            fs.release(fh);
        }
    }

    private static Errno failureOf(Call c) {
        try {
            c.run();
            return null;
        } catch (FsException e) {
            return e.errno();
        }
    }

    interface Call {
        void run() throws FsException;
    }

    @Test
    void aStagingWriteThatFailsSurfacesAtFsyncAndCloseAndIsNeverSealed() throws Exception {
        FailingStaging blobs = mount();
        byte[] v1 = random(700_000, 1), v2 = random(900_000, 2);
        save("/ckpt.pt", v1);
        long version = fs.store().current("/ckpt.pt").id();

        long fh = fs.create("/ckpt.pt", 0644, O_WRONLY | O_CREAT | O_TRUNC);
        write(fh, Arrays.copyOf(v2, 300_000));
        blobs.failure = "No space left on device";
        Errno atWrite = failureOf(() -> write(fh, Arrays.copyOfRange(v2, 300_000, v2.length)));
        assertTrue(atWrite == null || atWrite == Errno.ENOSPC, "a write either queues or reports the earlier failure: " + atWrite);
        assertEquals(Errno.ENOSPC, failureOf(() -> fs.fsync(fh, false)), "fsync reports the failed staging write");
        blobs.failure = null;
        assertEquals(Errno.ENOSPC, failureOf(() -> fs.flush(fh)), "close reports it too: the data never reached the disk");
        failureOf(() -> fs.release(fh));
        assertTrue(blobs.failed.get() > 0, "the injected failure was hit");

        assertEquals(version, fs.store().current("/ckpt.pt").id(), "no version was sealed from the failed writes");
        assertArrayEquals(v1, readAll("/ckpt.pt"), "the file keeps its sealed content");
        assertEquals(v1.length, fs.getattr("/ckpt.pt").size());
        try (var staging = Files.list(tmp.resolve("store").resolve(Store.STAGING))) {
            assertEquals(List.of(), staging.toList(), "the failed staging file is dropped");
        }
        save("/ckpt.pt", v2);
        assertArrayEquals(v2, readAll("/ckpt.pt"), "the next save works");
    }

    @Test
    void aSaveRetriedWhileTheFailedHandleIsStillOpenStartsAfresh() throws Exception {
        FailingStaging blobs = mount();
        byte[] v1 = random(400_000, 3), v2 = random(500_000, 4);
        save("/model.safetensors", v1);
        long stale = fs.open("/model.safetensors", O_WRONLY | O_TRUNC);
        blobs.failure = "Input/output error";
        failureOf(() -> write(stale, v2));
        assertEquals(Errno.EIO, failureOf(() -> fs.fsync(stale, true)));
        blobs.failure = null;
        assertEquals(Errno.EIO, failureOf(() -> write(stale, v2)), "the content is unknown: later writes fail too");

        save("/model.safetensors", v2);
        assertArrayEquals(v2, readAll("/model.safetensors"), "an O_TRUNC open drops the failed content");
        failureOf(() -> fs.flush(stale));
        fs.release(stale);
        assertArrayEquals(v2, readAll("/model.safetensors"));
    }

    /** Byte {@code i} of version {@code k}: every 8-byte word names its version and offset. */
    static byte[] version(int k, int length) {
        ByteBuffer b = ByteBuffer.allocate(length);
        for (int i = 0; i + 8 <= length; i += 8) b.putLong(i, (long) k << 40 | i);
        return b.array();
    }

    @Test
    void readsRacingTruncatingOverwritesAlwaysSeeOneVersion() throws Exception {
        mount();
        int versions = 80;
        int[] sizes = new int[versions];
        Random r = new Random(7);
        for (int k = 0; k < versions; k++) sizes[k] = (100_000 + r.nextInt(200_000)) & ~7;
        save("/ckpt.pt", version(0, sizes[0]));
        AtomicBoolean done = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<Integer>> readers = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                long seed = 100 + t;
                readers.add(pool.submit(() -> {
                    Random rr = new Random(seed);
                    long fh = fs.open("/ckpt.pt", O_RDONLY);
                    int checked = 0;
                    ByteBuffer buf = ByteBuffer.allocateDirect(131072);
                    try {
                        while (!done.get() || checked < 50) {
                            long off = rr.nextInt(300_000) & ~4095;
                            buf.clear().limit(4096 * (1 + rr.nextInt(32)));
                            int n = fs.read(fh, off, buf);
                            if (n == 0) continue;
                            buf.flip();
                            long first = buf.getLong(0);
                            long k = first >>> 40;
                            assertEquals(off, first & 0xff_ffff_ffffL, "offset word at " + off);
                            for (int i = 0; i + 8 <= n; i += 8) {
                                long w = buf.getLong(i);
                                assertEquals(k << 40 | (off + i), w, "read at " + off + " (" + n + " bytes) mixes versions at +" + i);
                            }
                            checked++;
                        }
                    } finally {
                        fs.release(fh);
                    }
                    return checked;
                }));
            }
            for (int k = 1; k < versions; k++) {
                long fh = fs.open("/ckpt.pt", O_WRONLY | O_TRUNC);
                byte[] v = version(k, sizes[k]);
                write(fh, v);
                if (k % 3 == 0) fs.fsync(fh, false);
                fs.flush(fh);
                fs.release(fh);
            }
            done.set(true);
            for (Future<Integer> f : readers) assertTrue(f.get() >= 50);
        } finally {
            done.set(true);
            pool.shutdownNow();
        }
        assertArrayEquals(version(versions - 1, sizes[versions - 1]), readAll("/ckpt.pt"));
    }

    @Test
    void directReadsOfAHotVersionAreExactAtAnyAlignmentAndFailOnAFlippedBit() throws Exception {
        mount();
        byte[] data = random(1_000_003, 9);
        save("/ckpt.pt", data);
        long fh = fs.open("/ckpt.pt", O_RDONLY);
        try {
            Random r = new Random(11);
            for (int i = 0; i < 200; i++) {
                long off = i < 20 ? i * 65536L : r.nextInt(data.length + 1000);
                int len = i % 3 == 0 ? 131072 : 1 + r.nextInt(200_000);
                ByteBuffer buf = ByteBuffer.allocateDirect(len);
                int n = fs.read(fh, off, buf);
                int want = (int) Math.max(0, Math.min(len, data.length - off));
                assertEquals(want, n, "read of " + len + " at " + off);
                assertEquals(n, buf.position());
                byte[] got = new byte[n];
                buf.flip().get(got);
                assertArrayEquals(Arrays.copyOfRange(data, (int) Math.min(off, data.length), (int) Math.min(off, data.length) + n), got,
                        "read of " + len + " at " + off);
            }
        } finally {
            fs.release(fh);
        }
        String raw;
        try (var objects = Files.walk(tmp.resolve("store").resolve(Store.OBJECTS))) {
            raw = objects.map(Path::toString).filter(p -> p.endsWith(".raw")).findFirst().orElseThrow();
        }
        try (var ch = java.nio.channels.FileChannel.open(Path.of(raw), java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            ch.read(one, 300_000);
            one.put(0, (byte) (one.get(0) ^ 0x10)).rewind();
            ch.write(one, 300_000);
        }
        long again = fs.open("/ckpt.pt", O_RDONLY);
        try {
            ByteBuffer buf = ByteBuffer.allocateDirect(131072);
            assertEquals(131072, fs.read(again, 0, buf), "blocks before the flipped one still read");
            assertEquals(Errno.EIO, failureOf(() -> fs.read(again, 262144, ByteBuffer.allocateDirect(131072))), "whole blocks");
            assertEquals(Errno.EIO, failureOf(() -> fs.read(again, 299_008, ByteBuffer.allocateDirect(4096))), "part of a block");
        } finally {
            fs.release(again);
        }
    }

    @Test
    void theWarmUpFileIsUnlistedZerosAndASinkThatChangesNothing() throws Exception {
        mount();
        assertEquals(List.of("flush", "history"), fs.readdir("/.excp"));
        assertEquals(64L << 20, fs.getattr("/.excp/warm-up").size());
        long r = fs.open("/.excp/warm-up", O_RDONLY);
        ByteBuffer buf = ByteBuffer.allocateDirect(131072);
        for (int i = 0; i < 131072; i++) buf.put((byte) 1);
        buf.clear();
        assertEquals(131072, fs.read(r, 65536, buf));
        buf.flip();
        while (buf.hasRemaining()) assertEquals(0, buf.get());
        assertEquals(100, fs.read(r, (64L << 20) - 100, ByteBuffer.allocateDirect(4096)), "a read stops at the end");
        assertEquals(0, fs.read(r, 64L << 20, ByteBuffer.allocateDirect(4096)));
        fs.release(r);
        long w = fs.open("/.excp/warm-up", O_WRONLY);
        assertEquals(131072, fs.write(w, 0, ByteBuffer.allocateDirect(131072)));
        fs.flush(w);
        fs.release(w);
        assertEquals(List.of(), fs.store().versions(), "nothing was stored");
        assertEquals(List.of("flush", "history"), fs.readdir("/.excp"));
    }
}
