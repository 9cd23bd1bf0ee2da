package io.excpfs.fs.cli;

import io.excpfs.codec.Inspection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Shows how excpfs models checkpoint files ({@link Inspection}): detected format, skeleton and tensor regions with
 * roles, metadata, and the parameter ↔ moment pairing of the files taken as one checkpoint set. Reads, never
 * executes, the files.
 */
@Command(name = "inspect", description = "Show format, tensor regions, roles and pairing of checkpoint FILEs (one checkpoint set).")
final class InspectCommand implements Callable<Integer> {
    @Mixin LogSetup logging;
    @Spec CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "FILE") List<Path> files;

    @Override public Integer call() throws Exception {
        for (Path f : files) {
            if (!Files.isRegularFile(f)) throw new Main.Failure(ExitCode.USAGE, f + " is not a regular file");
        }
        spec.root().commandLine().getOut().print(Inspection.of(files));
        spec.root().commandLine().getOut().flush();
        return ExitCode.OK;
    }
}
