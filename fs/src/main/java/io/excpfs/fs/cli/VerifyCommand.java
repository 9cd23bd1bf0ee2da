package io.excpfs.fs.cli;

import io.excpfs.fs.store.Store;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** Checks every object of a store against its checksum and every chain; {@code --deep} reconstructs every version. */
@Command(name = "verify", description = "Check every object's checksum and every chain of STORE; exit 1 naming each problem.")
final class VerifyCommand implements Callable<Integer> {
    @Mixin LogSetup logging;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STORE") Path storeDir;
    @Option(names = "--deep", description = "also reconstruct every COLD version") boolean deep;

    @Override public Integer call() throws Exception {
        List<String> problems;
        int versions;
        try (Store store = Main.openReadOnly(storeDir)) {
            versions = store.versions().size();
            problems = store.verify(deep);
        }
        for (String p : problems) spec.root().commandLine().getErr().println("problem: " + p);
        if (!problems.isEmpty()) {
            spec.root().commandLine().getErr().println(problems.size() + " problem(s) in " + storeDir);
            return ExitCode.PROBLEMS;
        }
        spec.root().commandLine().getOut().println("ok: " + versions + " versions checked" + (deep ? " and reconstructed" : ""));
        return ExitCode.OK;
    }
}
