package io.excpfs.fs.store;

import io.excpfs.fs.mount.StoreFileSystem;
import io.excpfs.fs.ops.Errno;
import io.excpfs.fs.ops.FsException;
import io.excpfs.fs.store.blob.BlobChannel;
import io.excpfs.fs.store.blob.Blobs;
import io.excpfs.fs.store.blob.LocalBlobs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.excpfs.fs.ops.FileSystemOps.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Reads of HOT versions into a caller's buffer ({@link StoreFileSystem#read(long, long, ByteBuffer)}, what the kernel
 * transport calls with its reply buffer): exact at any offset and length (whole blocks, parts of a block, across the
 * short last block, at and past the end), through a regular handle, a history handle and a handle with unsealed
 * changes, into direct and heap buffers, from concurrent readers; a flipped bit in the object fails every read that
 * covers its block, whole or in part, with EIO naming the object, while the other blocks still read.
 */
class HotReadTest {
    private static final int BLOCK = BlockSums.BLOCK;
    @TempDir Path tmp;
    private StoreFileSystem fs;
    private Path dir;

    @BeforeEach
    void open() throws IOException {
        dir = tmp.resolve("store");
        fs = new StoreFileSystem(Store.open(dir, StoreOptions.defaults()));
    }

    @AfterEach
    void close() {
        if (fs != null) fs.close();
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private void save(String path, byte[] data) throws FsException {
        long w = fs.create(path, 0644, O_WRONLY | O_CREAT | O_TRUNC);
        for (int off = 0; off < data.length; off += 131072) {
            int n = Math.min(131072, data.length - off);
            assertEquals(n, fs.write(w, off, Arrays.copyOfRange(data, off, off + n), n));
        }
        fs.release(w);
    }

    /** Reads {@code len} at {@code off} into a buffer whose position starts at 7, and checks it against the file. */
    private void checkRead(long fh, byte[] data, long off, int len, boolean direct) throws FsException {
        ByteBuffer buf = (direct ? ByteBuffer.allocateDirect(len + 10) : ByteBuffer.allocate(len + 10)).position(7).limit(7 + len);
        int n = fs.read(fh, off, buf);
        int want = (int) Math.max(0, Math.min(len, data.length - off));
        assertEquals(want, n, "count of a read of " + len + " at " + off);
        assertEquals(7 + n, buf.position(), "the position moves past the bytes read");
        assertEquals(7 + len, buf.limit(), "the limit stays");
        byte[] got = new byte[n];
        buf.get(7, got);
        int from = (int) Math.min(off, data.length);
        assertArrayEquals(Arrays.copyOfRange(data, from, from + n), got, "bytes of a read of " + len + " at " + off);
    }

    /** Offsets and lengths where blocks begin and end: aligned, one byte either side, the short last block, EOF. */
    private static List<long[]> edgeCases(int size) {
        int last = size / BLOCK * BLOCK;
        List<long[]> cases = new ArrayList<>();
        for (long[] c : new long[][] {
                {0, 1}, {0, BLOCK}, {0, 1 << 20}, {0, size}, {1, BLOCK}, {BLOCK - 1, 2}, {BLOCK, BLOCK},
                {BLOCK, 3 * BLOCK}, {BLOCK + 1, 3 * BLOCK - 2}, {BLOCK - 1, 3 * BLOCK + 2}, {100, 1 << 20},
                {5 * BLOCK + 17, 100}, {last, size - last}, {last, 1 << 20}, {last - 1, 2}, {last + 1, size - last - 1},
                {size - 1, 1}, {size - 1, 1 << 20}, {size - 2 * BLOCK - 3, 1 << 20}, {size, 10}, {size + 5, 10}}) {
            cases.add(c);
        }
        return cases;
    }

    private void checkAll(long fh, byte[] data, long seed) throws FsException {
        for (long[] c : edgeCases(data.length)) {
            checkRead(fh, data, c[0], (int) c[1], true);
            checkRead(fh, data, c[0], (int) c[1], false);
        }
        Random r = new Random(seed);
        for (int i = 0; i < 300; i++) {
            long off = r.nextInt(data.length + 1000);
            int len = 1 + r.nextInt(i % 2 == 0 ? 300_000 : 3 * BLOCK);
            try {
                checkRead(fh, data, off, len, r.nextBoolean());
            } catch (AssertionError e) {
                throw new AssertionError("seed " + seed + ", read " + i + ": " + e.getMessage(), e);
            }
        }
    }

    @Test
    void readsAreExactAtAnyOffsetAndLengthThroughEveryKindOfHandle() throws Exception {
        byte[] v1 = random(1_000_003, 1), v2 = random(5 * BLOCK + 123, 2);
        save("/ckpt.pt", v1);
        long fh = fs.open("/ckpt.pt", O_RDONLY);
        try {
            checkAll(fh, v1, 11);
        } finally {
            fs.release(fh);
        }

        save("/ckpt.pt", v2);
        String history = "/.excp/history/" + fs.readdir("/.excp/history").get(0);
        long old = fs.open(history, O_RDONLY);
        long now = fs.open("/ckpt.pt", O_RDONLY);
        try {
            checkAll(old, v1, 12);
            checkAll(now, v2, 13);
        } finally {
            fs.release(old);
            fs.release(now);
        }

        long rw = fs.open("/ckpt.pt", O_RDWR);
        try {
            byte[] patch = random(BLOCK + 9, 3);
            assertEquals(patch.length, fs.write(rw, 2 * BLOCK - 4, patch, patch.length));
            byte[] changed = v2.clone();
            System.arraycopy(patch, 0, changed, 2 * BLOCK - 4, patch.length);
            checkAll(rw, changed, 14);
        } finally {
            fs.release(rw);
        }
    }

    @Test
    void concurrentReadersOfOneHandleAndOfSeveralAgreeWithTheFile() throws Exception {
        byte[] data = random(3 * (1 << 20) + 4097, 4);
        save("/model.safetensors", data);
        long shared = fs.open("/model.safetensors", O_RDONLY);
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<?>> readers = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                long seed = 100 + t;
                boolean own = t % 2 == 1;
                readers.add(pool.submit(() -> {
                    long fh = own ? fs.open("/model.safetensors", O_RDONLY) : shared;
                    try {
                        Random r = new Random(seed);
                        for (int i = 0; i < 150; i++) {
                            long off = r.nextBoolean() ? (long) r.nextInt(data.length / BLOCK) * BLOCK : r.nextInt(data.length);
                            try {
                                checkRead(fh, data, off, r.nextBoolean() ? 1 << 20 : 1 + r.nextInt(200_000), r.nextInt(4) != 0);
                            } catch (AssertionError e) {
                                throw new AssertionError("seed " + seed + ", read " + i + ": " + e.getMessage(), e);
                            }
                        }
                    } finally {
                        if (own) fs.release(fh);
                    }
                    return null;
                }));
            }
            for (Future<?> f : readers) f.get();
        } finally {
            pool.shutdownNow();
            fs.release(shared);
        }
    }

    @Test
    void readsRacingOverwritesAndSealsReturnOneVersionWhole() throws Exception {
        byte[][] versions = {random(1_048_581, 6), random(1_048_581, 7)};
        save("/ckpt.pt", versions[0]);
        long reader = fs.open("/ckpt.pt", O_RDONLY);
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<Integer>> readers = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                long seed = 200 + t;
                readers.add(pool.submit(() -> {
                    Random r = new Random(seed);
                    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
                    int reads = 0;
                    while (!stop.get() || reads < 50) {
                        int off = r.nextInt(versions[0].length), len = 1 + r.nextInt(1 << 20);
                        int n = fs.read(reader, off, buf.clear().limit(len));
                        assertEquals(Math.min(len, versions[0].length - off), n, "seed " + seed + ": count at " + off);
                        byte[] got = new byte[n];
                        buf.get(0, got);
                        boolean whole = Arrays.equals(got, Arrays.copyOfRange(versions[0], off, off + n))
                                || Arrays.equals(got, Arrays.copyOfRange(versions[1], off, off + n));
                        assertTrue(whole, "seed " + seed + ": a read of " + len + " at " + off + " mixes versions");
                        reads++;
                    }
                    return reads;
                }));
            }
            for (int round = 1; round <= 30; round++) {
                byte[] next = versions[round % 2];
                long w = fs.open("/ckpt.pt", O_RDWR);
                assertEquals(next.length, fs.write(w, 0, next, next.length));
                fs.release(w);
            }
            stop.set(true);
            for (Future<Integer> f : readers) assertTrue(f.get() >= 50);
        } finally {
            stop.set(true);
            pool.shutdownNow();
            fs.release(reader);
        }
        assertArrayEquals(versions[0], Arrays.copyOf(readAll("/ckpt.pt"), versions[0].length));
    }

    /** Local blobs whose next read of an object file waits at a gate once armed. */
    private static final class SlowBlobs implements Blobs {
        private final LocalBlobs local;
        volatile CountDownLatch reached, go;

        SlowBlobs(Path root) {
            local = new LocalBlobs(root);
        }

        void arm() {
            reached = new CountDownLatch(1);
            go = new CountDownLatch(1);
        }

        private void gate() throws IOException {
            CountDownLatch r = reached;
            if (r == null) return;
            reached = null;
            r.countDown();
            try {
                if (!go.await(60, TimeUnit.SECONDS)) throw new IOException("gate not opened within 60 s");
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
        }

        @Override public BlobChannel open(String name, boolean writable) throws IOException {
            BlobChannel ch = local.open(name, writable);
            if (!name.endsWith(".raw")) return ch;
            return new BlobChannel() {
                @Override public long size() throws IOException { return ch.size(); }

                @Override public int read(ByteBuffer dst, long pos) throws IOException {
                    gate();
                    return ch.read(dst, pos);
                }

                @Override public int write(ByteBuffer src, long pos) throws IOException { return ch.write(src, pos); }

                @Override public void truncate(long size) throws IOException { ch.truncate(size); }

                @Override public void force() throws IOException { ch.force(); }

                @Override public void close() throws IOException { ch.close(); }
            };
        }

        @Override public BlobChannel create(String name) throws IOException { return local.create(name); }

        @Override public void rename(String from, String to) throws IOException { local.rename(from, to); }

        @Override public boolean delete(String name) throws IOException { return local.delete(name); }

        @Override public boolean createDirectory(String dir) throws IOException { return local.createDirectory(dir); }

        @Override public void syncDirectory(String dir) throws IOException { local.syncDirectory(dir); }

        @Override public List<String> list(String dir) throws IOException { return local.list(dir); }
    }

    @Test
    void aReadWaitingForTheDiskHoldsUpNoSealAndKeepsItsVersionOpenUntilItEnds() throws Exception {
        fs.close();
        SlowBlobs[] blobs = new SlowBlobs[1];
        Store store = Store.open(tmp.resolve("slow"), StoreOptions.defaults(), Codec.checkpointCodec(),
                d -> blobs[0] = new SlowBlobs(d));
        fs = new StoreFileSystem(store);
        byte[] v1 = random(3 * BLOCK + 5, 8), v2 = random(3 * BLOCK + 5, 9);
        save("/ckpt.pt", v1);
        long reader = fs.open("/ckpt.pt", O_RDONLY);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            blobs[0].arm();
            CountDownLatch reached = blobs[0].reached;
            Future<byte[]> slow = pool.submit(() -> {
                ByteBuffer b = ByteBuffer.allocateDirect(v1.length);
                assertEquals(v1.length, fs.read(reader, 0, b));
                byte[] got = new byte[v1.length];
                b.get(0, got);
                return got;
            });
            assertTrue(reached.await(60, TimeUnit.SECONDS), "the read reached the object file");
            long first = store.versions().get(0).id();
            assertEquals(Set.of(first), store.pinned());

            long w = fs.open("/ckpt.pt", O_RDWR | O_TRUNC);
            assertEquals(v2.length, fs.write(w, 0, v2, v2.length));
            fs.release(w);
            assertEquals(2, store.versions().size(), "the overwrite was sealed while the read waited");
            assertTrue(store.pinned().contains(first), "the version being read stays pinned");

            blobs[0].go.countDown();
            assertArrayEquals(v1, slow.get(60, TimeUnit.SECONDS), "the read returns the version it began on");
            assertFalse(store.pinned().contains(first), "the old version is unpinned after the read");
        } finally {
            blobs[0].go.countDown();
            pool.shutdownNow();
            fs.release(reader);
        }
        assertArrayEquals(v2, readAll("/ckpt.pt"));
    }

    private byte[] readAll(String path) throws FsException {
        long fh = fs.open(path, O_RDONLY);
        try {
            ByteBuffer b = ByteBuffer.allocate((int) fs.fgetattr(fh).size() + 1);
            while (fs.read(fh, b.position(), b) > 0) {
                // until the end
            }
            return Arrays.copyOf(b.array(), b.position());
        } finally {
            fs.release(fh);
        }
    }

    private Path rawObject() throws IOException {
        try (var objects = Files.walk(dir.resolve(Store.OBJECTS))) {
            return objects.filter(p -> p.toString().endsWith(".raw")).findFirst().orElseThrow();
        }
    }

    private FsException failure(long fh, long off, int len, boolean direct) {
        ByteBuffer buf = direct ? ByteBuffer.allocateDirect(len) : ByteBuffer.allocate(len);
        try {
            int n = fs.read(fh, off, buf);
            fail("a read of " + len + " at " + off + " over a damaged block returned " + n + " bytes instead of EIO");
            return null;
        } catch (FsException e) {
            return e;
        }
    }

    @Test
    void aFlippedBitFailsEveryReadCoveringItsBlockAndNoOther() throws Exception {
        byte[] data = random(20 * BLOCK + 999, 5);
        save("/ckpt.pt", data);
        Path raw = rawObject();
        int bad = 7, lastBlock = 20;
        Damage.flipBit(raw, (long) bad * BLOCK + 300);
        Damage.flipBit(raw, (long) lastBlock * BLOCK + 5);
        long fh = fs.open("/ckpt.pt", O_RDONLY);
        try {
            long[][] covering = {
                    {bad * BLOCK, BLOCK}, {0, 1 << 20}, {bad * BLOCK + 300, 1}, {bad * BLOCK + 4096, 4096},
                    {(bad - 1) * BLOCK + 10, BLOCK}, {bad * BLOCK + BLOCK - 1, 2}, {(long) lastBlock * BLOCK, 999},
                    {data.length - 1, 1}, {data.length - 3 * BLOCK, 1 << 20}};
            for (long[] c : covering) {
                for (boolean direct : new boolean[] {true, false}) {
                    FsException e = failure(fh, c[0], (int) c[1], direct);
                    assertEquals(Errno.EIO, e.errno(), "read of " + c[1] + " at " + c[0]);
                    assertTrue(e.getMessage().contains(raw.getFileName().toString()), "names the object: " + e.getMessage());
                    long first = c[0] / BLOCK <= bad && bad <= (c[0] + c[1] - 1) / BLOCK ? bad : lastBlock;
                    assertTrue(e.getMessage().contains("block " + first + " "), "names block " + first + ": " + e.getMessage());
                }
            }
            byte[] heap = new byte[BLOCK];
            FsException viaArray = assertThrows(FsException.class, () -> fs.read(fh, bad * BLOCK, heap, heap.length));
            assertEquals(Errno.EIO, viaArray.errno());
            for (long[] c : new long[][] {{0, bad * BLOCK}, {(bad + 1) * BLOCK, BLOCK}, {bad * BLOCK - 1, 1},
                    {(bad + 1) * BLOCK, (lastBlock - bad - 1) * BLOCK}, {BLOCK + 3, 4 * BLOCK}}) {
                checkRead(fh, data, c[0], (int) c[1], true);
                checkRead(fh, data, c[0], (int) c[1], false);
            }
        } finally {
            fs.release(fh);
        }
    }
}
