package io.excpfs.fs.store;

import io.excpfs.fs.ops.FsException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a store: every object against its checksum, every chain (base present, COLD, older, depth consistent),
 * and with {@code deep} every version reconstructed to its recorded size. Reports one line per problem.
 */
final class Verifier {
    private final Store store;

    Verifier(Store store) { this.store = store; }

    List<String> run(boolean deep, java.util.function.Consumer<VersionInfo> checked) throws IOException {
        List<String> problems = new ArrayList<>();
        List<VersionInfo> versions;
        try {
            versions = store.versions();
        } catch (FsException e) {
            throw new IOException(e.getMessage(), e);
        }
        Map<Long, VersionInfo> byId = new HashMap<>();
        for (VersionInfo v : versions) byId.put(v.id(), v);
        for (VersionInfo v : versions) {
            String who = "version " + v.id() + " (" + v.path() + ")";
            try {
                String object = store.metadata().read(() -> store.metadata().objectOf(v.id()));
                if (v.state() == VersionState.HOT) {
                    try (HotSource s = store.openHot(object)) {
                        if (s.size() != v.rawBytes()) problems.add(who + ": HOT object holds " + s.size() + " bytes, metadata says " + v.rawBytes());
                        s.verifyAll();
                    }
                } else {
                    int crc = store.metadata().read(() -> store.metadata().objectCrc(v.id()));
                    store.readColdObject(object, crc);
                }
            } catch (IOException | FsException e) {
                problems.add(who + ": " + e.getMessage());
                checked.accept(v);
                continue;
            }
            if (v.base() != 0) {
                VersionInfo b = byId.get(v.base());
                if (b == null) problems.add(who + ": base version " + v.base() + " is missing");
                else if (b.state() != VersionState.COLD) problems.add(who + ": base version " + v.base() + " is not COLD");
                else if (b.id() >= v.id()) problems.add(who + ": base version " + v.base() + " is not older");
                else if (b.depth() + 1 != v.depth()) problems.add(who + ": depth " + v.depth() + " but base depth " + b.depth());
            } else if (v.depth() != 0) {
                problems.add(who + ": depth " + v.depth() + " without a base");
            }
            checked.accept(v);
        }
        if (deep) {
            for (VersionInfo v : versions) {
                if (v.state() != VersionState.COLD) continue;
                String who = "version " + v.id() + " (" + v.path() + ")";
                try (VersionView view = store.openVersion(v.id())) {
                    if (view.size() != v.rawBytes()) problems.add(who + ": reconstructs to " + view.size() + " bytes, expected " + v.rawBytes());
                } catch (IOException | FsException | RuntimeException e) {
                    problems.add(who + ": cannot reconstruct: " + e.getMessage());
                }
                checked.accept(v);
            }
        }
        return problems;
    }
}
