package io.excpfs.fs.cli;

import io.excpfs.fs.ops.Attr;
import io.excpfs.fs.ops.FsException;
import io.excpfs.fs.store.Store;
import io.excpfs.fs.store.VersionView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** Writes the live tree of a store back as complete files (COLD versions reconstructed). Works while mounted. */
@Command(name = "export", description = "Write the live tree of STORE to DEST as complete files.")
final class ExportCommand implements Callable<Integer> {
    @Mixin LogSetup logging;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STORE") Path storeDir;
    @Parameters(index = "1", paramLabel = "DEST") Path dest;

    private int failed;
    private long files;
    private long bytes;
    private Progress progress;

    @Override public Integer call() throws Exception {
        if (Files.exists(dest, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.isDirectory(dest)) throw new Main.Failure(ExitCode.USAGE, "DEST " + dest + " exists and is not a directory");
            try (Stream<Path> s = Files.list(dest)) {
                if (s.findAny().isPresent()) throw new Main.Failure(ExitCode.USAGE, "DEST " + dest + " is not empty");
            }
        }
        Files.createDirectories(dest);
        PrintWriter err = spec.root().commandLine().getErr();
        try (Store store = Main.openReadOnly(storeDir)) {
            progress = new Progress(err, "exported", countFiles(store, "/"));
            copyDir(store, "/", dest, err);
            progress.done();
        }
        spec.root().commandLine().getOut().printf("exported %d files (%s) to %s%n", files, Main.human(bytes), dest);
        return failed == 0 ? ExitCode.OK : ExitCode.PROBLEMS;
    }

    private void copyDir(Store store, String path, Path target, PrintWriter err) throws FsException, IOException {
        for (String name : store.list(path)) {
            String child = path.equals("/") ? "/" + name : path + "/" + name;
            Path t = target.resolve(name);
            try {
                Attr a = store.stat(child);
                if (a.isDir()) {
                    Files.createDirectory(t);
                    copyDir(store, child, t, err);
                    setAttrs(t, a);
                } else if (a.isSymlink()) {
                    Files.createSymbolicLink(t, Path.of(store.readlink(child)));
                } else {
                    try (OutputStream out = Files.newOutputStream(t); VersionView v = store.openCurrent(child)) {
                        if (v != null) {
                            byte[] buf = new byte[1 << 20];
                            for (long pos = 0; pos < v.size(); ) {
                                int n = v.readAt(pos, buf, 0, buf.length);
                                out.write(buf, 0, n);
                                pos += n;
                            }
                            bytes += v.size();
                        }
                    }
                    files++;
                    setAttrs(t, a);
                    progress.item(child.substring(1), a.size());
                }
            } catch (FsException | IOException e) {
                failed++;
                progress.problem("cannot export " + child + ": " + e.getMessage());
            }
        }
    }

    private static long countFiles(Store store, String path) throws FsException {
        long n = 0;
        for (String name : store.list(path)) {
            String child = path.equals("/") ? "/" + name : path + "/" + name;
            Attr a = store.stat(child);
            if (a.isDir()) n += countFiles(store, child);
            else if (!a.isSymlink()) n++;
        }
        return n;
    }

    private static void setAttrs(Path t, Attr a) throws IOException {
        Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
                PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
                PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
                PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int i = 0; i < order.length; i++) if ((a.mode() & (1 << i)) != 0) perms.add(order[i]);
        Files.setPosixFilePermissions(t, perms);
        Files.setLastModifiedTime(t, FileTime.from(Instant.ofEpochSecond(0, a.mtimeNanos())));
    }
}
