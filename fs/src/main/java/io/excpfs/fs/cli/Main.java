package io.excpfs.fs.cli;

import io.excpfs.fs.store.Store;
import io.excpfs.fs.store.StoreFormatException;
import io.excpfs.fs.store.StoreOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;

/**
 * The {@code excpfs} command line: one subcommand per task. Exit codes are in {@link ExitCode} and docs/cli.md.
 */
@Command(name = "excpfs", mixinStandardHelpOptions = true, version = "excpfs 0.1.0",
        description = "Checkpoint file system: stores training checkpoints as seeds plus ExCP-compressed residuals.",
        subcommands = {
                ImportCommand.class,
                ExportCommand.class,
                InspectCommand.class,
                StatsCommand.class,
                ReportCommand.class,
                VerifyCommand.class,
                CompactCommand.class,
                MountCommand.class,
                FlushCommand.class,
                InstallCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class Main implements Runnable {
    @Mixin LogSetup logging;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
    }

    public static void main(String[] args) {
        LogSetup.configure(LogSetup.parse("warn"));
        System.exit(execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs one command line with the given output streams; returns the exit code. */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = commandLine();
        cl.setOut(out);
        cl.setErr(err);
        return cl.execute(args);
    }

    /** The command tree, with exit-code mapping; other commands (mount, flush) may be added to it. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            PrintWriter err = cmd.getErr();
            if (ex instanceof Failure f) {
                err.println("excpfs " + cmd.getCommandName() + ": " + f.getMessage());
                return f.code;
            }
            if (ex instanceof IllegalArgumentException) {
                err.println("excpfs " + cmd.getCommandName() + ": " + ex.getMessage());
                return ExitCode.USAGE;
            }
            if (ex instanceof StoreFormatException) {
                err.println("excpfs " + cmd.getCommandName() + ": " + ex.getMessage());
                return ExitCode.STORE;
            }
            if (ex instanceof IOException || ex instanceof java.io.UncheckedIOException) {
                err.println("excpfs " + cmd.getCommandName() + ": I/O error: " + ex.getMessage());
                return ExitCode.IO;
            }
            err.println("excpfs " + cmd.getCommandName() + ": internal error: " + ex);
            ex.printStackTrace(err);
            return ExitCode.IO;
        });
        return cl;
    }

    /** A command failed with a message for the user and an exit code. */
    static final class Failure extends RuntimeException {
        final int code;

        Failure(int code, String message) {
            super(message);
            this.code = code;
        }
    }

    static Store openWritable(Path dir, StoreOptions options) {
        try {
            return Store.open(dir, options);
        } catch (StoreFormatException e) {
            throw new Failure(ExitCode.STORE, e.getMessage());
        } catch (IOException e) {
            throw new Failure(ExitCode.STORE, "cannot open store " + dir + ": " + describe(e));
        }
    }

    static Store openReadOnly(Path dir) {
        try {
            return Store.openReadOnly(dir);
        } catch (StoreFormatException e) {
            throw new Failure(ExitCode.STORE, e.getMessage());
        } catch (IOException e) {
            throw new Failure(ExitCode.STORE, "cannot open store " + dir + ": " + describe(e));
        }
    }

    /** An I/O error in words: java.nio's file exceptions carry only the path as their message. */
    static String describe(Throwable e) {
        if (e instanceof java.nio.file.AccessDeniedException a) return "permission denied: " + a.getFile();
        if (e instanceof java.nio.file.NoSuchFileException n) return "no such file or directory: " + n.getFile();
        if (e instanceof java.nio.file.NotDirectoryException n) return "not a directory: " + n.getFile();
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) return f.getReason() + ": " + f.getFile();
        return String.valueOf(e.getMessage());
    }

    static String human(long bytes) {
        if (bytes < 1024) return bytes + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
