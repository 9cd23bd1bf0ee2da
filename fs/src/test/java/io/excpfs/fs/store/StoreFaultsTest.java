package io.excpfs.fs.store;

import io.excpfs.fs.store.blob.BlobChannel;
import io.excpfs.fs.store.blob.Blobs;
import io.excpfs.fs.store.blob.LocalBlobs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Deterministic cases of what {@link FaultInjectionTest} finds by chance. */
class StoreFaultsTest {
    @TempDir Path tmp;

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static byte[] read(Store s, String path) throws Exception {
        try (VersionView v = s.openCurrent(path)) {
            return v.read(0, (int) v.size());
        }
    }

    /** A machine crash right after a seal returned, losing everything not synced, keeps the sealed file. */
    @Test void aSealedFileSurvivesACrashThatLosesEverythingUnsynced() throws Exception {
        byte[] a = random(150_000, 1);
        FaultyBlobs disk = new FaultyBlobs(1);
        Path first = tmp.resolve("a");
        try (Store s = Store.open(first, StoreOptions.parse("hot=1"), new LossyTestCodec(), d -> disk)) {
            s.createFile("/a.bin", 0644, 0, 0);
            s.seal("/a.bin", s.stage(new ByteArrayInputStream(a)));
            disk.crashLosingEverythingUnsynced();
        }
        Path second = Files.createDirectories(tmp.resolve("b"));
        Files.copy(first.resolve(Metadata.DB_FILE), second.resolve(Metadata.DB_FILE));
        try (Store s = Store.open(second, StoreOptions.parse("hot=1"), new LossyTestCodec(), d -> disk.image())) {
            assertArrayEquals(a, read(s, "/a.bin"), "the new objects/ab/ directory and its objects were synced before the commit");
            assertEquals(List.of(), s.verify(true));
        }
    }

    /** Deleting the replaced HOT object fails after a demotion committed: the new COLD object must stay. */
    @Test void aFailedGarbageDeleteAfterADemotionKeepsTheCommittedObject() throws Exception {
        Path dir = tmp.resolve("s");
        boolean[] failDeletes = {true};
        int[] refused = {0};
        java.util.function.Function<Path, Blobs> blobs = d -> new FailingDeletes(new LocalBlobs(d), failDeletes, refused);
        byte[] v1 = random(100_000, 2), v2 = random(100_000, 3);
        try (Store s = Store.open(dir, StoreOptions.parse("hot=1"), new LossyTestCodec(), blobs)) {
            s.createFile("/ckpt.pt", 0644, 0, 0);
            s.seal("/ckpt.pt", s.stage(new ByteArrayInputStream(v1)));
            s.seal("/ckpt.pt", s.stage(new ByteArrayInputStream(v2)));
            s.flush();
            VersionInfo first = s.history("/ckpt.pt").get(0);
            assertEquals(VersionState.COLD, first.state(), "the first version was demoted");
            assertTrue(refused[0] > 0, "the deletion of the replaced .raw/.sum failed");
            try (VersionView v = s.openVersion(first.id())) {
                assertArrayEquals(LossyTestCodec.lossy(v1), v.read(0, (int) v.size()), "the COLD object of the committed demotion is there");
            }
            assertEquals(List.of(), s.verify(true));
        }
        failDeletes[0] = false;
        try (Store s = Store.open(dir, StoreOptions.parse("hot=1"), new LossyTestCodec(), blobs)) {
            s.flush();
            try (var files = Files.walk(dir.resolve("objects"))) {
                assertEquals(s.metadata().referencedObjectFiles().size(), files.filter(Files::isRegularFile).count(),
                        "the garbage left by the failed delete is removed at the next open");
            }
        }
    }

    /** {@link Blobs} whose deletes of objects fail while {@code fail[0]}. */
    private record FailingDeletes(Blobs inner, boolean[] fail, int[] refused) implements Blobs {
        @Override public BlobChannel create(String name) throws IOException { return inner.create(name); }

        @Override public BlobChannel open(String name, boolean writable) throws IOException { return inner.open(name, writable); }

        @Override public void rename(String from, String to) throws IOException { inner.rename(from, to); }

        @Override public boolean delete(String name) throws IOException {
            if (fail[0] && name.startsWith("objects/") && !name.endsWith(".excp")) {
                refused[0]++;
                throw new IOException("injected: cannot delete " + name);
            }
            return inner.delete(name);
        }

        @Override public boolean createDirectory(String dir) throws IOException { return inner.createDirectory(dir); }

        @Override public void syncDirectory(String dir) throws IOException { inner.syncDirectory(dir); }

        @Override public List<String> list(String dir) throws IOException { return inner.list(dir); }
    }
}
