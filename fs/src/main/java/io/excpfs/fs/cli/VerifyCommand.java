package io.excpfs.fs.cli;

import io.excpfs.fs.store.Store;
import io.excpfs.fs.store.VersionInfo;
import io.excpfs.fs.store.VersionState;
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
            List<VersionInfo> all = store.versions();
            versions = all.size();
            long cold = all.stream().filter(v -> v.state() == VersionState.COLD).count();
            Progress progress = new Progress(spec.root().commandLine().getErr(), "checked", deep ? versions + cold : versions);
            int[] seen = {0};
            problems = store.verify(deep, v -> progress.item((++seen[0] > versions ? "reconstructed " : "") + "version " + v.id()
                    + " " + v.path(), -1));
            progress.done();
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
