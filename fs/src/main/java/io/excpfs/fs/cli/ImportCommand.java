package io.excpfs.fs.cli;

import io.excpfs.fs.ops.FsException;
import io.excpfs.fs.store.Store;
import io.excpfs.fs.store.StoreOptions;
import io.excpfs.fs.store.VersionInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * Imports every file of a run directory into a store, checkpoints in step order (natural sort of the paths), as if
 * a trainer had written them into the mount one after the other; then waits until every demotion is committed.
 */
@Command(name = "import", description = "Import every file of RUN_DIR into STORE (created if missing), checkpoints in step order.")
final class ImportCommand implements Callable<Integer> {
    @Mixin LogSetup logging;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RUN_DIR") Path runDir;
    @Parameters(index = "1", paramLabel = "STORE") Path storeDir;

    @Option(names = "--mode", paramLabel = "excp|lossless") String mode;
    @Option(names = "--hot", paramLabel = "N", description = "newest versions per lineage kept exact") String hot;
    @Option(names = "--alpha", paramLabel = "A") String alpha;
    @Option(names = "--beta", paramLabel = "B") String beta;
    @Option(names = "--bits", paramLabel = "N") String bits;
    @Option(names = "--opt-bits", paramLabel = "N") String optBits;
    @Option(names = "--keep", paramLabel = "published|budget",
            description = "weight residuals kept by ExCP's alpha rule (default) or the scale-free budget rule") String keep;
    @Option(names = "--budget", paramLabel = "B", description = "with --keep budget: keep residuals above B x RMS") String budget;
    @Option(names = "--keep-last", paramLabel = "N") String keepLast;
    @Option(names = "--keep-every", paramLabel = "STEPS") String keepEvery;
    @Option(names = "--seed-every", paramLabel = "N") String seedEvery;
    @Option(names = "--encode-threads", paramLabel = "N") String encodeThreads;
    @Option(names = "-o", paramLabel = "OPTIONS", description = "store options as for mount, e.g. hot=2,alpha=2e-4") String optionString;

    StoreOptions options() {
        Map<String, String> m = new LinkedHashMap<>();
        put(m, "mode", mode);
        put(m, "hot", hot);
        put(m, "alpha", alpha);
        put(m, "beta", beta);
        put(m, "bits", bits);
        put(m, "opt_bits", optBits);
        put(m, "keep", keep);
        put(m, "budget", budget);
        put(m, "keep_last", keepLast);
        put(m, "keep_every", keepEvery);
        put(m, "seed_every", seedEvery);
        put(m, "encode_threads", encodeThreads);
        return StoreOptions.parse(optionString).with(m);
    }

    private static void put(Map<String, String> m, String k, String v) {
        if (v != null) m.put(k, v);
    }

    @Override public Integer call() throws Exception {
        PrintWriter out = spec.root().commandLine().getOut();
        StoreOptions options = options();
        if (!Files.isDirectory(runDir)) throw new Main.Failure(ExitCode.USAGE, "RUN_DIR " + runDir + " is not a directory");
        Path root = runDir.toAbsolutePath().normalize();
        if (storeDir.toAbsolutePath().normalize().startsWith(root)) {
            throw new Main.Failure(ExitCode.USAGE, "STORE " + storeDir + " lies inside RUN_DIR " + runDir);
        }
        List<Path> entries;
        try (Stream<Path> s = Files.walk(root)) {
            entries = new ArrayList<>(s.filter(p -> !p.equals(root)).toList());
        }
        entries.sort((a, b) -> NaturalOrder.INSTANCE.compare(root.relativize(a).toString(), root.relativize(b).toString()));
        long files = entries.stream().filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).count();
        Progress progress = new Progress(spec.root().commandLine().getErr(), "imported", files);
        int failed = 0;
        long rawBytes = 0;
        try (Store store = Main.openWritable(storeDir, options)) {
            for (Path p : entries) {
                String rel = root.relativize(p).toString().replace(java.io.File.separatorChar, '/');
                String path = "/" + rel;
                try {
                    PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    int perms = permissions(a);
                    int uid = owner(p, "unix:uid");
                    int gid = owner(p, "unix:gid");
                    if (a.isDirectory()) {
                        if (!exists(store, path)) store.mkdir(path, perms, uid, gid);
                    } else if (a.isSymbolicLink()) {
                        if (exists(store, path)) store.unlink(path);
                        store.symlink(Files.readSymbolicLink(p).toString(), path, uid, gid);
                    } else if (a.isRegularFile()) {
                        if (!exists(store, path)) store.createFile(path, perms, uid, gid);
                        else if ((store.stat(path).mode() & 07777) != perms) store.chmod(path, perms);
                        Path staging;
                        try (InputStream in = Files.newInputStream(p)) {
                            staging = store.stage(in);
                        }
                        long mtime = a.lastModifiedTime().toInstant().getEpochSecond() * 1_000_000_000L + a.lastModifiedTime().toInstant().getNano();
                        VersionInfo v = store.seal(store.ino(path), staging, mtime);
                        rawBytes += v.rawBytes();
                        progress.item(rel, v.rawBytes());
                    }
                } catch (FsException | IOException e) {
                    failed++;
                    progress.problem("cannot import " + rel + ": " + e.getMessage());
                }
            }
            EncodeBacklog.flush(store, progress);
            long stored = 0, raw = 0;
            for (VersionInfo v : store.versions()) {
                raw += v.rawBytes();
                stored += v.storedBytes();
            }
            out.printf(java.util.Locale.ROOT, "imported %d files (%s) into %s: %d versions, %s stored (%.2fx)%n", files - failed,
                    Main.human(rawBytes), storeDir, store.versions().size(), Main.human(stored), stored == 0 ? 0.0 : (double) raw / stored);
        }
        return failed == 0 ? ExitCode.OK : ExitCode.PROBLEMS;
    }

    static boolean exists(Store store, String path) {
        try {
            store.stat(path);
            return true;
        } catch (FsException e) {
            return false;
        }
    }

    private static int owner(Path p, String attribute) {
        try {
            return (Integer) Files.getAttribute(p, attribute, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return 0;
        }
    }

    static int permissions(PosixFileAttributes a) {
        int m = 0;
        for (var p : a.permissions()) {
            m |= switch (p) {
                case OWNER_READ -> 0400; case OWNER_WRITE -> 0200; case OWNER_EXECUTE -> 0100;
                case GROUP_READ -> 040; case GROUP_WRITE -> 020; case GROUP_EXECUTE -> 010;
                case OTHERS_READ -> 04; case OTHERS_WRITE -> 02; case OTHERS_EXECUTE -> 01;
            };
        }
        return m;
    }
}
