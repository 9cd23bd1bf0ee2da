package io.excpfs.fs.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Callable;

/**
 * {@code excpfs install [--root DIR]}: puts excpfs where the system tools look for it, so that
 * {@code mount -t fuse.excpfs STORE MOUNTPOINT -o OPTIONS}, {@code /etc/fstab} lines of type {@code fuse.excpfs}
 * and {@code systemctl start excpfs@<escaped mount point>} work:
 * <ul>
 *   <li>{@code /usr/local/bin/excpfs}: a symlink to this checkout's launcher;</li>
 *   <li>{@code /usr/sbin/mount.fuse.excpfs}: the mount(8) helper (systemd/mount.fuse.excpfs);</li>
 *   <li>{@code /etc/systemd/system/excpfs@.service}: the unit template, and the folder {@code /etc/excpfs/} for its
 *       per-instance settings.</li>
 * </ul>
 * {@code --root} installs under another root folder (packaging, tests). Installing twice replaces the files.
 */
@Command(name = "install", mixinStandardHelpOptions = true,
        description = "Install the excpfs command, the mount.fuse.excpfs helper (fstab, mount -t fuse.excpfs) "
                + "and the excpfs@.service systemd template.")
public final class InstallCommand implements Callable<Integer> {
    @Option(names = "--root", paramLabel = "DIR", description = "Install under DIR instead of / (default: /).")
    Path root = Path.of("/");

    @Option(names = "--home", paramLabel = "DIR", hidden = true,
            description = "The excpfs checkout to install (default: the one this command runs from).")
    Path home;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.root().commandLine().getOut();
        Path checkout = home != null ? home.toAbsolutePath().normalize() : checkout();
        Path launcher = checkout.resolve("excpfs");
        Path helper = checkout.resolve("systemd/mount.fuse.excpfs");
        Path unit = checkout.resolve("systemd/excpfs@.service");
        for (Path p : new Path[] {launcher, helper, unit}) {
            if (!Files.isRegularFile(p)) {
                throw new Main.Failure(ExitCode.USAGE, "cannot install: " + p + " is missing (is " + checkout
                        + " an excpfs checkout?)");
            }
        }
        Path bin = under("usr/local/bin/excpfs");
        Files.createDirectories(bin.getParent());
        Files.deleteIfExists(bin);
        Files.createSymbolicLink(bin, launcher);
        out.println("installed " + bin + " -> " + launcher);

        Path mountHelper = under("usr/sbin/mount.fuse.excpfs");
        copy(helper, mountHelper, "rwxr-xr-x");
        out.println("installed " + mountHelper);

        Path unitFile = under("etc/systemd/system/excpfs@.service");
        copy(unit, unitFile, "rw-r--r--");
        Files.createDirectories(under("etc/excpfs"));
        out.println("installed " + unitFile + " (instance settings go in " + under("etc/excpfs") + "/<instance>.conf)");
        return ExitCode.OK;
    }

    private Path under(String relative) { return root.toAbsolutePath().normalize().resolve(relative); }

    private static void copy(Path from, Path to, String perms) throws IOException {
        Files.createDirectories(to.getParent());
        Path tmp = to.resolveSibling("." + to.getFileName() + ".tmp");
        Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(perms));
        Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The checkout this class was loaded from: {@code <checkout>/fs/target/classes}. */
    static Path checkout() {
        try {
            Path classes = Path.of(InstallCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path candidate = classes.getParent().getParent().getParent();
            if (candidate != null && Files.isRegularFile(candidate.resolve("excpfs"))) return candidate;
            throw new Main.Failure(ExitCode.USAGE, "cannot find the excpfs checkout from " + classes + "; pass --home");
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
