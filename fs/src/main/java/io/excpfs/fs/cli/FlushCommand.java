package io.excpfs.fs.cli;

import io.excpfs.fs.fuse.FuseMount;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Callable;

/**
 * {@code excpfs flush MOUNTPOINT}: returns once every pending seal, demotion and encode of the mounted store is
 * committed. It writes to the control file {@code MOUNTPOINT/.excp/flush}; the write returns when the flush is done
 * (so {@code echo > MOUNTPOINT/.excp/flush} does the same from a shell).
 *
 * <p>Exit codes: 0 flushed; 2 MOUNTPOINT is not an excpfs mount; 4 the flush failed (I/O error, see the mount's log).
 */
@Command(name = "flush", mixinStandardHelpOptions = true,
        description = "Wait until every pending seal, demotion and encode of a mounted store is committed.")
public final class FlushCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MOUNTPOINT") Path mountPoint;

    @Override
    public Integer call() {
        Path mp = mountPoint.toAbsolutePath().normalize();
        Path control = mp.resolve(".excp/flush");
        if (!FuseMount.isFuseMount(mp) || !Files.exists(control)) {
            System.err.println("excpfs flush: " + mp + " is not an excpfs mount");
            return ExitCode.USAGE;
        }
        try {
            Files.write(control, "flush\n".getBytes(StandardCharsets.UTF_8), StandardOpenOption.WRITE);
            return 0;
        } catch (IOException e) {
            System.err.println("excpfs flush: flushing " + mp + " failed: " + e.getMessage()
                    + " (see the mount's log)");
            return ExitCode.IO;
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new FlushCommand()).execute(args));
    }
}
