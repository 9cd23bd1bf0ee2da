package io.excpfs.fs.store;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** kill -9 of a writer in the middle of sealing and encoding; the next open must find a consistent store. */
class CrashRecoveryTest {
    @TempDir Path tmp;

    @Test @Tag("slow") void killNineDuringImportLeavesAConsistentStore() throws Exception {
        Path run = Files.createDirectories(tmp.resolve("run"));
        Random r = new Random(1);
        for (int i = 1; i <= 40; i++) {
            byte[] b = new byte[2_000_000];
            r.nextBytes(b);
            Files.write(run.resolve("ckpt-step" + i + ".bin"), b);
        }
        Path store = tmp.resolve("store");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "io.excpfs.fs.cli.Main",
                "import", run.toString(), store.toString()).redirectErrorStream(true).start();
        int imported = 0;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("imported ckpt") && ++imported == 10) {
                    p.destroyForcibly();
                    break;
                }
            }
        }
        p.waitFor();
        assertEquals(10, imported, "the import was killed while it was still running");
        try (Store s = Store.open(store, StoreOptions.defaults())) {
            List<VersionInfo> versions = s.versions();
            assertTrue(versions.size() >= 10, "every sealed version survives: " + versions.size());
            for (VersionInfo v : versions) {
                byte[] expected = Files.readAllBytes(run.resolve(v.path().substring(1)));
                try (VersionView view = s.openVersion(v.id())) {
                    assertEquals(expected.length, view.size());
                    assertArrayEquals(expected, view.read(0, expected.length), v.path() + " (random bytes: stored losslessly)");
                }
            }
            assertEquals(List.of(), s.verify(true));
            try (Stream<Path> st = Files.list(store.resolve("staging"))) {
                assertEquals(0, st.count(), "unsealed staging files are dropped");
            }
            // recovery resumes the killed import's demotions in the background: let them commit before comparing
            // the object files on disk with the ones the metadata names (an encode writes its file first)
            s.flush();
            Set<String> files = new HashSet<>();
            try (Stream<Path> st = Files.walk(store.resolve("objects"))) {
                st.filter(Files::isRegularFile).forEach(f -> files.add(store.resolve("objects").relativize(f).toString()));
            }
            assertEquals(s.metadata().referencedObjectFiles(), files, "no orphan objects after recovery");
        }
    }
}
