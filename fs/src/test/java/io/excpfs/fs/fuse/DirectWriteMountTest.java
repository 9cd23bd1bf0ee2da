package io.excpfs.fs.fuse;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static java.nio.file.StandardOpenOption.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Write-only descriptors answered with {@code FOPEN_DIRECT_IO} on a real mount of {@link MemoryOps}: what the
 * other descriptors of the file see, and that the close of such a descriptor never stalls the transport. A test
 * that would hang fails by a timeout and aborts the connection (/sys/fs/fuse/connections) so it can unmount.
 */
@Tag("slow")
class DirectWriteMountTest {
    private static final int MIB = 1 << 20;

    @TempDir Path tmp;
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final List<AutoCloseable> open = new ArrayList<>();
    private FuseMount mount;
    private String connection;

    @AfterEach
    void tearDown() {
        for (AutoCloseable c : open) {
            try {
                c.close();
            } catch (Exception ignored) {
                // the connection may have been aborted
            }
        }
        pool.shutdownNow();
        MountFixture.unmount(mount);
    }

    /** Mounts {@code ops} with {@code threads} FUSE workers; skips where write-only opens keep the page cache. */
    private Path mount(MemoryOps ops, int threads) throws IOException {
        MountFixture.assumeFuse();
        String before = System.getProperty(FuseMount.THREADS_PROPERTY);
        System.setProperty(FuseMount.THREADS_PROPERTY, Integer.toString(threads));
        try {
            mount = MountFixture.mount(ops, tmp.resolve("mnt"));
        } finally {
            if (before == null) System.clearProperty(FuseMount.THREADS_PROPERTY);
            else System.setProperty(FuseMount.THREADS_PROPERTY, before);
        }
        assumeTrue(mount.session().directWrites(), "kernel older than FUSE 7.39 (Linux 6.6)");
        connection = connection(mount.mountPoint());
        return mount.mountPoint();
    }

    private <T extends AutoCloseable> T track(T c) {
        open.add(c);
        return c;
    }

    @Test
    void closesOfWriteOnlyDescriptorsDoNotStallEveryWorkerWhileReadersWaitForPages() throws Exception {
        MemoryOps ops = new MemoryOps();
        Path mnt = mount(ops, 2);
        byte[] content = random(4 * MIB, 1);
        Path a = mnt.resolve("a"), b = mnt.resolve("b");
        Files.write(a, content);
        Files.write(b, content);
        FileChannel ra = track(FileChannel.open(a, READ)), rb = track(FileChannel.open(b, READ));
        FileChannel wa = FileChannel.open(a, WRITE), wb = FileChannel.open(b, WRITE);
        wa.write(ByteBuffer.wrap(content, 0, 4096), 0);
        wb.write(ByteBuffer.wrap(content, 0, 4096), 0);

        // both workers serve a FLUSH (a seal takes a while) when two readers fault pages of those files in
        MemoryOps.WriteGate gate = new MemoryOps.WriteGate(new CountDownLatch(2), new CountDownLatch(1));
        ops.flushGate = gate;
        Future<?> closeA = call(() -> { wa.close(); return null; });
        Future<?> closeB = call(() -> { wb.close(); return null; });
        assertTrue(gate.arrived().await(30, TimeUnit.SECONDS), "both FLUSHes reached the daemon");
        Future<byte[]> readA = call(() -> read(ra, 0, MIB));
        Future<byte[]> readB = call(() -> read(rb, 0, MIB));
        awaitWaiting(4);
        ops.flushGate = null;
        gate.open().countDown();

        finishes("the closes and the reads", closeA, closeB, readA, readB);
        assertArrayEquals(slice(content, 0, MIB), readA.get());
        assertArrayEquals(slice(content, 0, MIB), readB.get());
    }

    // ------------------------------------------------------------------------------------------- helpers

    private <T> Future<T> call(Callable<T> task) { return pool.submit(task); }

    /**
     * Waits for all {@code futures}; if they are not done within 30 s the transport is hung: the connection is
     * aborted (so the blocked system calls fail and the mount can go) and the test fails.
     */
    private void finishes(String what, Future<?>... futures) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try {
            for (Future<?> f : futures) f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            String waiting = waiting(), workers = workerStacks();
            abort();
            fail(what + " hung for 30 s (" + waiting + " requests waiting on the connection; connection aborted)."
                    + " The FUSE workers were in:\n" + workers);
        }
    }

    /** Waits (at most 10 s) until {@code n} requests wait for the daemon: the blocked calls have reached the kernel queue. */
    private void awaitWaiting(int n) throws Exception {
        for (int i = 0; i < 200 && Integer.parseInt(waiting()) < n; i++) Thread.sleep(50);
    }

    /** Kernel stacks of this JVM's FUSE worker threads (/proc/self/task/N/stack, root only). */
    private static String workerStacks() {
        StringBuilder out = new StringBuilder();
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                try {
                    if (!Files.readString(t.resolve("comm")).startsWith("fuse-kernel")) continue;
                    out.append(t.getFileName()).append(":\n");
                    Files.readAllLines(t.resolve("stack")).stream().limit(12).forEach(l -> out.append("  ").append(l).append('\n'));
                } catch (IOException e) {
                    out.append("  (").append(e.getMessage()).append(")\n");
                }
            }
        } catch (IOException e) {
            out.append(e.getMessage());
        }
        return out.toString();
    }

    private String waiting() throws IOException {
        return Files.readString(Path.of("/sys/fs/fuse/connections", connection, "waiting")).trim();
    }

    private void abort() throws IOException {
        Files.writeString(Path.of("/sys/fs/fuse/connections", connection, "abort"), "1");
    }

    /** The fusectl connection of the mount at {@code mountPoint}: its device minor, from /proc/self/mountinfo. */
    static String connection(Path mountPoint) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            if (f.length > 4 && f[4].equals(mountPoint.toString())) return f[2].substring(f[2].indexOf(':') + 1);
        }
        throw new IOException(mountPoint + " is not in /proc/self/mountinfo");
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static byte[] slice(byte[] b, int from, int length) {
        byte[] s = new byte[length];
        System.arraycopy(b, from, s, 0, length);
        return s;
    }

    /** Up to {@code length} bytes from {@code at} (fewer at end of file). */
    static byte[] read(FileChannel ch, long at, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining()) {
            int n = ch.read(buf, at + buf.position());
            if (n < 0) break;
        }
        return slice(buf.array(), 0, buf.position());
    }
}
