package io.excpfs.fs.store;

import io.excpfs.fs.ops.Errno;
import io.excpfs.fs.ops.FsException;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Checks a store: the metadata database ({@code PRAGMA integrity_check}, which also compares every row with the
 * copies its indexes hold, see {@link Metadata#versionRowMismatch}), every object against its checksum, every chain (base present,
 * COLD, older, depth consistent), and with {@code deep} every version reconstructed to its recorded size. Reports
 * one line per problem.
 *
 * <p>The store may change underneath (encoders of this process, or a mount while {@code verify} runs read-only in
 * another): each version's row is read fresh before its object is checked, and a missing object is only a problem
 * when the row still names it afterwards (a demotion or retention in between replaced or removed it).
 */
final class Verifier {
    private static final int ATTEMPTS = 3;

    private final Store store;

    Verifier(Store store) { this.store = store; }

    List<String> run(boolean deep, java.util.function.Consumer<VersionInfo> checked) throws IOException {
        List<String> problems = new ArrayList<>(store.metadata().integrityProblems());
        List<VersionInfo> versions;
        try {
            versions = store.versions();
        } catch (FsException e) {
            throw new IOException(e.getMessage(), e);
        }
        for (VersionInfo listed : versions) {
            String who = "version " + listed.id() + " (" + listed.path() + ")";
            try {
                VersionInfo v = checkObject(listed.id());
                if (v != null) checkChain(v, who, problems);
            } catch (IOException | FsException e) {
                problems.add(who + ": " + e.getMessage());
            }
            checked.accept(listed);
        }
        if (deep) {
            for (VersionInfo v : versions) {
                if (v.state() != VersionState.COLD) continue;
                String who = "version " + v.id() + " (" + v.path() + ")";
                try (VersionView view = store.openVersion(v.id())) {
                    view.awaitComplete();
                    if (view.size() != v.rawBytes()) problems.add(who + ": reconstructs to " + view.size() + " bytes, expected " + v.rawBytes());
                } catch (FsException e) {
                    if (e.errno() != Errno.ENOENT || stillThere(v.id())) problems.add(who + ": cannot reconstruct: " + e.getMessage());
                } catch (IOException | RuntimeException e) {
                    problems.add(who + ": cannot reconstruct: " + e.getMessage());
                }
                checked.accept(v);
            }
        }
        return problems;
    }

    /** Checks the object of a version as its row names it now; the row checked, or null when the version is gone. */
    private VersionInfo checkObject(long id) throws IOException, FsException {
        Metadata db = store.metadata();
        for (int attempt = 1; ; attempt++) {
            Row row = db.read(() -> {
                VersionInfo v = db.version(id);
                return v == null ? null : new Row(v, db.objectOf(id), db.objectCrc(id));
            });
            if (row == null) return null;
            store.checkRow(id);
            try {
                if (row.info().state() == VersionState.HOT) {
                    try (HotSource s = store.openHot(row.object())) {
                        if (s.size() != row.info().rawBytes()) {
                            throw new CorruptDataException("HOT object holds " + s.size() + " bytes, metadata says " + row.info().rawBytes());
                        }
                        s.verifyAll();
                    }
                } else {
                    store.readColdObject(row.object(), row.crc());
                }
                return row.info();
            } catch (CorruptDataException e) {
                if (!(e.getCause() instanceof NoSuchFileException) || attempt == ATTEMPTS) throw e;
                Row now = db.read(() -> {
                    VersionInfo v = db.version(id);
                    return v == null ? null : new Row(v, db.objectOf(id), db.objectCrc(id));
                });
                if (now == null) return null;
                if (now.info().state() == row.info().state() && Objects.equals(now.object(), row.object())) throw e;
            }
        }
    }

    private record Row(VersionInfo info, String object, int crc) {}

    private void checkChain(VersionInfo v, String who, List<String> problems) throws FsException {
        if (v.base() != 0) {
            VersionInfo b = store.metadata().read(() -> store.metadata().version(v.base()));
            if (b == null) problems.add(who + ": base version " + v.base() + " is missing");
            else if (b.state() != VersionState.COLD) problems.add(who + ": base version " + v.base() + " is not COLD");
            else if (b.id() >= v.id()) problems.add(who + ": base version " + v.base() + " is not older");
            else if (b.depth() + 1 != v.depth()) problems.add(who + ": depth " + v.depth() + " but base depth " + b.depth());
        } else if (v.depth() != 0) {
            problems.add(who + ": depth " + v.depth() + " without a base");
        }
    }

    private boolean stillThere(long id) {
        try {
            return store.metadata().read(() -> store.metadata().version(id)) != null;
        } catch (FsException e) {
            return true;
        }
    }
}
