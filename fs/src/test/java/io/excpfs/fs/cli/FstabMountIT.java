package io.excpfs.fs.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The system integration a user relies on: after {@code excpfs install}, {@code mount -t fuse.excpfs} and an
 * {@code /etc/fstab}-style line mount a store. Installs into / (as CI does), so it runs only as root with
 * {@code CI=true} or {@code EXCPFS_SYSTEM_TESTS=1}, and after {@code mvn package} (failsafe), since it runs the
 * installed launcher.
 */
@Tag("slow")
class FstabMountIT {
    private static final Path CHECKOUT = Path.of(System.getProperty("user.dir")).getParent();

    @TempDir Path tmp;
    Path store;
    Path mountPoint;

    @BeforeEach
    void install() throws Exception {
        assumeTrue("true".equals(System.getenv("CI")) || "1".equals(System.getenv("EXCPFS_SYSTEM_TESTS")),
                "installs into /: set CI=true or EXCPFS_SYSTEM_TESTS=1");
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root");
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "no /dev/fuse");
        StringWriter out = new StringWriter(), err = new StringWriter();
        assertEquals(0, Main.execute(new PrintWriter(out, true), new PrintWriter(err, true),
                "install", "--home", CHECKOUT.toString()), err.toString());
        store = tmp.resolve("store");
        mountPoint = Files.createDirectory(tmp.resolve("mnt ckpt"));
    }

    @AfterEach
    void unmount() throws Exception {
        if (mountPoint != null && isMounted()) run("umount", mountPoint.toString());
        if (mountPoint != null) assertFalse(isMounted(), "test left a mount behind at " + mountPoint);
    }

    /** This test's line of /proc/self/mounts (other mounts may come and go meanwhile), or "" when not mounted. */
    private String mountLine() throws Exception {
        return Files.readString(Path.of("/proc/self/mounts")).lines()
                .filter(l -> l.split(" ")[1].replace("\\040", " ").equals(mountPoint.toString())).findFirst().orElse("");
    }

    private boolean isMounted() throws Exception { return !mountLine().isEmpty(); }

    private static String run(String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("LC_ALL", "C.UTF-8");
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "timed out: " + String.join(" ", cmd));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + output);
        return output;
    }

    @Test
    void mountTypeFuseExcpfs() throws Exception {
        run("mount", "-t", "fuse.excpfs", store.toString(), mountPoint.toString(), "-o", "hot=1,keep_last=5,_netdev");
        assertTrue(isMounted());
        Files.writeString(mountPoint.resolve("hello.txt"), "written through mount -t fuse.excpfs");
        assertEquals("written through mount -t fuse.excpfs", Files.readString(mountPoint.resolve("hello.txt")));
        String line = mountLine();
        assertTrue(line.contains(store.toString()), "mount source should name the store: " + line);
        run("umount", mountPoint.toString());
        assertFalse(isMounted());
        assertTrue(Files.isRegularFile(store.resolve("excpfs.db")));
    }

    @Test
    void fstabLine() throws Exception {
        Path fstab = tmp.resolve("fstab");
        Files.writeString(fstab, store.toString().replace(" ", "\\040") + " " + mountPoint.toString().replace(" ", "\\040")
                + " fuse.excpfs hot=1,keep_last=5,_netdev 0 0\n");
        run("mount", "-T", fstab.toString(), mountPoint.toString());
        assertTrue(isMounted());
        Files.write(mountPoint.resolve("data.bin"), new byte[] {1, 2, 3});
        run("umount", mountPoint.toString());
        run("mount", "-T", fstab.toString(), mountPoint.toString());
        assertEquals(List.of((byte) 1, (byte) 2, (byte) 3), toList(Files.readAllBytes(mountPoint.resolve("data.bin"))));
    }

    private static List<Byte> toList(byte[] b) {
        List<Byte> l = new java.util.ArrayList<>();
        for (byte x : b) l.add(x);
        return l;
    }
}
