package io.excpfs.fs.cli;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.Formats;
import io.excpfs.codec.Layout;
import io.excpfs.codec.MomentPair;
import io.excpfs.codec.Pairer;
import io.excpfs.codec.Pairing;
import io.excpfs.codec.SetMember;
import io.excpfs.codec.TensorRegion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Shows how excpfs models checkpoint files: detected format, skeleton and tensor regions with roles, and the
 * parameter ↔ moment pairing of the files taken as one checkpoint set. Reads, never executes, the files.
 */
@Command(name = "inspect", description = "Show format, tensor regions, roles and pairing of checkpoint FILEs (one checkpoint set).")
final class InspectCommand implements Callable<Integer> {
    @Mixin LogSetup logging;
    @Spec CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "FILE") List<Path> files;

    @Override public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        List<SetMember> members = new ArrayList<>();
        List<ByteSource> sources = new ArrayList<>();
        try {
            for (Path f : files) {
                if (!Files.isRegularFile(f)) throw new Main.Failure(ExitCode.USAGE, f + " is not a regular file");
                ByteSource src = ByteSource.open(f);
                sources.add(src);
                members.add(new SetMember(f.getFileName().toString(), src, Formats.parse(src), null));
            }
            for (SetMember m : members) print(out, m);
            Pairing pairing = Pairer.pair(members);
            out.printf("pairing: %s (%s)%n", pairing.certainty(), pairing.method());
            for (String n : pairing.notes()) out.println("  note: " + n);
            for (MomentPair p : pairing.pairs()) out.printf("  %s <- exp_avg %s, exp_avg_sq %s%n", p.param(), p.expAvg(), p.expAvgSq());
        } finally {
            for (ByteSource s : sources) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // read-only file
                }
            }
        }
        return ExitCode.OK;
    }

    private static void print(PrintWriter out, SetMember m) {
        Layout l = m.layout();
        out.printf("%s: %s, %d bytes, skeleton %d bytes, %d regions%s%n", m.name(), l.format(), l.size(), l.skeletonBytes(),
                l.regions().size(), l.note() == null || l.note().isEmpty() ? "" : " (" + l.note() + ")");
        for (TensorRegion r : l.regions()) {
            out.printf("  %-60s %-5s %-16s %12d B  %s%n", r.key(), r.dtype(), Arrays.toString(r.shape()), r.length(), r.role());
        }
        for (Map.Entry<String, String> a : l.aliases().entrySet()) out.printf("  alias %s -> %s%n", a.getKey(), a.getValue());
    }
}
