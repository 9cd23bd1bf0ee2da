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
    private static final jnr.posix.POSIX POSIX = jnr.posix.POSIXFactory.getNativePOSIX();

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

    @Test
    void withOneWorkerTheCloseOfAWriteOnlyDescriptorDoesNotWaitForItself() throws Exception {
        MemoryOps ops = new MemoryOps();
        Path a = mount(ops, 1).resolve("a");
        byte[] content = random(4 * MIB, 11);
        Files.write(a, content);
        FileChannel reader = track(FileChannel.open(a, READ));
        FileChannel w = FileChannel.open(a, WRITE);
        MemoryOps.WriteGate gate = new MemoryOps.WriteGate(new CountDownLatch(1), new CountDownLatch(1));
        ops.flushGate = gate;
        Future<?> close = call(() -> { w.close(); return null; });
        assertTrue(gate.arrived().await(30, TimeUnit.SECONDS), "the FLUSH reached the daemon");
        Future<byte[]> read = call(() -> read(reader, 0, MIB));
        awaitWaiting(2);
        ops.flushGate = null;
        gate.open().countDown();
        finishes("the close and the read", close, read);
        assertArrayEquals(slice(content, 0, MIB), read.get());
    }

    @Test
    void anotherDescriptorReadsADirectWriteAsSoonAsWriteReturns() throws Exception {
        MemoryOps ops = new MemoryOps();
        Path x = mount(ops, 8).resolve("x");
        byte[] before = filled(64 * 1024, 'a'), after = filled(64 * 1024, 'b');
        Files.write(x, before);
        FileChannel reader = track(FileChannel.open(x, READ));
        MemoryOps.WriteGate gate = new MemoryOps.WriteGate(new CountDownLatch(1), new CountDownLatch(1));
        CountDownLatch written = new CountDownLatch(1), mayClose = new CountDownLatch(1);
        ops.writeGate = gate;
        Future<?> writer = call(() -> {
            try (FileChannel w = FileChannel.open(x, WRITE)) {
                w.write(ByteBuffer.wrap(after), 0);
                written.countDown();
                assertTrue(mayClose.await(30, TimeUnit.SECONDS));
            }
            return null;
        });
        assertTrue(gate.arrived().await(30, TimeUnit.SECONDS), "the write reached the daemon");
        assertArrayEquals(before, read(reader, 0, before.length), "the daemon has not applied the write yet");
        ops.writeGate = null;
        gate.open().countDown();
        assertTrue(written.await(30, TimeUnit.SECONDS), "write(2) returned");
        try {
            assertArrayEquals(after, read(reader, 0, after.length),
                    "POSIX: a read that starts after write(2) returned sees the written bytes, while the writer is still open");
        } finally {
            mayClose.countDown();
            writer.get(30, TimeUnit.SECONDS);
        }
        assertArrayEquals(after, read(reader, 0, after.length), "after the writer's close");
    }

    @Test
    void appendersOnWriteOnlyAndReadWriteDescriptorsNeverOverwriteEachOther() throws Exception {
        MemoryOps ops = new MemoryOps();
        Path x = mount(ops, 4).resolve("log");
        Files.write(x, new byte[0]);
        int records = 150;
        List<Future<Integer>> appenders = new ArrayList<>();
        char[] letters = {'p', 'q', 'r'};
        for (char letter : letters) {
            boolean readWrite = letter == 'r';
            appenders.add(call(() -> {
                Random r = new Random(letter);
                int total = 0;
                // O_RDWR|O_APPEND goes through the page cache, O_WRONLY|O_APPEND bypasses it (Java refuses READ + APPEND)
                int fd = POSIX.open(x.toString(), (readWrite ? 2 : 1) | 02000, 0644);
                assertTrue(fd >= 0, "open " + x + ": errno " + POSIX.errno());
                try {
                    for (int i = 0; i < records; i++) {
                        byte[] record = record(letter, i, 1 + r.nextInt(20_000));
                        assertEquals(record.length, POSIX.write(fd, record, record.length), "write(2) of one record");
                        total += record.length;
                    }
                } finally {
                    POSIX.close(fd);
                }
                return total;
            }));
        }
        long total = 0;
        for (Future<Integer> f : appenders) total += f.get(120, TimeUnit.SECONDS);
        assertEquals(total, Files.size(x), "the kernel's size");
        byte[] all = Files.readAllBytes(x);
        assertEquals(total, all.length);
        int[] next = new int[128];
        ByteBuffer b = ByteBuffer.wrap(all);
        while (b.hasRemaining()) {
            int at = b.position();
            char letter = (char) b.get();
            int index = b.getInt(), length = b.getInt();
            assertEquals(next[letter]++, index, "record " + letter + " at " + at + " out of order or torn");
            byte[] body = new byte[length - 9];
            b.get(body);
            assertArrayEquals(filled(body.length, letter), body, "record " + letter + index + " at " + at + " overwritten");
        }
        for (char letter : letters) assertEquals(records, next[letter], "records of " + letter);
    }

    @Test
    void aWriteOnlyAppenderFollowsAFileExtendedThroughAnotherDescriptor() throws Exception {
        MemoryOps ops = new MemoryOps();
        Path x = mount(ops, 4).resolve("x");
        Files.write(x, filled(1000, 'a'));
        try (FileChannel appender = FileChannel.open(x, WRITE, APPEND); FileChannel rw = FileChannel.open(x, READ, WRITE)) {
            appender.write(ByteBuffer.wrap(filled(10, 'b')));
            rw.write(ByteBuffer.wrap(filled(5000, 'c')), 1010);
            appender.write(ByteBuffer.wrap(filled(10, 'd')));
            rw.truncate(10_000);
            rw.write(ByteBuffer.wrap(filled(1, 'e')), 19_999);
            appender.write(ByteBuffer.wrap(filled(10, 'f')));
            assertEquals(20_010, appender.size());
            byte[] expected = new byte[20_010];
            java.util.Arrays.fill(expected, 0, 1000, (byte) 'a');
            java.util.Arrays.fill(expected, 1000, 1010, (byte) 'b');
            java.util.Arrays.fill(expected, 1010, 6010, (byte) 'c');
            java.util.Arrays.fill(expected, 6010, 6020, (byte) 'd');
            expected[19_999] = 'e';
            java.util.Arrays.fill(expected, 20_000, 20_010, (byte) 'f');
            assertArrayEquals(expected, read(rw, 0, 30_000), "through the read-write descriptor's page cache");
            assertArrayEquals(expected, Files.readAllBytes(x));
        }
    }

    /** letter, index (int), length (int), then the letter repeated up to {@code length} bytes in all. */
    private static byte[] record(char letter, int index, int body) {
        ByteBuffer b = ByteBuffer.allocate(9 + body);
        b.put((byte) letter).putInt(index).putInt(9 + body);
        while (b.hasRemaining()) b.put((byte) letter);
        return b.array();
    }

    /*
     * The mappings below live in a python process: a thread of this JVM blocked in a page fault that the daemon (in
     * this JVM too) must serve would stop the JVM at its next safepoint, daemon and timeouts included.
     */

    @Test
    void aSharedMappingSeesDirectWritesAsTheyReturn() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "no /usr/bin/python3");
        MemoryOps ops = new MemoryOps();
        Path x = mount(ops, 4).resolve("x");
        Files.write(x, filled(MIB, 'a'));
        python("""
                import mmap, os, sys
                fd = os.open(sys.argv[1], os.O_RDONLY)
                m = mmap.mmap(fd, 1 << 20, mmap.MAP_SHARED, mmap.PROT_READ)
                w = os.open(sys.argv[1], os.O_WRONLY)
                assert sum(m[i] for i in range(0, 1 << 20, 4096)) == ord('a') * 256, "pages faulted in after the writer's open"
                at = 3 * 4096 + 100
                assert os.pwrite(w, b'b' * 10000, at) == 10000
                got = bytes(m[at - 1:at + 10001])
                assert got == b'a' + b'b' * 10000 + b'a', "the mapped pages of a direct write's range before the close: %r" % got[:40]
                os.close(w)
                assert m[at + 5000] == ord('b'), "after the close"
                m.close()
                os.close(fd)
                """, x);
    }

    @Test
    void storesThroughASharedWritableMappingAndDirectWritesLandInTheOrderTheyHappened() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "no /usr/bin/python3");
        MemoryOps ops = new MemoryOps();
        Path x = mount(ops, 4).resolve("x");
        Files.write(x, filled(MIB, 'a'));
        python("""
                import mmap, os, sys
                rw = os.open(sys.argv[1], os.O_RDWR)
                w = os.open(sys.argv[1], os.O_WRONLY)
                m = mmap.mmap(rw, 1 << 20, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
                m[0:40000] = b'M' * 40000
                os.pwrite(w, b'D' * 10000, 20000)
                m[500000:530000] = b'N' * 30000
                assert m[25000] == ord('D'), "the mapping after a direct write over its dirty page"
                os.pwrite(w, b'E' * 4096, 510000)
                m.flush()
                m.close()
                os.close(w)
                os.close(rw)
                """, x);
        byte[] expected = filled(MIB, 'a');
        java.util.Arrays.fill(expected, 0, 40_000, (byte) 'M');
        java.util.Arrays.fill(expected, 20_000, 30_000, (byte) 'D');
        java.util.Arrays.fill(expected, 500_000, 530_000, (byte) 'N');
        java.util.Arrays.fill(expected, 510_000, 514_096, (byte) 'E');
        assertArrayEquals(expected, Files.readAllBytes(x));
    }

    /** Runs {@code script} with {@code file} as argv[1] in /usr/bin/python3; fails (or times out) unless it exits 0. */
    private void python(String script, Path file) throws Exception {
        Process p = new ProcessBuilder("/usr/bin/python3", "-c", script, file.toString()).redirectErrorStream(true).start();
        open.add(0, p::destroyForcibly);
        Future<String> out = call(() -> new String(p.getInputStream().readAllBytes()));
        finishes("python " + script.lines().skip(1).findFirst().orElse(""), out);
        assertEquals(0, p.waitFor(), out.get());
    }

    /**
     * A direct write whose source buffer is a shared mapping of the same file, overlapping the written range (the
     * kernel drops the destination's pages, then faults the source's back in to send them). In another process, so
     * a hang fails by the timeout (a JVM thread stuck in a page fault would stop this JVM at its next safepoint).
     */
    @Test
    void aDirectWriteFromAMappingOfTheSameFile() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "no /usr/bin/python3");
        MemoryOps ops = new MemoryOps();
        Path x = mount(ops, 2).resolve("x");
        byte[] content = random(MIB, 8);
        Files.write(x, content);
        String script = """
                import mmap, os, sys
                fd = os.open(sys.argv[1], os.O_RDONLY)
                m = mmap.mmap(fd, 1 << 20, mmap.MAP_SHARED, mmap.PROT_READ)
                s = sum(m[i] for i in range(0, 1 << 20, 4096))
                w = os.open(sys.argv[1], os.O_WRONLY)
                view = memoryview(m)
                n = os.pwrite(w, view[0:262144], 4096)
                view.release()
                os.close(w)
                assert n == 262144, n
                """;
        python(script, x);
        byte[] expected = content.clone();
        System.arraycopy(content, 0, expected, 4096, 262144);
        assertArrayEquals(expected, Files.readAllBytes(x));
    }

    /** Copies whose writes come from kernel pages, not a user buffer: cp (copy_file_range, then splice), sendfile. */
    @Test
    void copiesBySpliceAndSendfileIntoWriteOnlyDescriptors() throws Exception {
        MemoryOps ops = new MemoryOps();
        Path mnt = mount(ops, 4);
        byte[] content = random(5 * MIB + 333, 9);
        Path src = tmp.resolve("src.bin");
        Files.write(src, content);
        MountFixture.ok(tmp, "cp", src.toString(), mnt.resolve("cp.bin").toString());
        assertArrayEquals(content, Files.readAllBytes(mnt.resolve("cp.bin")), "cp");
        if (Files.isExecutable(Path.of("/usr/bin/python3"))) {
            MountFixture.ok(tmp, "/usr/bin/python3", "-c", "import shutil, sys; shutil.copyfile(sys.argv[1], sys.argv[2])",
                    src.toString(), mnt.resolve("sendfile.bin").toString());
            assertArrayEquals(content, Files.readAllBytes(mnt.resolve("sendfile.bin")), "shutil.copyfile (sendfile)");
        }
        MountFixture.ok(tmp, "sh", "-c", "cat " + src + " > " + mnt.resolve("redirect.bin") + " && cat " + src + " >> " + mnt.resolve("redirect.bin"));
        byte[] twice = new byte[2 * content.length];
        System.arraycopy(content, 0, twice, 0, content.length);
        System.arraycopy(content, 0, twice, content.length, content.length);
        assertArrayEquals(twice, Files.readAllBytes(mnt.resolve("redirect.bin")), "> and >> redirections");
    }

    @Test
    void aTruncationThroughAWriteOnlyDescriptorReachesReadersWithCachedPages() throws Exception {
        MemoryOps ops = new MemoryOps();
        Path x = mount(ops, 4).resolve("x");
        byte[] content = random(MIB, 2);
        Files.write(x, content);
        FileChannel reader = track(FileChannel.open(x, READ));
        try (FileChannel w = FileChannel.open(x, WRITE)) {
            assertArrayEquals(content, read(reader, 0, MIB));
            w.truncate(5000);
            assertEquals(5000, w.size(), "fstat through the write-only descriptor");
            assertEquals(5000, reader.size());
            assertArrayEquals(slice(content, 0, 5000), read(reader, 0, MIB));
            w.write(ByteBuffer.wrap(filled(10, 'z')), 8000);
            assertEquals(8010, w.size());
            byte[] expected = new byte[8010];
            System.arraycopy(content, 0, expected, 0, 5000);
            System.arraycopy(filled(10, 'z'), 0, expected, 8000, 10);
            assertArrayEquals(expected, read(reader, 0, MIB), "the old bytes past 5000 are gone, the gap reads as zeros");
        }
    }

    @Test
    void aTruncatingOpenWhileAReaderIsOpen() throws Exception {
        MemoryOps ops = new MemoryOps();
        Path x = mount(ops, 4).resolve("x");
        byte[] old = random(MIB, 3), fresh = random(300_000, 4);
        Files.write(x, old);
        FileChannel reader = track(FileChannel.open(x, READ));
        assertArrayEquals(old, read(reader, 0, MIB));
        try (FileChannel w = FileChannel.open(x, WRITE, TRUNCATE_EXISTING)) {
            assertEquals(0, reader.size(), "O_TRUNC is seen at once");
            assertEquals(0, read(reader, 0, MIB).length);
            w.write(ByteBuffer.wrap(fresh), 0);
            assertArrayEquals(fresh, read(reader, 0, MIB), "before the writer's close");
        }
        assertArrayEquals(fresh, read(reader, 0, MIB));
    }

    @Test
    void sparseDirectWritesAndTheSizeEveryDescriptorSees() throws Exception {
        MemoryOps ops = new MemoryOps();
        Path x = mount(ops, 4).resolve("x");
        byte[] head = random(10_000, 5);
        try (FileChannel w = FileChannel.open(x, CREATE_NEW, WRITE); FileChannel reader = FileChannel.open(x, READ)) {
            w.write(ByteBuffer.wrap(head), 0);
            assertEquals(10_000, w.size());
            assertEquals(10_000, reader.size());
            assertEquals(10_000, Files.size(x));
            long far = 3L * MIB + 123;
            w.write(ByteBuffer.wrap(filled(10, 'z')), far);
            assertEquals(far + 10, w.size(), "fstat of the writer");
            assertEquals(far + 10, reader.size(), "fstat of another descriptor");
            assertEquals(far + 10, Files.size(x), "stat by name");
            byte[] back = read(reader, 0, (int) far + 100);
            assertEquals(far + 10, back.length);
            assertArrayEquals(head, slice(back, 0, head.length));
            assertArrayEquals(new byte[(int) far - head.length], slice(back, head.length, (int) far - head.length), "the hole");
            assertArrayEquals(filled(10, 'z'), slice(back, (int) far, 10));
        }
    }

    @Test
    void aFullOrFailingDiskReachesTheWritersWriteNotOnlyItsClose() throws Exception {
        MemoryOps ops = new MemoryOps();
        Path x = mount(ops, 4).resolve("x");
        try (FileChannel w = FileChannel.open(x, CREATE_NEW, WRITE)) {
            w.write(ByteBuffer.wrap(filled(4096, 'a')), 0);
            ops.writeError = io.excpfs.fs.ops.Errno.ENOSPC;
            IOException full = assertThrows(IOException.class, () -> w.write(ByteBuffer.wrap(filled(MIB, 'b')), 4096));
            assertTrue(full.getMessage().contains("No space left on device"), full.getMessage());
            ops.writeError = io.excpfs.fs.ops.Errno.EIO;
            IOException failing = assertThrows(IOException.class, () -> w.write(ByteBuffer.wrap(filled(100, 'b')), 4096));
            assertTrue(failing.getMessage().contains("Input/output error"), failing.getMessage());
            ops.writeError = null;
            assertEquals(4096, w.size(), "nothing of a refused write counts");
        }
        assertArrayEquals(filled(4096, 'a'), Files.readAllBytes(x));
    }

    @Test
    void aWriteOfSeveralRequestsThatFailsHalfwayReturnsWhatWasWrittenThenTheError() throws Exception {
        MemoryOps ops = new MemoryOps();
        Path x = mount(ops, 4).resolve("x");
        byte[] content = random(4 * MIB, 10);
        try (FileChannel w = FileChannel.open(x, CREATE_NEW, WRITE)) {
            ops.writeErrorFrom = 2 * MIB;
            ops.writeError = io.excpfs.fs.ops.Errno.ENOSPC;
            int n = w.write(ByteBuffer.wrap(content), 0);
            assertTrue(n >= 2 * MIB && n < 4 * MIB, "write(2) returns the bytes of the requests that succeeded: " + n);
            assertEquals(n, w.size());
            IOException full = assertThrows(IOException.class, () -> w.write(ByteBuffer.wrap(content, n, content.length - n), n));
            assertTrue(full.getMessage().contains("No space left on device"), full.getMessage());
            ops.writeError = null;
            byte[] back = Files.readAllBytes(x);
            assertArrayEquals(slice(content, 0, n), back);
        }
    }

    @Test
    void renamesAndUnlinksWhileADirectWriterIsOpen() throws Exception {
        MemoryOps ops = new MemoryOps();
        Path mnt = mount(ops, 4);
        Path x = mnt.resolve("x"), y = mnt.resolve("y");
        byte[] content = random(3 * MIB, 6);
        try (FileChannel w = FileChannel.open(x, CREATE_NEW, WRITE)) {
            w.write(ByteBuffer.wrap(content, 0, MIB), 0);
            Files.move(x, y);
            w.write(ByteBuffer.wrap(content, MIB, 2 * MIB), MIB);
            FileChannel reader = track(FileChannel.open(y, READ));
            assertArrayEquals(content, read(reader, 0, 3 * MIB));
        }
        assertArrayEquals(content, Files.readAllBytes(y));
        try (FileChannel w = FileChannel.open(y, WRITE); FileChannel reader = FileChannel.open(y, READ)) {
            Files.delete(y);
            w.write(ByteBuffer.wrap(filled(5, 'u')), 0);
            assertArrayEquals(filled(5, 'u'), read(reader, 0, 5), "an unlinked file is written and read through its descriptors");
        }
        assertFalse(Files.exists(y));
        try (var names = Files.list(mnt)) {
            assertEquals(List.of(), names.toList());
        }
    }

    @Test
    void directWritesCanBeTurnedOff() throws Exception {
        MemoryOps ops = new MemoryOps();
        System.setProperty(FuseMount.DIRECT_WRITES_PROPERTY, "false");
        try {
            MountFixture.assumeFuse();
            mount = MountFixture.mount(ops, tmp.resolve("mnt"));
        } finally {
            System.clearProperty(FuseMount.DIRECT_WRITES_PROPERTY);
        }
        assertFalse(mount.session().directWrites());
        Path x = mount.mountPoint().resolve("x");
        try (FileChannel w = FileChannel.open(x, CREATE_NEW, WRITE); FileChannel reader = FileChannel.open(x, READ)) {
            w.write(ByteBuffer.wrap(random(2 * MIB, 7)), 100);
            assertEquals(2 * MIB + 100, reader.size());
        }
        long ino = (long) Files.getAttribute(x, "unix:ino");
        List<String> writes = ops.calls.stream().filter(c -> c.startsWith("write ino " + ino + " ")).toList();
        assertTrue(writes.stream().skip(1).allMatch(c -> Long.parseLong(c.split(" ")[3]) % 4096 == 0),
                "a write-only descriptor writes through the page cache: every request after the first starts on a page " + writes);
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
            String waiting = waiting(), workers = MountFixture.fuseThreadStacks(ProcessHandle.current().pid());
            abort();
            fail(what + " hung for 30 s (" + waiting + " requests waiting on the connection; connection aborted)."
                    + " The FUSE workers were in:\n" + workers);
        }
    }

    /** Waits (at most 10 s) until {@code n} requests wait for the daemon: the blocked calls have reached the kernel queue. */
    private void awaitWaiting(int n) throws Exception {
        for (int i = 0; i < 200 && Integer.parseInt(waiting()) < n; i++) Thread.sleep(50);
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

    static byte[] filled(int n, char c) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) c);
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
