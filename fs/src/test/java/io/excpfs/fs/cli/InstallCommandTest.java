package io.excpfs.fs.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class InstallCommandTest {
    private static final Path CHECKOUT = Path.of(System.getProperty("user.dir")).getParent();

    private static int run(StringWriter out, StringWriter err, String... args) {
        return Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    }

    @Test
    void installsLauncherMountHelperAndUnitUnderRoot(@TempDir Path root) throws Exception {
        StringWriter out = new StringWriter(), err = new StringWriter();
        assertEquals(0, run(out, err, "install", "--root", root.toString(), "--home", CHECKOUT.toString()), err.toString());

        Path bin = root.resolve("usr/local/bin/excpfs");
        assertTrue(Files.isSymbolicLink(bin));
        assertEquals(CHECKOUT.resolve("excpfs"), Files.readSymbolicLink(bin));
        Path helper = root.resolve("usr/sbin/mount.fuse.excpfs");
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(helper)));
        assertEquals(Files.readString(CHECKOUT.resolve("systemd/excpfs@.service")),
                Files.readString(root.resolve("etc/systemd/system/excpfs@.service")));
        assertTrue(Files.isDirectory(root.resolve("etc/excpfs")));

        // a second install replaces everything without complaint
        assertEquals(0, run(out, err, "install", "--root", root.toString(), "--home", CHECKOUT.toString()), err.toString());
    }

    @Test
    void refusesAFolderThatIsNotACheckout(@TempDir Path root, @TempDir Path notACheckout) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        assertEquals(2, run(out, err, "install", "--root", root.toString(), "--home", notACheckout.toString()));
        assertTrue(err.toString().contains("is missing"), err.toString());
        assertTrue(Files.notExists(root.resolve("usr/local/bin/excpfs")));
    }

    @Test
    void mountHelperDropsMountAndSystemdOptions(@TempDir Path tmp) throws Exception {
        Path fake = tmp.resolve("fake-excpfs");
        Files.writeString(fake, "#!/bin/sh\nprintf '%s|' \"$@\"\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
        assertEquals("mount|/srv/store|/mnt/ckpt|-o|hot=1,keep_last=5|",
                helper(fake, "/srv/store", "/mnt/ckpt", "-o", "hot=1,keep_last=5,_netdev,rw,nofail,x-systemd.automount"));
        assertEquals("mount|/srv/store|/mnt/ckpt|", helper(fake, "/srv/store", "/mnt/ckpt", "-o_netdev,defaults"));
        assertEquals("mount|/srv/store|/mnt/ckpt|-o|ro,allow_other|",
                helper(fake, "/srv/store", "/mnt/ckpt", "-n", "-oro,allow_other"));
    }

    private static String helper(Path fake, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("sh", CHECKOUT.resolve("systemd/mount.fuse.excpfs").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("EXCPFS", fake.toString());
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), output);
        return output;
    }

    @Test
    void unitTemplatePassesSystemdAnalyzeVerify(@TempDir Path tmp) throws Exception {
        Path analyze = Path.of("/usr/bin/systemd-analyze");
        assumeTrue(Files.isExecutable(analyze), "systemd-analyze is not installed");
        // verify needs ExecStart's program to exist: point it at this checkout's launcher
        String unit = Files.readString(CHECKOUT.resolve("systemd/excpfs@.service"))
                .replace("/usr/local/bin/excpfs", CHECKOUT.resolve("excpfs").toString());
        Path instance = tmp.resolve("excpfs@mnt-ckpt.service");
        Files.writeString(instance, unit);
        Process p = new ProcessBuilder(analyze.toString(), "verify", instance.toString()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.isBlank(), "systemd-analyze verify complained:\n" + output);
    }
}
