package io.excpfs.fs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.excpfs.fs.store.Store;
import io.excpfs.fs.store.VersionInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** Sizes of a store: raw vs stored bytes, per version. Opens read-only, so it works while the store is mounted. */
@Command(name = "stats", description = "Raw and stored bytes of STORE, per version (read-only; works while mounted).")
final class StatsCommand implements Callable<Integer> {
    @Mixin LogSetup logging;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STORE") Path storeDir;
    @Option(names = "--json", description = "machine-readable output") boolean json;

    @Override public Integer call() throws Exception {
        PrintWriter out = spec.root().commandLine().getOut();
        List<VersionInfo> versions;
        long reclaimed;
        try (Store store = Main.openReadOnly(storeDir)) {
            versions = store.versions();
            reclaimed = store.reclaimedBytes();
        }
        long raw = 0, stored = 0;
        for (VersionInfo v : versions) {
            raw += v.rawBytes();
            stored += v.storedBytes();
        }
        double ratio = stored == 0 ? 0.0 : (double) raw / stored;
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("raw_bytes", raw);
            doc.put("stored_bytes", stored);
            doc.put("ratio", ratio);
            doc.put("reclaimed_bytes", reclaimed);
            List<Map<String, Object>> list = new ArrayList<>();
            for (VersionInfo v : versions) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("id", v.id());
                m.put("path", v.path());
                m.put("kind", v.kind());
                m.put("raw_bytes", v.rawBytes());
                m.put("stored_bytes", v.storedBytes());
                m.put("state", v.state().name().toLowerCase(Locale.ROOT));
                m.put("status", v.status().name().toLowerCase(Locale.ROOT));
                m.put("lineage", v.lineage());
                m.put("base", v.base() == 0 ? null : v.base());
                m.put("depth", v.depth());
                list.add(m);
            }
            doc.put("versions", list);
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc));
            return ExitCode.OK;
        }
        out.printf(Locale.ROOT, "%6s  %-8s  %-7s  %12s  %12s  %8s  %s%n", "id", "kind", "status", "raw", "stored", "ratio", "path");
        for (VersionInfo v : versions) {
            out.printf(Locale.ROOT, "%6d  %-8s  %-7s  %12d  %12d  %7.1fx  %s%n", v.id(), v.kind(),
                    v.status().name().toLowerCase(Locale.ROOT), v.rawBytes(), v.storedBytes(),
                    v.storedBytes() == 0 ? 0.0 : (double) v.rawBytes() / v.storedBytes(), v.path());
        }
        out.printf(Locale.ROOT, "total: %d versions, %s raw, %s stored, %.2fx%n", versions.size(), Main.human(raw), Main.human(stored), ratio);
        if (reclaimed > 0) out.printf(Locale.ROOT, "compaction reclaimed %s so far%n", Main.human(reclaimed));
        return ExitCode.OK;
    }
}
