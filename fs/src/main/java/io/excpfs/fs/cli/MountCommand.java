package io.excpfs.fs.cli;

import io.excpfs.cache.DecoderWarmUp;
import io.excpfs.fs.fuse.FuseMount;
import io.excpfs.fs.mount.StoreFileSystem;
import io.excpfs.fs.store.Store;
import io.excpfs.fs.store.StoreOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code excpfs mount STORE MOUNTPOINT [-o OPTIONS] [-f]}: serves a store as a FUSE file system.
 *
 * <p>Without {@code -f} it opens (creating if missing) and recovers the store once to validate it, relaunches
 * itself in the background with {@code -f} (new session, output appended to {@code STORE/excpfs.log}) and returns
 * once the mount answers. With {@code -f} it stays in the foreground and logs to stderr. SIGTERM, SIGINT,
 * {@code fusermount -u} and {@code umount} all unmount cleanly: open changes are sealed, pending demotions are
 * parked in the store and resume at the next mount.
 *
 * <p>Exit codes: 0 mounted (or, with {@code -f}, unmounted cleanly); 1 the mount failed (FUSE refused it, it did
 * not answer in time, or the mount point is already mounted); 2 bad arguments; 3 the store cannot be opened (not a
 * store, newer format, in use by another mount); 4 I/O error.
 */
@Command(name = "mount", mixinStandardHelpOptions = true,
        description = "Mount STORE at MOUNTPOINT (returns once the mount answers; -f stays in the foreground).")
public final class MountCommand implements Callable<Integer> {
    static final String LOG_FILE = "excpfs.log";
    private static final Duration MOUNT_TIMEOUT = Duration.ofSeconds(120);
    private static final long BACKLOG_POLL_MILLIS = 2000;
    private static final System.Logger BACKLOG_LOG = System.getLogger("excpfs.encode");

    @Parameters(index = "0", paramLabel = "STORE", description = "Store directory (created if missing).")
    Path store;

    @Parameters(index = "1", paramLabel = "MOUNTPOINT", description = "Existing empty directory to mount on.")
    Path mountPoint;

    @Option(names = "-o", paramLabel = "OPTIONS", description = "Comma-separated options: mode=excp|lossless, hot=N, "
            + "alpha=, beta=, bits=, opt_bits=, keep=published|budget, budget=, keep_last=N, keep_every=STEPS, seed_every=N, cache=SIZE, "
            + "encode_threads=N, idle=DURATION, and the FUSE options allow_other, default_permissions, ro.")
    List<String> options = new ArrayList<>();

    @Option(names = "-f", description = "Stay in the foreground (log to stderr).")
    boolean foreground;

    /** What {@code -o} asked for: store options and FUSE options. */
    record Parsed(StoreOptions store, List<String> fuse, boolean readOnly) {}

    /** Validates {@code -o}; throws IllegalArgumentException naming the bad option. */
    static Parsed parse(List<String> options) {
        Map<String, String> others = new LinkedHashMap<>();
        StoreOptions so = StoreOptions.parse(String.join(",", options), others);
        List<String> fuse = new ArrayList<>();
        for (Map.Entry<String, String> e : others.entrySet()) {
            if (!FuseMount.PASSTHROUGH_OPTIONS.contains(e.getKey())) {
                throw new IllegalArgumentException("unknown option '" + e.getKey() + "' (store options: "
                        + String.join(", ", new java.util.TreeSet<>(StoreOptions.NAMES)) + "; FUSE options: "
                        + String.join(", ", FuseMount.PASSTHROUGH_OPTIONS) + ")");
            }
            if (!e.getValue().isEmpty()) throw new IllegalArgumentException("option '" + e.getKey() + "' takes no value");
            fuse.add(e.getKey());
        }
        return new Parsed(so, fuse, fuse.contains("ro"));
    }

    @Override
    public Integer call() {
        PrintStream err = System.err;
        Parsed parsed;
        try {
            parsed = parse(options);
        } catch (IllegalArgumentException e) {
            err.println("excpfs mount: " + e.getMessage());
            return ExitCode.USAGE;
        }
        if (!Files.isDirectory(mountPoint)) {
            err.println("excpfs mount: mount point " + mountPoint + " is not a directory");
            return ExitCode.USAGE;
        }
        if (FuseMount.isFuseMount(mountPoint.toAbsolutePath().normalize())) {
            err.println("excpfs mount: " + mountPoint + " is already a FUSE mount");
            return ExitCode.PROBLEMS;
        }
        try {
            return foreground ? runForeground(parsed, err) : daemonize(parsed, err);
        } catch (StoreUnavailable e) {
            err.println("excpfs mount: cannot open store " + store + ": " + Main.describe(e.getCause()));
            return ExitCode.STORE;
        } catch (IOException | RuntimeException e) {
            err.println("excpfs mount: " + e.getMessage());
            return ExitCode.PROBLEMS;
        }
    }

    private static Store open(Path dir, Parsed parsed) {
        try {
            return parsed.readOnly() ? Store.openReadOnly(dir) : Store.open(dir, parsed.store());
        } catch (IOException e) {
            throw new StoreUnavailable(e);
        }
    }

    private static final class StoreUnavailable extends RuntimeException {
        StoreUnavailable(IOException cause) {
            super(cause);
        }
    }

    private int runForeground(Parsed parsed, PrintStream err) throws IOException {
        Store s = open(store, parsed);
        StoreFileSystem fs = new StoreFileSystem(s);
        FuseMount mount;
        try {
            mount = FuseMount.start(fs, mountPoint, s.directory().toString(), parsed.fuse(), MOUNT_TIMEOUT);
        } catch (IOException | RuntimeException e) {
            fs.close();
            throw e;
        }
        DecoderWarmUp.start();
        Shutdown shutdown = new Shutdown(mount, fs);
        Runtime.getRuntime().addShutdownHook(new Thread(shutdown::run, "excpfs-unmount"));
        err.println("excpfs: mounted " + s.directory() + " at " + mount.mountPoint() + " (pid "
                + ProcessHandle.current().pid() + ", options " + s.options().toOptionString() + ")");
        notifySystemd("--ready", "--status=mounted " + s.directory() + " at " + mount.mountPoint());
        String status = "mounted " + s.directory() + " at " + mount.mountPoint();
        if (!s.readOnly()) {
            EncodeBacklog.watch(s, BACKLOG_POLL_MILLIS, n -> {
                BACKLOG_LOG.log(System.Logger.Level.INFO, "encode backlog: " + n + " version" + (n == 1 ? "" : "s") + " waiting");
                notifySystemd("--status=" + status + ", encode backlog " + n);
            });
        }
        try {
            mount.awaitUnmounted();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        shutdown.run();
        return 0;
    }

    /** Unmount then close, exactly once, whoever asks first (signal hook or the end of the FUSE loop). */
    private static final class Shutdown {
        private final FuseMount mount;
        private final StoreFileSystem fs;
        private boolean done;

        Shutdown(FuseMount mount, StoreFileSystem fs) {
            this.mount = mount;
            this.fs = fs;
        }

        synchronized void run() {
            if (done) return;
            done = true;
            mount.close();
            fs.close();
            System.err.println("excpfs: unmounted " + mount.mountPoint() + ", store closed");
        }
    }

    /**
     * Under a {@code Type=notify} systemd unit ({@code NOTIFY_SOCKET} set), tells systemd the mount is ready, with
     * {@code systemd-notify} (the unit sets {@code NotifyAccess=all}). Without the variable nothing happens.
     */
    static void notifySystemd(String... args) {
        if (System.getenv("NOTIFY_SOCKET") == null) return;
        List<String> cmd = new ArrayList<>(List.of("systemd-notify", "--pid=" + ProcessHandle.current().pid()));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (p.waitFor() != 0) System.err.println("excpfs: systemd-notify failed: " + out);
        } catch (IOException e) {
            System.err.println("excpfs: cannot run systemd-notify (NOTIFY_SOCKET is set): " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private int daemonize(Parsed parsed, PrintStream err) throws IOException {
        try (Store s = open(store, parsed)) {
            store = s.directory();
        }
        Path log = store.resolve(LOG_FILE);
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) cmd.add("/usr/bin/setsid");
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-agentlib:jdwp")) cmd.add(a);
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(MountCommand.class.getName());
        cmd.add(store.toString());
        cmd.add(mountPoint.toAbsolutePath().normalize().toString());
        if (!options.isEmpty()) {
            cmd.add("-o");
            cmd.add(String.join(",", options));
        }
        cmd.add("-f");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("LC_ALL", "C.UTF-8");
        Process p = pb.start();
        Path mp = mountPoint.toAbsolutePath().normalize();
        long deadline = System.nanoTime() + MOUNT_TIMEOUT.toNanos();
        while (true) {
            if (FuseMount.isFuseMount(mp) && answers(mp)) {
                err.println("excpfs: mounted " + store + " at " + mp + " (pid " + p.pid() + ", log " + log + ")");
                return 0;
            }
            if (!p.isAlive()) {
                err.println("excpfs mount: the mount process exited with " + p.exitValue() + "; end of " + log + ":");
                err.println(tail(log, 20));
                return 1;
            }
            if (System.nanoTime() > deadline) {
                p.destroy();
                err.println("excpfs mount: " + mp + " did not answer within " + MOUNT_TIMEOUT + "; see " + log);
                return 1;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 1;
            }
        }
    }

    private static boolean answers(Path mp) {
        try {
            return Files.readAttributes(mp, java.nio.file.attribute.BasicFileAttributes.class).isDirectory();
        } catch (IOException e) {
            return false;
        }
    }

    static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    /** Entry point of the background relaunch (independent of how the top-level CLI registers commands). */
    public static void main(String[] args) {
        LogSetup.configure(java.util.logging.Level.INFO);
        System.exit(new CommandLine(new MountCommand()).execute(args));
    }
}
