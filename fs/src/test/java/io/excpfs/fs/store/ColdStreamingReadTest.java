package io.excpfs.fs.store;

import io.excpfs.fs.reliability.Checkpoints;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static io.excpfs.fs.store.StoreTest.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * COLD versions read through the store with the real codec, whose objects decode as they are read: the bytes are
 * those the encoder's reconstruction holds, on the daemon that encoded them and on a fresh one; a damaged object
 * fails the reads (not the open) with the version, its chain and its path named, and deep verification still
 * reports it.
 */
class ColdStreamingReadTest {
    /** A real torch.save zip (nanoGPT model + AdamW state): container CRCs to recompute. */
    private static final Path TORCH = Path.of("..", "codec", "src", "test", "resources", "formats", "nanogpt_ckpt.pt");
    @TempDir Path tmp;

    private static byte[] readAll(Store s, long id) throws Exception {
        try (VersionView v = s.openVersion(id)) {
            byte[] out = new byte[(int) v.size()];
            for (int done = 0; done < out.length; ) {
                int n = v.readAt(done, out, done, Math.min(128 << 10, out.length - done));
                assertTrue(n > 0, "read at " + done + " of " + out.length);
                done += n;
            }
            return out;
        }
    }

    /** Three versions each of a safetensors checkpoint (W, m, v) and a torch zip, the newest HOT; ids per path. */
    private List<List<VersionInfo>> writeChains(Path dir) throws Exception {
        byte[] torch = Files.readAllBytes(TORCH);
        try (Store s = Store.open(dir, StoreOptions.parse("hot=1"))) {
            for (int step = 1; step <= 3; step++) {
                write(s, "/model.safetensors", Checkpoints.safetensors(5, step, 512, 1024));
                write(s, "/ckpt.pt", torch);
            }
            s.flush();
            return List.of(s.history("/model.safetensors"), s.history("/ckpt.pt"));
        }
    }

    @Test void coldVersionsReadTheSameOnTheEncodingStoreAndOnAFreshOne() throws Exception {
        Path dir = tmp.resolve("store");
        List<List<VersionInfo>> chains = writeChains(dir);
        List<byte[]> fresh = new ArrayList<>();
        try (Store s = Store.open(dir, StoreOptions.parse("hot=1"))) {
            for (List<VersionInfo> h : chains) {
                assertEquals(List.of("seed", "residual", "hot"), h.stream().map(VersionInfo::kind).toList());
                for (int i = 1; i >= 0; i--) fresh.add(readAll(s, h.get(i).id()));
            }
        }
        try (Store s = Store.open(dir, StoreOptions.parse("hot=1"))) {
            int k = 0;
            for (List<VersionInfo> h : chains) {
                for (int i = 1; i >= 0; i--) {
                    byte[] again = readAll(s, h.get(i).id());
                    assertArrayEquals(fresh.get(k++), again, h.get(i).path() + " version " + h.get(i).id() + " reads the same on a fresh store");
                    assertEquals(h.get(i).rawBytes(), again.length);
                }
            }
        }
        byte[] torch = Files.readAllBytes(TORCH);
        assertEquals(torch.length, fresh.get(2).length);
        assertArrayEquals(java.util.Arrays.copyOf(torch, 30), java.util.Arrays.copyOf(fresh.get(2), 30), "the zip header of the torch file is exact");
    }

    @Test void aDamagedSeedFailsTheReadsOfItsChainNamingVersionsAndPath() throws Exception {
        Path dir = tmp.resolve("store");
        List<VersionInfo> h = writeChains(dir).get(0);
        VersionInfo seed = h.get(0), residual = h.get(1);
        String object;
        try (Store s = Store.openReadOnly(dir)) {
            object = s.metadata().read(() -> s.metadata().objectOf(seed.id()));
        }
        Path file;
        try (Stream<Path> files = Files.walk(dir.resolve("objects"))) {
            file = files.filter(p -> p.getFileName().toString().equals(object + ".excp")).findFirst().orElseThrow();
        }
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            long at = f.length() / 2;
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x10);
        }
        try (Store s = Store.open(dir, StoreOptions.parse("hot=1"))) {
            try (VersionView v = s.openVersion(residual.id())) {
                CorruptDataException e = assertThrows(CorruptDataException.class, () -> v.readAt(0, new byte[4096], 0, 4096));
                assertTrue(e.getMessage().contains("CRC32C") && e.getMessage().contains("version " + residual.id())
                        && e.getMessage().contains("/model.safetensors"), e.getMessage());
                assertThrows(CorruptDataException.class, v::awaitComplete);
            }
            List<String> problems = s.verify(true);
            assertTrue(problems.stream().anyMatch(p -> p.contains("version " + residual.id()) && p.contains("cannot reconstruct")),
                    "deep verification reports the chain: " + problems);
            byte[] hot = readAll(s, h.get(2).id());
            assertEquals(h.get(2).rawBytes(), hot.length, "the HOT version still reads");
        }
    }
}
