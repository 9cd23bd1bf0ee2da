package io.excpfs.fs.fuse;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.excpfs.fs.fuse.MountFixture.ok;
import static java.nio.file.StandardOpenOption.*;
import static org.junit.jupiter.api.Assertions.*;

/** The /dev/fuse transport on a real mount: what it negotiated with the kernel, and the transport switch. */
@Tag("slow")
class KernelTransportMountTest {
    @TempDir Path tmp;

    @Test
    void theKernelSendsOneMebibyteWrites() throws IOException {
        MountFixture.assumeFuse();
        MemoryOps ops = new MemoryOps();
        FuseMount mount = MountFixture.mount(ops, tmp.resolve("mnt"));
        try {
            assertEquals(FuseMount.KERNEL, mount.transport());
            assertEquals("mount(2)", mount.mounter(), "root mounts directly");
            KernelSession s = mount.session();
            assertEquals(1 << 20, s.negotiated().maxWrite());
            assertEquals(256, s.negotiated().maxPages());
            Path x = mount.mountPoint().resolve("x");
            ok(tmp, "dd", "if=/dev/zero", "of=" + x, "bs=4M", "count=4", "conv=fsync", "status=none");
            assertEquals(16L << 20, Files.size(x));
            assertEquals(1 << 20, s.largestWrite(), "a 4 MiB write(2) reaches the daemon as 1 MiB requests");
            byte[] back = Files.readAllBytes(x);
            assertEquals(16 << 20, back.length);
            assertTrue(Arrays.equals(new byte[16 << 20], back));
            if (Files.isWritable(Path.of("/sys/class/bdi"))) {
                assertTrue(s.largestRead() > 128 * 1024,
                        "with read-ahead raised, read-ahead requests exceed 128 KiB: " + s.largestRead());
            }
        } finally {
            MountFixture.unmount(mount);
        }
        assertEquals(0, ops.openHandles());
    }

    @Test
    void writeOnlyDescriptorsSendTheWritersBytesDirectly() throws Exception {
        MountFixture.assumeFuse();
        MemoryOps ops = new MemoryOps();
        FuseMount mount = MountFixture.mount(ops, tmp.resolve("mnt"));
        try {
            Assumptions.assumeTrue(mount.session().directWrites(), "kernel older than FUSE 7.39 (Linux 6.6)");
            byte[] two = new byte[2 << 20];
            new java.util.Random(5).nextBytes(two);
            Path x = mount.mountPoint().resolve("x"), y = mount.mountPoint().resolve("y");
            try (FileChannel w = FileChannel.open(x, CREATE, WRITE); FileChannel rw = FileChannel.open(y, CREATE, READ, WRITE)) {
                w.write(ByteBuffer.wrap(two), 100);
                rw.write(ByteBuffer.wrap(two), 100);
            }
            // a write-only descriptor's write(2) goes to the daemon from the writer's own pages, cut where the
            // user buffer's pages fall; through the page cache every request after the first starts on a page
            List<long[]> direct = writes(ops, x), cached = writes(ops, y);
            assertEquals(2 << 20, direct.stream().mapToLong(w -> w[1]).sum());
            assertEquals(2 << 20, cached.stream().mapToLong(w -> w[1]).sum());
            assertTrue(direct.stream().skip(1).anyMatch(w -> w[0] % 4096 != 0), "no page cache: " + ops.calls);
            assertTrue(cached.stream().skip(1).allMatch(w -> w[0] % 4096 == 0), "page cache: " + ops.calls);
            byte[] expected = new byte[100 + two.length];
            System.arraycopy(two, 0, expected, 100, two.length);
            assertArrayEquals(expected, Files.readAllBytes(x));
            assertArrayEquals(expected, Files.readAllBytes(y));
        } finally {
            MountFixture.unmount(mount);
        }
    }

    /** (offset, length) of each WRITE the daemon got for {@code file}. */
    private static List<long[]> writes(MemoryOps ops, Path file) throws IOException {
        String prefix = "write ino " + Files.getAttribute(file, "unix:ino") + " ";
        return ops.calls.stream().filter(c -> c.startsWith(prefix))
                .map(c -> Arrays.stream(c.substring(prefix.length()).split(" ")).mapToLong(Long::parseLong).toArray())
                .toList();
    }

    @Test
    void aRangeCachedWhileADirectWriteWasInFlightIsDroppedAtTheWritersClose() throws Exception {
        MountFixture.assumeFuse();
        MemoryOps ops = new MemoryOps();
        FuseMount mount = MountFixture.mount(ops, tmp.resolve("mnt"));
        ExecutorService writer = Executors.newSingleThreadExecutor();
        try {
            Assumptions.assumeTrue(mount.session().directWrites(), "kernel older than FUSE 7.39 (Linux 6.6)");
            Path x = mount.mountPoint().resolve("x");
            byte[] before = new byte[64 * 1024], after = new byte[64 * 1024];
            Arrays.fill(before, (byte) 'a');
            Arrays.fill(after, (byte) 'b');
            Files.write(x, before);
            try (FileChannel reader = FileChannel.open(x, READ)) {
                MemoryOps.WriteGate gate = new MemoryOps.WriteGate(new CountDownLatch(1), new CountDownLatch(1));
                ops.writeGate = gate;
                Future<?> overwrite = writer.submit(() -> {
                    try (FileChannel w = FileChannel.open(x, WRITE)) {
                        w.write(ByteBuffer.wrap(after), 0);
                    }
                    return null;
                });
                assertTrue(gate.arrived().await(30, TimeUnit.SECONDS), "the write reached the daemon");
                assertArrayEquals(before, readAll(reader), "while the write is held the daemon still has the old bytes");
                ops.writeGate = null;
                gate.open().countDown();
                overwrite.get(30, TimeUnit.SECONDS);
                assertArrayEquals(after, readAll(reader),
                        "after the writer closed, a descriptor opened before reads the new bytes, not its cached old ones");
            }
        } finally {
            writer.shutdownNow();
            MountFixture.unmount(mount);
        }
    }

    private static byte[] readAll(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) ch.size());
        while (b.hasRemaining() && ch.read(b, b.position()) > 0) {}
        return b.array();
    }

    @Test
    void forgottenNodesLeaveTheTable() throws Exception {
        MountFixture.assumeFuse();
        Path dropCaches = Path.of("/proc/sys/vm/drop_caches");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(dropCaches), "dropping dentries needs root");
        FuseMount mount = MountFixture.mount(new MemoryOps(), tmp.resolve("mnt"));
        try {
            Path dir = Files.createDirectories(mount.mountPoint().resolve("run"));
            for (int i = 0; i < 50; i++) Files.writeString(dir.resolve("f" + i), "x");
            NodeTable nodes = mount.session().nodes();
            assertTrue(nodes.size() >= 52, "root, run and 50 files looked up: " + nodes.size());
            int left = nodes.size();
            for (int attempt = 0; attempt < 50 && left > 1; attempt++) {
                Files.writeString(dropCaches, "2");
                Thread.sleep(100);
                left = nodes.size();
            }
            assertEquals(1, left, "after the kernel forgot every inode only the root is left");
            assertEquals("x", Files.readString(dir.resolve("f7")), "looked up again under a new node");
        } finally {
            MountFixture.unmount(mount);
        }
    }

    @Test
    void mountsThroughFusermountAsAnyUserWould() throws IOException {
        MountFixture.assumeFuse();
        System.setProperty(FuseMount.MOUNTER_PROPERTY, "fusermount");
        FuseMount mount = null;
        try {
            mount = MountFixture.mount(new MemoryOps(), tmp.resolve("mnt"));
            assertEquals(FuseMount.KERNEL, mount.transport());
            assertEquals("fusermount", mount.mounter());
            Path f = mount.mountPoint().resolve("a");
            Files.writeString(f, "through fusermount");
            assertEquals("through fusermount", Files.readString(f));
            assertTrue(Files.readString(Path.of("/proc/self/mountinfo")).contains(mount.mountPoint() + " "),
                    "listed in mountinfo");
        } finally {
            System.clearProperty(FuseMount.MOUNTER_PROPERTY);
            MountFixture.unmount(mount);
        }
    }

    @Test
    void thePropertySelectsLibfuse() throws IOException {
        MountFixture.assumeFuse();
        String before = System.getProperty(FuseMount.TRANSPORT_PROPERTY);
        System.setProperty(FuseMount.TRANSPORT_PROPERTY, FuseMount.LIBFUSE);
        FuseMount mount = null;
        try {
            mount = MountFixture.mount(new MemoryOps(), tmp.resolve("mnt"));
            assertEquals(FuseMount.LIBFUSE, mount.transport());
            assertNull(mount.session());
            Files.writeString(mount.mountPoint().resolve("a"), "through libfuse");
            assertEquals("through libfuse", Files.readString(mount.mountPoint().resolve("a")));
        } finally {
            if (before == null) System.clearProperty(FuseMount.TRANSPORT_PROPERTY);
            else System.setProperty(FuseMount.TRANSPORT_PROPERTY, before);
            MountFixture.unmount(mount);
        }
    }
}
