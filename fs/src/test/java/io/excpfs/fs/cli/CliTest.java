package io.excpfs.fs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class CliTest {
    @TempDir Path tmp;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(code, out.toString(), err.toString());
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    Path runDir() throws Exception {
        Path run = tmp.resolve("run");
        for (int step : new int[]{1000, 500, 1500}) {
            Path d = Files.createDirectories(run.resolve("checkpoint-" + step));
            Files.write(d.resolve("model.bin"), random(50_000 + step, step));
            Files.writeString(d.resolve("trainer_state.json"), "{\"global_step\": " + step + "}\n");
        }
        Files.write(run.resolve("ckpt.pt"), random(4096, 7));
        Files.createDirectories(run.resolve("empty dir"));
        Files.write(run.resolve("empty dir/ünïcode.txt"), new byte[0]);
        Files.createSymbolicLink(run.resolve("latest"), Path.of("checkpoint-1500"));
        return run;
    }

    static void assertSameTree(Path a, Path b) throws Exception {
        List<Path> left, right;
        try (Stream<Path> s = Files.walk(a)) {
            left = s.map(a::relativize).sorted().toList();
        }
        try (Stream<Path> s = Files.walk(b)) {
            right = s.map(b::relativize).sorted().toList();
        }
        assertEquals(left, right);
        for (Path rel : left) {
            Path x = a.resolve(rel), y = b.resolve(rel);
            if (Files.isSymbolicLink(x)) assertEquals(Files.readSymbolicLink(x), Files.readSymbolicLink(y), rel.toString());
            else if (Files.isRegularFile(x)) {
                assertArrayEquals(Files.readAllBytes(x), Files.readAllBytes(y), rel.toString());
                assertEquals(Files.getLastModifiedTime(x), Files.getLastModifiedTime(y), "mtime of " + rel);
                assertEquals(Files.getPosixFilePermissions(x), Files.getPosixFilePermissions(y), "mode of " + rel);
            }
        }
    }

    @Test void importThenExportGivesTheSameTree() throws Exception {
        Path run = runDir();
        Path store = tmp.resolve("store");
        Run imp = run("import", run.toString(), store.toString(), "--hot", "1");
        assertEquals(0, imp.code(), imp.err());
        assertTrue(imp.out().startsWith("imported 8 files"), imp.out());
        List<String> order = imp.err().lines().filter(l -> l.startsWith("imported checkpoint")).toList();
        assertTrue(order.get(0).contains("checkpoint-500/") && order.get(2).contains("checkpoint-1000/")
                && order.get(4).contains("checkpoint-1500/"), "checkpoints in step order: " + order);
        Path dest = tmp.resolve("dest");
        Run exp = run("export", store.toString(), dest.toString());
        assertEquals(0, exp.code(), exp.err());
        assertSameTree(run, dest);
        Run ver = run("verify", store.toString(), "--deep");
        assertEquals(0, ver.code(), ver.err());
        assertTrue(ver.out().startsWith("ok: 8 versions"), ver.out());
    }

    @Test void statsJsonShape() throws Exception {
        Path store = tmp.resolve("store");
        assertEquals(0, run("import", runDir().toString(), store.toString()).code());
        Run st = run("stats", store.toString(), "--json");
        assertEquals(0, st.code(), st.err());
        JsonNode doc = new ObjectMapper().readTree(st.out());
        long raw = 0;
        for (JsonNode v : doc.get("versions")) {
            assertTrue(v.get("path").asText().startsWith("/"));
            assertTrue(List.of("seed", "residual", "hot", "opaque").contains(v.get("kind").asText()), v.toString());
            assertTrue(v.get("stored_bytes").asLong() > 0 || v.get("raw_bytes").asLong() == 0);
            raw += v.get("raw_bytes").asLong();
        }
        assertEquals(8, doc.get("versions").size());
        assertEquals(raw, doc.get("raw_bytes").asLong());
        assertTrue(doc.get("stored_bytes").asLong() > 0);
        assertEquals((double) raw / doc.get("stored_bytes").asLong(), doc.get("ratio").asDouble(), 1e-9);
        Run text = run("stats", store.toString());
        assertEquals(0, text.code());
        assertTrue(text.out().contains("/checkpoint-500/model.bin"), text.out());
    }

    /** A safetensors checkpoint (one F32 weight) drifting a little with {@code step}. */
    static byte[] safetensors(int step) {
        int n = 64 * 256;
        String h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[64,256],\"data_offsets\":[0," + n * 4 + "]}}";
        while ((8 + h.length()) % 8 != 0) h += " ";
        byte[] header = h.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + header.length + n * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        Random base = new Random(1), drift = new Random(1000 + step);
        for (int i = 0; i < n; i++) b.putFloat((float) (base.nextGaussian() * 0.02 + drift.nextGaussian() * 0.0005 * step));
        return b.array();
    }

    @Test void compactReclaimsHiddenVersionsOfAnUnmountedStoreAndStatsShowsIt() throws Exception {
        Path store = tmp.resolve("store");
        java.util.Map<Long, byte[]> before = new java.util.HashMap<>();
        try (io.excpfs.fs.store.Store s = io.excpfs.fs.store.Store.open(store, io.excpfs.fs.store.StoreOptions.defaults())) {
            s.createFile("/ckpt.safetensors", 0644, 0, 0);
            for (int step = 1; step <= 6; step++) {
                s.seal("/ckpt.safetensors", s.stage(new java.io.ByteArrayInputStream(safetensors(step))));
            }
            s.flush();
            for (io.excpfs.fs.store.VersionInfo v : s.versions()) {
                try (io.excpfs.fs.store.VersionView view = s.openVersion(v.id())) {
                    before.put(v.id(), view.read(0, (int) view.size()));
                }
            }
        }
        Run st0 = run("stats", store.toString(), "--json");
        JsonNode doc0 = new ObjectMapper().readTree(st0.out());
        assertEquals(0, doc0.get("reclaimed_bytes").asLong());
        Run c = run("compact", store.toString(), "-o", "keep_last=1");
        assertEquals(0, c.code(), c.err());
        assertTrue(c.out().startsWith("compacted " + store + ": 6 -> 2 versions"), c.out());
        Run st = run("stats", store.toString(), "--json");
        JsonNode doc = new ObjectMapper().readTree(st.out());
        assertTrue(doc.get("reclaimed_bytes").asLong() > 0, st.out());
        assertTrue(doc.get("stored_bytes").asLong() < doc0.get("stored_bytes").asLong(), st.out());
        assertEquals(2, doc.get("versions").size());
        assertTrue(run("stats", store.toString()).out().contains("compaction reclaimed"));
        Run verify = run("verify", store.toString(), "--deep");
        assertEquals(0, verify.code(), verify.err());
        try (io.excpfs.fs.store.Store s = io.excpfs.fs.store.Store.openReadOnly(store)) {
            for (io.excpfs.fs.store.VersionInfo v : s.versions()) {
                try (io.excpfs.fs.store.VersionView view = s.openVersion(v.id())) {
                    assertArrayEquals(before.get(v.id()), view.read(0, (int) view.size()), "version " + v.id());
                }
            }
        }
        Run again = run("compact", store.toString(), "-o", "keep_last=1");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("re-seeding reclaimed 0 B"), again.out());
        assertEquals(ExitCode.USAGE, run("compact", store.toString(), "-o", "idle=soon").code());
    }

    @Test void statsAndVerifyWorkWhileTheStoreIsOpenForWriting() throws Exception {
        Path store = tmp.resolve("store");
        try (var s = io.excpfs.fs.store.Store.open(store, io.excpfs.fs.store.StoreOptions.defaults())) {
            s.createFile("/x.bin", 0644, 0, 0);
            s.seal("/x.bin", s.stage(new java.io.ByteArrayInputStream(random(5000, 1))));
            assertTrue(Files.exists(store.resolve("excpfs.db-wal")));
            Run st = run("stats", store.toString(), "--json");
            assertEquals(0, st.code(), st.err());
            assertEquals(5000, new ObjectMapper().readTree(st.out()).get("raw_bytes").asLong());
            assertEquals(0, run("verify", store.toString()).code());
            Run imp = run("import", runDir().toString(), store.toString());
            assertEquals(ExitCode.STORE, imp.code(), "a second writer is refused");
            assertTrue(imp.err().contains("open for writing"), imp.err());
        }
    }

    @Test void verifyNamesAFlippedBit() throws Exception {
        Path store = tmp.resolve("store");
        Files.createDirectories(tmp.resolve("r"));
        Files.write(tmp.resolve("r/a.bin"), random(100_000, 1));
        assertEquals(0, run("import", tmp.resolve("r").toString(), store.toString()).code());
        Path raw;
        try (Stream<Path> s = Files.walk(store.resolve("objects"))) {
            raw = s.filter(p -> p.toString().endsWith(".raw")).findFirst().orElseThrow();
        }
        byte[] b = Files.readAllBytes(raw);
        b[12345] ^= 1;
        Files.write(raw, b);
        Run ver = run("verify", store.toString());
        assertEquals(1, ver.code());
        assertTrue(ver.err().contains("problem: version 1 (/a.bin)") && ver.err().contains("CRC32C"), ver.err());
        Run exp = run("export", store.toString(), tmp.resolve("d").toString());
        assertEquals(1, exp.code(), "a corrupt file is reported, never exported with wrong bytes");
        assertTrue(exp.err().contains("cannot export /a.bin"), exp.err());
    }

    @Test void errorsHaveDocumentedExitCodes() throws Exception {
        Path run = runDir();
        Run bad = run("import", run.toString(), tmp.resolve("s").toString(), "--hot", "-1");
        assertEquals(ExitCode.USAGE, bad.code());
        assertTrue(bad.err().contains("option 'hot'"), bad.err());
        assertEquals(ExitCode.USAGE, run("import", tmp.resolve("missing").toString(), tmp.resolve("s").toString()).code());
        assertEquals(ExitCode.USAGE, run("frobnicate").code());
        assertEquals(ExitCode.USAGE, run("stats", tmp.toString(), "--log-level", "loud").code());
        assertEquals(ExitCode.STORE, run("stats", tmp.resolve("nothing").toString()).code());
        Path store = tmp.resolve("store");
        assertEquals(0, run("import", run.toString(), store.toString()).code());
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + store.resolve("excpfs.db"))) {
            c.createStatement().executeUpdate("UPDATE meta SET value='7' WHERE key='format_version'");
        }
        Run newer = run("verify", store.toString());
        assertEquals(ExitCode.STORE, newer.code());
        assertTrue(newer.err().contains("newer"), newer.err());
    }

    @Test void inspectShowsAnOpaqueFile() throws Exception {
        Path f = tmp.resolve("notes.txt");
        Files.writeString(f, "not a checkpoint");
        Run r = run("inspect", f.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("== " + f), r.out());
        assertTrue(r.out().contains("opaque") && r.out().contains("16"), r.out());
        assertEquals(ExitCode.USAGE, run("inspect", tmp.resolve("missing.pt").toString()).code());
    }

    @Test @Tag("slow") void inspectShowsTensorsAndPairingOfARealCheckpoint() throws Exception {
        Assumptions.assumeTrue(torchAvailable(), "needs /usr/bin/python3 with torch");
        Path run = tmp.resolve("run");
        python(resource("gen_run.py"), run.toString(), "1");
        Run r = run("inspect", run.resolve("ckpt.pt").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("torch_zip"), r.out());
        assertTrue(r.out().contains("optimizer/state/0/exp_avg") && r.out().contains("model/0.weight"), r.out());
    }

    static boolean torchAvailable() {
        if (!Files.isExecutable(Path.of("/usr/bin/python3"))) return false;
        try {
            Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import torch").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    static String python(Path script, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("/usr/bin/python3", script.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        return out.strip();
    }

    Path resource(String name) throws Exception {
        Path p = tmp.resolve(name);
        try (var in = CliTest.class.getResourceAsStream(name)) {
            Files.copy(in, p);
        }
        return p;
    }

    @Test @Tag("slow") void realTorchCheckpointsRoundTripThroughTheCodec() throws Exception {
        Assumptions.assumeTrue(torchAvailable(), "needs /usr/bin/python3 with torch");
        Path run = tmp.resolve("run");
        python(resource("gen_run.py"), run.toString(), "4");
        Path store = tmp.resolve("store");
        Run imp = run("import", run.toString(), store.toString());
        assertEquals(0, imp.code(), imp.err());
        JsonNode doc = new ObjectMapper().readTree(run("stats", store.toString(), "--json").out());
        List<String> kinds = new java.util.ArrayList<>();
        doc.get("versions").forEach(v -> kinds.add(v.get("path").asText() + "=" + v.get("kind").asText()));
        assertEquals(List.of("/checkpoint-20/ckpt.pt=seed", "/checkpoint-40/ckpt.pt=residual", "/checkpoint-60/ckpt.pt=residual",
                "/checkpoint-80/ckpt.pt=hot", "/ckpt.pt=hot"), kinds);
        for (JsonNode v : doc.get("versions")) {
            if (v.get("kind").asText().equals("residual")) {
                assertTrue(v.get("stored_bytes").asLong() * 4 < v.get("raw_bytes").asLong(), "residuals compress: " + v);
            }
        }
        Run ver = run("verify", store.toString(), "--deep");
        assertEquals(0, ver.code(), ver.err());
        Path dest = tmp.resolve("dest");
        assertEquals(0, run("export", store.toString(), dest.toString()).code());
        assertArrayEquals(Files.readAllBytes(run.resolve("ckpt.pt")), Files.readAllBytes(dest.resolve("ckpt.pt")), "HOT is exact");
        assertArrayEquals(Files.readAllBytes(run.resolve("checkpoint-80/ckpt.pt")), Files.readAllBytes(dest.resolve("checkpoint-80/ckpt.pt")));
        Path compare = resource("compare.py");
        for (int step : new int[]{20, 40, 60}) {
            String f = "checkpoint-" + step + "/ckpt.pt";
            String out = python(compare, run.resolve(f).toString(), dest.resolve(f).toString());
            assertTrue(out.startsWith("max_rel_err="), out);
            assertEquals(Files.size(run.resolve(f)), Files.size(dest.resolve(f)), "same size");
        }
        assertEquals("max_rel_err=0", python(compare, run.resolve("checkpoint-20/ckpt.pt").toString(),
                dest.resolve("checkpoint-20/ckpt.pt").toString()), "a seed is lossless");
    }

    @Test void naturalOrderSortsStepsByValue() {
        List<String> s = new java.util.ArrayList<>(List.of("checkpoint-1000/a", "checkpoint-500/a", "checkpoint-50/b", "ckpt", "checkpoint-500"));
        s.sort(NaturalOrder.INSTANCE);
        assertEquals(List.of("checkpoint-50/b", "checkpoint-500", "checkpoint-500/a", "checkpoint-1000/a", "ckpt"), s);
    }
}
