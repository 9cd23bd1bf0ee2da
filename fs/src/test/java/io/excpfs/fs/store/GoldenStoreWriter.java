package io.excpfs.fs.store;

import io.excpfs.fs.reliability.Checkpoints;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

import static io.excpfs.fs.store.StoreTest.write;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Writes the golden store of the current metadata format into {@code src/test/resources/golden/store-v<N>} when run
 * with {@code -Dgolden.store.write=true} (skipped otherwise), with {@code expected.tsv}: every version's id, path,
 * status, state, kind, base and the SHA-256 of what a read returns. Refuses to overwrite: a golden store is written
 * once, by the release that introduced its format, and never regenerated.
 */
class GoldenStoreWriter {
    static final String EXPECTED = "expected.tsv";

    @Test void writeGoldenStoreOfTheCurrentFormat() throws Exception {
        assumeTrue(Boolean.getBoolean("golden.store.write"), "-Dgolden.store.write=true writes the golden store");
        Path dir = Path.of("src", "test", "resources", "golden", "store-v" + Metadata.FORMAT_VERSION);
        assertFalse(Files.exists(dir), dir + " exists; golden stores are never regenerated");
        try (Store s = Store.open(dir, StoreOptions.parse("hot=1,keep_last=0"))) {
            write(s, "/a.txt", "first version of a\n".getBytes(StandardCharsets.UTF_8));
            write(s, "/a.txt", "second version of a, longer\n".getBytes(StandardCharsets.UTF_8));
            s.mkdir("/dir", 0755, 0, 0);
            write(s, "/dir/b.bin", new byte[]{0, 1, 2, 'b', 'i', 'n', 'a', 'r', 'y', (byte) 0xff});
            s.symlink("dir/b.bin", "/link", 0, 0);
            s.mkdir("/run", 0755, 0, 0);
            for (int step = 1; step <= 4; step++) {
                write(s, "/run/ckpt.safetensors", Checkpoints.safetensors(11, step, 16, 64));
                s.flush();
            }
            write(s, "/gone.txt", "sealed last, then deleted\n".getBytes(StandardCharsets.UTF_8));
            s.unlink("/gone.txt");
            s.flush();
            if (Metadata.FORMAT_VERSION >= 3) {
                // from format 3 the id of a removed newest version is remembered: the store ends with one
                VersionInfo scratch = write(s, "/scratch.txt", "removed\n".getBytes(StandardCharsets.UTF_8));
                s.unlink("/scratch.txt");
                Metadata db = s.metadata();
                assertTrue(db.write(() -> db.remove(scratch.id())));
                s.forget(scratch.id());
                s.deleteGarbage();
            }
            StringBuilder out = new StringBuilder("# id\tpath\tstatus\tstate\tkind\tbase\tsha256 of a read\n");
            for (VersionInfo v : s.versions()) {
                out.append(v.id()).append('\t').append(v.path()).append('\t').append(v.status()).append('\t').append(v.state())
                        .append('\t').append(v.kind()).append('\t').append(v.base()).append('\t').append(sha256(s, v.id())).append('\n');
            }
            Files.writeString(dir.resolve(EXPECTED), out.toString());
        }
        Files.deleteIfExists(dir.resolve("lock"));
        try (var st = Files.list(dir.resolve(Store.STAGING))) {
            assertEquals(0, st.count());
        }
        Files.delete(dir.resolve(Store.STAGING));
    }

    static String sha256(Store s, long version) throws Exception {
        try (VersionView v = s.openVersion(version)) {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(v.read(0, (int) v.size())));
        }
    }
}
