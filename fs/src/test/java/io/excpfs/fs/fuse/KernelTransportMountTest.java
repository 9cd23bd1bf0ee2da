package io.excpfs.fs.fuse;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static io.excpfs.fs.fuse.MountFixture.ok;
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
