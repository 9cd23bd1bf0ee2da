package io.excpfs.fs.fuse;

import io.excpfs.fs.ops.FileSystemOps;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Test helpers for real mounts: skip without FUSE, mount, run commands, and unmount or fail. */
public final class MountFixture {
    private MountFixture() {}

    public static void assumeFuse() {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "/dev/fuse missing");
        assumeTrue(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libfuse.so.2"))
                || Files.exists(Path.of("/lib/x86_64-linux-gnu/libfuse.so.2"))
                || Files.exists(Path.of("/usr/lib/libfuse.so.2")), "libfuse2 missing");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/fusermount"))
                || Files.isExecutable(Path.of("/bin/fusermount")), "fusermount missing");
    }

    public static boolean hasTorch() {
        if (!Files.isExecutable(Path.of("/usr/bin/python3"))) return false;
        try {
            return run(Path.of("/"), "/usr/bin/python3", "-c", "import torch").exitCode() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    public static FuseMount mount(FileSystemOps ops, Path mountPoint) throws IOException {
        Files.createDirectories(mountPoint);
        return FuseMount.start(ops, mountPoint, "excpfs-test", List.of(), Duration.ofSeconds(30));
    }

    /** Unmounts and fails the test if the mount point is still a FUSE mount afterwards. */
    public static void unmount(FuseMount mount) {
        if (mount == null) return;
        mount.close();
        assertFalse(FuseMount.isFuseMount(mount.mountPoint()), "mount left behind at " + mount.mountPoint());
        assertFalse(mount.isLive(), "FUSE loop still serving a lazily detached mount at " + mount.mountPoint());
    }

    public record Result(int exitCode, String output) {}

    public static Result run(Path dir, String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            return new Result(p.waitFor(), out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** Runs a command and asserts exit code 0; returns its output. */
    public static String ok(Path dir, String... cmd) throws IOException {
        Result r = run(dir, cmd);
        assertEquals(0, r.exitCode(), String.join(" ", cmd) + " failed: " + r.output());
        return r.output();
    }

    /**
     * Kernel stacks of process {@code pid}'s FUSE threads (names starting with {@code fuse-}), from
     * /proc/PID/task/N/stack (root only): what a hung test prints.
     */
    public static String fuseThreadStacks(long pid) {
        StringBuilder out = new StringBuilder();
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path t : tasks.toList()) {
                try {
                    String comm = Files.readString(t.resolve("comm")).trim();
                    if (!comm.startsWith("fuse-")) continue;
                    out.append(t.getFileName()).append(' ').append(comm).append(":\n");
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
}
