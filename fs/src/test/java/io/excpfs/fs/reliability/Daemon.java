package io.excpfs.fs.reliability;

import io.excpfs.fs.cli.Main;
import io.excpfs.fs.cli.MountCommand;
import io.excpfs.fs.fuse.FuseMount;
import io.excpfs.fs.fuse.MountFixture;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code excpfs mount STORE MP -f} as a child process the test owns: started, killed with SIGKILL or unmounted, and
 * always gone (with its mount) after {@link #close}.
 */
final class Daemon implements AutoCloseable {
    final Path store, mnt, log;
    private final Process process;

    private Daemon(Path store, Path mnt, Path log, Process process) {
        this.store = store;
        this.mnt = mnt;
        this.log = log;
        this.process = process;
    }

    /** Starts the daemon and returns once {@code mnt} is its FUSE mount. */
    static Daemon start(Path store, Path mnt, Path log, String options) throws IOException, InterruptedException {
        return start(store, mnt, log, options, List.of());
    }

    /** Like {@link #start(Path, Path, Path, String)}, with {@code jvmOptions} (e.g. {@code -Dexcpfs.fuse.threads=2}). */
    static Daemon start(Path store, Path mnt, Path log, String options, List<String> jvmOptions)
            throws IOException, InterruptedException {
        Files.createDirectories(mnt);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", classPath(), MountCommand.class.getName(), store.toString(), mnt.toString(), "-f"));
        if (!options.isEmpty()) cmd.addAll(List.of("-o", options));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        Daemon d = new Daemon(store, mnt, log, p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!FuseMount.isFuseMount(mnt.toAbsolutePath().normalize())) {
            if (!p.isAlive()) fail("mount daemon exited with " + p.exitValue() + ":\n" + tail(log));
            if (System.nanoTime() > deadline) {
                d.close();
                fail("not mounted after 120 s:\n" + tail(log));
            }
            Thread.sleep(50);
        }
        return d;
    }

    long pid() { return process.pid(); }

    boolean alive() { return process.isAlive(); }

    /**
     * kill -9 and leave the dead mount attached, so that operations still in flight fail with ENOTCONN instead of
     * landing in the mount point's own directory; {@link #close()} detaches it once the writer has stopped.
     */
    void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(60, TimeUnit.SECONDS);
    }

    /** Clean unmount; fails if the daemon does not exit 0 (143 after SIGTERM counts as clean). */
    void unmount() throws IOException, InterruptedException {
        MountFixture.ok(mnt, "fusermount", "-u", mnt.toString());
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "daemon did not exit after unmount:\n" + tail(log));
        int rc = process.exitValue();
        assertTrue(rc == 0 || rc == 143, "daemon exit " + rc + ":\n" + tail(log));
        assertFalse(FuseMount.isFuseMount(mnt.toAbsolutePath().normalize()), "mount left behind at " + mnt);
    }

    /** Whatever happened (a failed assertion while mounted): the daemon is gone and nothing is mounted. */
    @Override public void close() {
        try {
            if (FuseMount.isFuseMount(mnt.toAbsolutePath().normalize())) {
                MountFixture.run(mnt.getParent(), "fusermount", "-u", "-z", mnt.toString());
            }
        } catch (IOException ignored) {
            // assertNothingLeft reports it
        }
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** For {@code @AfterEach}: fails if {@code mnt} is still mounted or a daemon of this test still runs. */
    static void assertNothingLeft(Path mnt) {
        boolean mounted = FuseMount.isFuseMount(mnt.toAbsolutePath().normalize());
        String target = mnt.toAbsolutePath().normalize().toString();
        var running = ProcessHandle.allProcesses().filter(p -> {
            List<String> a = List.of(p.info().arguments().orElse(new String[0]));
            return a.contains(MountCommand.class.getName()) && a.contains(target);
        }).toList();
        if (mounted) {
            try {
                MountFixture.run(mnt.getParent(), "fusermount", "-u", "-z", mnt.toString());
            } catch (IOException ignored) {
                // failing anyway
            }
        }
        running.forEach(ProcessHandle::destroyForcibly);
        assertFalse(mounted, "mount left behind at " + mnt);
        assertTrue(running.isEmpty(), "mount daemon left running: " + running);
    }

    private static String stableClassPath;

    /**
     * The test's class path with the sibling modules' jars copied once: other builds on this machine may replace
     * them in the local repository while a suite relaunches daemons.
     */
    static synchronized String classPath() throws IOException {
        if (stableClassPath != null) return stableClassPath;
        Path lib = Files.createDirectories(Path.of("target", "reliability", "lib").toAbsolutePath());
        List<String> out = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path p = Path.of(e);
            if (e.endsWith(".jar") && p.getFileName().toString().startsWith("excpfs-") && Files.isRegularFile(p)) {
                Path copy = lib.resolve(p.getFileName());
                Files.copy(p, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                out.add(copy.toString());
            } else {
                out.add(e);
            }
        }
        stableClassPath = String.join(java.io.File.pathSeparator, out);
        return stableClassPath;
    }

    /** A fresh daemon log under {@code target/reliability/}, kept after the test for post-mortems. */
    static Path logFile(String name) throws IOException {
        Path log = Files.createDirectories(Path.of("target", "reliability")).resolve(name + ".log").toAbsolutePath();
        Files.deleteIfExists(log);
        return log;
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** {@code excpfs verify [--deep] STORE} in this JVM: exit code and everything it printed. */
    record Verdict(int exitCode, String output) {}

    static Verdict verify(Path store, boolean deep) {
        StringWriter out = new StringWriter();
        String[] args = deep ? new String[] {"verify", "--deep", store.toString()} : new String[] {"verify", store.toString()};
        int rc = Main.execute(new PrintWriter(out, true), new PrintWriter(out, true), args);
        return new Verdict(rc, out.toString());
    }
}
