package io.excpfs.fs.reliability;

import io.excpfs.fs.fuse.MountFixture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static java.nio.file.StandardOpenOption.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Write-only descriptors (answered with {@code FOPEN_DIRECT_IO} on Linux 6.6+) on the real store: the daemon gets
 * writes cut along the writer's buffer, not along pages, and every close of such a descriptor drops the file from
 * the kernel's cache before it returns. What was written must be sealed with the right block sums, survive a
 * remount, and no mix of closes, reads and mapped stores may stall the daemon's two workers.
 */
@Tag("slow")
class DirectWriteStoreTest extends DaemonTest {
    private static final int MIB = 1 << 20;

    @Test
    void unalignedWritesOverwritesAppendsAndUnlinksWhileOpenAreStoredExactly() throws Exception {
        byte[] big = random(40 * MIB + 12_345, 1), second = random(7 * MIB + 1, 2);
        byte[] log1 = random(3 * MIB, 3), log2 = random(2 * MIB + 77, 4);
        byte[] appended = concat(Arrays.copyOf(log1, MIB + 3), Arrays.copyOfRange(log2, 0, 100),
                Arrays.copyOfRange(log1, MIB + 3, log1.length), Arrays.copyOfRange(log2, 100, log2.length));
        try (Daemon d = Daemon.start(store, mnt, this.log, "hot=2")) {
            Path ckpt = mnt.resolve("ckpt.pt");
            writeInOddChunks(ckpt, big, false, 5);
            assertArrayEquals(big, Files.readAllBytes(ckpt));
            writeInOddChunks(ckpt, second, true, 6);
            assertArrayEquals(second, Files.readAllBytes(ckpt), "an overwrite with O_TRUNC");

            Path log = mnt.resolve("train.log");
            try (FileChannel a = FileChannel.open(log, CREATE, WRITE, APPEND); FileChannel b = FileChannel.open(log, WRITE, APPEND)) {
                a.write(ByteBuffer.wrap(log1, 0, MIB + 3));
                b.write(ByteBuffer.wrap(log2, 0, 100));
                a.write(ByteBuffer.wrap(log1, MIB + 3, log1.length - MIB - 3));
                b.write(ByteBuffer.wrap(log2, 100, log2.length - 100));
            }
            assertArrayEquals(appended, Files.readAllBytes(log), "two O_APPEND descriptors");

            Path gone = mnt.resolve("gone.bin");
            try (FileChannel w = FileChannel.open(gone, CREATE_NEW, WRITE)) {
                w.write(ByteBuffer.wrap(big, 0, 3 * MIB + 5), 0);
                Files.delete(gone);
                w.write(ByteBuffer.wrap(big, 3 * MIB + 5, MIB), 3 * MIB + 5);
            }
            Path replaced = mnt.resolve("replaced.pt");
            Files.write(replaced, log2);
            try (FileChannel w = FileChannel.open(replaced, WRITE)) {
                w.write(ByteBuffer.wrap(log1, 0, 12_345), 0);
                Path tmpFile = mnt.resolve("replaced.pt.tmp");
                Files.write(tmpFile, second);
                Files.move(tmpFile, replaced, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                w.write(ByteBuffer.wrap(log1, 12_345, 1000), 12_345);
            }
            assertArrayEquals(second, Files.readAllBytes(replaced), "the file renamed over the open one");
            try (var names = Files.list(mnt)) {
                assertEquals(List.of("ckpt.pt", "replaced.pt", "train.log"), names.map(p -> p.getFileName().toString()).sorted().toList(),
                        "no hidden name left after the last close");
            }
            d.unmount();
        }
        Daemon.Verdict v = Daemon.verify(store, true);
        assertEquals(0, v.exitCode(), v.output());
        try (Daemon d = Daemon.start(store, mnt, this.log, "hot=2")) {
            assertArrayEquals(second, Files.readAllBytes(mnt.resolve("ckpt.pt")), "after a remount");
            assertArrayEquals(appended, Files.readAllBytes(mnt.resolve("train.log")));
            assertArrayEquals(second, Files.readAllBytes(mnt.resolve("replaced.pt")));
            d.unmount();
        }
    }

    @Test
    void aFullDiskReachesTheWritersWriteAndTheFileKeepsOnlyWhatWasWritten() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "mounting a tmpfs needs root");
        Path small = tmp.resolve("small");
        Files.createDirectories(small);
        io.excpfs.fs.fuse.MountFixture.ok(tmp, "mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", small.toString());
        try {
            store = small.resolve("store");
            byte[] content = random(64 * MIB, 7);
            long written = 0;
            IOException full = null;
            try (Daemon d = Daemon.start(store, mnt, log, "hot=2", List.of())) {
                Path x = mnt.resolve("x.pt");
                try (FileChannel w = FileChannel.open(x, CREATE_NEW, WRITE)) {
                    ByteBuffer b = ByteBuffer.wrap(content);
                    try {
                        while (b.hasRemaining()) {
                            int n = w.write(b.slice().limit(Math.min(b.remaining(), 3 * MIB + 5)), b.position());
                            b.position(b.position() + n);
                            written += n;
                            assertEquals(written, w.size(), "fstat while writing");
                            assertEquals(written, Files.size(x), "stat while writing");
                        }
                    } catch (IOException e) {
                        full = e;
                    }
                    assertNotNull(full, "a 64 MiB file on a 48 MiB disk: write(2) fails");
                    assertTrue(full.getMessage().contains("No space left on device"), full.getMessage());
                    assertEquals(written, w.size(), "the size counts exactly the bytes write(2) reported");
                } catch (IOException closeFailed) {
                    assertTrue(closeFailed.getMessage().contains("No space left on device"), "close: " + closeFailed.getMessage());
                }
                // the close could not seal (the disk is full): the file is what the store kept, once the release
                // (sent after close(2) returned) has dropped the unsealed changes; stat and read then agree
                byte[] back = Files.readAllBytes(x);
                for (int i = 0; i < 100 && Files.size(x) != back.length; i++) {
                    Thread.sleep(50);
                    back = Files.readAllBytes(x);
                }
                assertEquals(Files.size(x), back.length, "stat and read agree");
                assertTrue(back.length <= written, "after the close " + back.length + " bytes, of " + written + " written");
                assertArrayEquals(Arrays.copyOf(content, back.length), back, "what the file holds is what was written");
                Files.delete(x);
                Files.write(mnt.resolve("small.bin"), Arrays.copyOf(content, MIB));
                assertArrayEquals(Arrays.copyOf(content, MIB), Files.readAllBytes(mnt.resolve("small.bin")), "the mount still works");
                d.unmount();
            }
            Daemon.Verdict v = Daemon.verify(store, true);
            assertEquals(0, v.exitCode(), v.output());
        } finally {
            io.excpfs.fs.fuse.MountFixture.run(tmp, "umount", "-l", small.toString());
        }
    }

    /** Writes {@code content} through a write-only descriptor in chunks of random sizes, none of them page multiples. */
    private static void writeInOddChunks(Path p, byte[] content, boolean truncate, long seed) throws IOException {
        Random r = new Random(seed);
        try (FileChannel w = truncate ? FileChannel.open(p, CREATE, WRITE, TRUNCATE_EXISTING) : FileChannel.open(p, CREATE, WRITE)) {
            int at = 0;
            while (at < content.length) {
                int n = Math.min(content.length - at, (1 + r.nextInt(3 * MIB)) | 1);
                ByteBuffer b = ByteBuffer.wrap(content, at, n);
                while (b.hasRemaining()) w.write(b, b.position());
                at += n;
            }
        }
    }

    @Test
    void closesReadsAndMappedStoresTogetherNeverStallTwoWorkers() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "no /usr/bin/python3");
        long seed = System.nanoTime();
        try (Daemon d = Daemon.start(store, mnt, log, "hot=2", List.of("-Dexcpfs.fuse.threads=2"))) {
            List<Path> files = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                files.add(mnt.resolve("f" + i));
                Files.write(files.get(i), random(4 * MIB, 10 + i));
            }
            Path mapped = mnt.resolve("mapped");
            Files.write(mapped, random(2 * MIB, 20));
            ExecutorService pool = Executors.newCachedThreadPool();
            List<Future<?>> tasks = new ArrayList<>();
            // stores through a shared writable mapping, in another process: a thread of this JVM stuck in a
            // page fault would stop the whole JVM at its next safepoint, timeouts included
            Process mapper = new ProcessBuilder("/usr/bin/python3", "-c", MAPPER, mapped.toString(), Long.toString(seed))
                    .redirectErrorStream(true).start();
            try {
                for (int t = 0; t < 3; t++) {
                    Random r = new Random(seed + t);
                    tasks.add(pool.submit(() -> {
                        for (int round = 0; round < 25; round++) {
                            Path f = files.get(r.nextInt(files.size()));
                            writeInOddChunks(f, random(MIB + r.nextInt(3 * MIB), r.nextLong()), r.nextBoolean(), r.nextLong());
                        }
                        return null;
                    }));
                }
                for (int t = 0; t < 3; t++) {
                    Random r = new Random(seed + 10 + t);
                    tasks.add(pool.submit(() -> {
                        for (int round = 0; round < 60; round++) {
                            Path f = files.get(r.nextInt(files.size()));
                            try (FileChannel ch = FileChannel.open(f, READ)) {
                                ch.read(ByteBuffer.allocate(2 * MIB), r.nextInt(MIB));
                            }
                        }
                        return null;
                    }));
                }
                tasks.add(pool.submit(() -> {
                    String out = new String(mapper.getInputStream().readAllBytes());
                    assertEquals(0, mapper.waitFor(), "mapped stores: " + out);
                    return null;
                }));
                tasks.add(pool.submit(() -> {
                    Random w = new Random(seed + 30);
                    for (int round = 0; round < 25; round++) {
                        try (FileChannel ch = FileChannel.open(mapped, WRITE)) {
                            ch.write(ByteBuffer.wrap(random(64 * 1024 + 1, w.nextLong())), w.nextInt(MIB));
                        }
                    }
                    return null;
                }));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                for (Future<?> f : tasks) {
                    try {
                        f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    } catch (TimeoutException e) {
                        String stacks = MountFixture.fuseThreadStacks(d.pid());
                        abort(mnt);
                        d.close();
                        fail("seed " + seed + ": closes, reads and mapped stores hung for 120 s with -Dexcpfs.fuse.threads=2;"
                                + " the daemon's FUSE threads were in:\n" + stacks);
                    }
                }
            } finally {
                pool.shutdownNow();
                mapper.destroyForcibly();
            }
            byte[] last = random(3 * MIB + 7, seed);
            writeInOddChunks(files.get(0), last, true, seed);
            assertArrayEquals(last, Files.readAllBytes(files.get(0)), "seed " + seed);
            d.unmount();
        }
        Daemon.Verdict v = Daemon.verify(store, true);
        assertEquals(0, v.exitCode(), "seed " + seed + ": " + v.output());
    }

    /** Python: 25 rounds of random stores through a shared writable mapping of argv[1], some followed by msync. */
    private static final String MAPPER = """
            import mmap, os, random, sys
            r = random.Random(int(sys.argv[2]))
            for round in range(25):
                fd = os.open(sys.argv[1], os.O_RDWR)
                m = mmap.mmap(fd, 2 << 20, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
                for i in range(64):
                    m[r.randrange(2 << 20)] = round
                if r.random() < 0.5:
                    m.flush()
                m.close()
                os.close(fd)
            """;

    /**
     * Aborts the FUSE connection of the mount at {@code mountPoint} (/sys/fs/fuse/connections): a daemon whose
     * threads wait for page locks in the kernel cannot even be killed; the abort ends every request.
     */
    private static void abort(Path mountPoint) throws IOException {
        String target = mountPoint.toAbsolutePath().normalize().toString();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            if (f.length > 4 && f[4].equals(target)) {
                String minor = f[2].substring(f[2].indexOf(':') + 1);
                Files.writeString(Path.of("/sys/fs/fuse/connections", minor, "abort"), "1");
            }
        }
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) b.put(p);
        return b.array();
    }
}
