package io.excpfs.fs.cli;

import io.excpfs.fs.store.Store;
import io.excpfs.fs.store.StoreOptions;
import io.excpfs.fs.store.VersionInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code excpfs compact STORE [-o OPTIONS]}: opens an unmounted store, applies retention with the given store
 * options, finishes pending demotions, and re-seeds the chains whose hidden versions cost more than a seed, then
 * reports the bytes reclaimed. A mount does the same in the background; this is for a store that is not mounted.
 */
@Command(name = "compact", description = "Apply retention and reclaim the space of hidden versions of an unmounted STORE"
        + " (re-seeding chains where that is cheaper); every remaining version reads the same bytes as before.")
final class CompactCommand implements Callable<Integer> {
    @Mixin LogSetup logging;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STORE") Path storeDir;
    @Option(names = "-o", paramLabel = "OPTIONS",
            description = "store options as for mount, e.g. keep_last=2,keep_every=1000 (retention to apply)") String optionString;

    @Override public Integer call() throws Exception {
        PrintWriter out = spec.root().commandLine().getOut();
        StoreOptions options = StoreOptions.parse(optionString);
        try (Store store = Main.openWritable(storeDir, options)) {
            List<VersionInfo> before = store.versions();
            long reclaimedBefore = store.reclaimedBytes();
            store.flush();
            List<VersionInfo> after = store.versions();
            long reclaimed = store.reclaimedBytes() - reclaimedBefore;
            out.printf(Locale.ROOT, "compacted %s: %d -> %d versions, %s -> %s stored; re-seeding reclaimed %s (%s over the store's life)%n",
                    storeDir, before.size(), after.size(), Main.human(stored(before)), Main.human(stored(after)),
                    Main.human(reclaimed), Main.human(store.reclaimedBytes()));
        }
        return ExitCode.OK;
    }

    private static long stored(List<VersionInfo> versions) {
        return versions.stream().mapToLong(VersionInfo::storedBytes).sum();
    }
}
