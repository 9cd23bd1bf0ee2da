package io.excpfs.fs.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The encoder's figures are kept per COLD version (encode_stats), survive reopening, and go with removed versions. */
class EncodeFiguresTest {
    private static final int ELEMENTS = 64 * 64;

    @TempDir Path tmp;

    /** One F32 safetensors tensor {@code w} of shape [64, 64]. */
    static byte[] safetensors(float[] w) {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[64,64],\"data_offsets\":[0," + 4 * w.length + "]}}";
        while (header.length() % 8 != 0) header += " ";
        ByteBuffer b = ByteBuffer.allocate(8 + header.length() + 4 * w.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length()).put(header.getBytes(StandardCharsets.US_ASCII));
        for (float f : w) b.putFloat(f);
        return b.array();
    }

    static byte[][] drift(int versions, long seed) {
        Random rnd = new Random(seed);
        float[] w = new float[ELEMENTS];
        for (int i = 0; i < w.length; i++) w[i] = (float) (rnd.nextGaussian() * 0.02);
        byte[][] out = new byte[versions][];
        for (int v = 0; v < versions; v++) {
            for (int i = 0; i < w.length; i++) w[i] += (float) (rnd.nextGaussian() * 1e-3);
            out[v] = safetensors(w);
        }
        return out;
    }

    @Test void figuresOfSeedsAndResidualsSurviveReopen() throws Exception {
        Path dir = tmp.resolve("store");
        try (Store s = Store.open(dir, StoreOptions.parse("hot=1"))) {
            for (byte[] d : drift(3, 1)) StoreTest.write(s, "/model.safetensors", d);
            s.flush();
        }
        try (Store s = Store.openReadOnly(dir)) {
            List<VersionInfo> h = s.history("/model.safetensors");
            assertEquals(List.of("seed", "residual", "hot"), h.stream().map(VersionInfo::kind).toList());
            Map<Long, EncodeFigures> f = s.encodeFigures();
            assertEquals(Set.of(h.get(0).id(), h.get(1).id()), f.keySet(), "figures for the COLD versions only");
            EncodeFigures seed = f.get(h.get(0).id()), residual = f.get(h.get(1).id());
            assertEquals(ELEMENTS, seed.params());
            assertEquals(0, seed.stats().weightElements(), "a seed is lossless");
            assertEquals(ELEMENTS, residual.params());
            assertEquals(ELEMENTS, residual.stats().weightElements());
            assertTrue(residual.stats().keptWeights() > 0 && residual.stats().keptWeights() <= ELEMENTS, residual.toString());
            assertTrue(residual.stats().weightRelError() > 0 && residual.stats().weightRelError() < 0.1, residual.toString());
            assertEquals(h.get(1).storedBytes(), residual.stats().storedBytes());
            assertEquals(h.get(1).rawBytes(), residual.stats().rawBytes());
        }
    }

    @Test void removedVersionsTakeTheirFiguresAlong() throws Exception {
        Path dir = tmp.resolve("store");
        try (Store s = Store.open(dir, StoreOptions.parse("keep_last=1,seed_every=2"))) {
            for (byte[] d : drift(6, 2)) {
                StoreTest.write(s, "/model.safetensors", d);
                s.flush();
            }
            Set<Long> ids = new HashSet<>();
            for (VersionInfo v : s.versions()) ids.add(v.id());
            assertTrue(ids.size() < 6, "retention removed versions: " + ids);
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("excpfs.db"));
                 ResultSet rs = c.createStatement().executeQuery("SELECT version FROM encode_stats")) {
                Set<Long> rows = new HashSet<>();
                while (rs.next()) rows.add(rs.getLong(1));
                assertTrue(ids.containsAll(rows), "no figures of removed versions: " + rows + " vs " + ids);
                assertFalse(rows.isEmpty());
            }
        }
    }

    @Test void aStoreWrittenBeforeFiguresHasNone() throws Exception {
        Path src = Path.of(GoldenStoreTest.class.getResource("/golden/store-v1/excpfs.db").toURI()).getParent();
        Path dir = tmp.resolve("golden");
        try (Stream<Path> s = Files.walk(src)) {
            for (Path p : s.toList()) {
                Path t = dir.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t);
            }
        }
        Set<Long> hotBefore = new HashSet<>();
        try (Store s = Store.openReadOnly(dir)) {
            assertEquals(Map.of(), s.encodeFigures());
            for (VersionInfo v : s.versions()) if (v.state() == VersionState.HOT) hotBefore.add(v.id());
        }
        try (Store s = Store.open(dir, StoreOptions.defaults())) {
            s.flush();
            Set<Long> demotedNow = new HashSet<>();
            for (VersionInfo v : s.versions()) if (v.state() == VersionState.COLD && hotBefore.contains(v.id())) demotedNow.add(v.id());
            assertFalse(demotedNow.isEmpty(), "the golden store holds a HOT history version the first writable open demotes");
            assertEquals(demotedNow, s.encodeFigures().keySet(), "figures only for versions demoted since the table exists");
        }
        try (Store s = Store.openReadOnly(dir)) {
            assertEquals(List.of(), s.verify(true));
        }
    }
}
