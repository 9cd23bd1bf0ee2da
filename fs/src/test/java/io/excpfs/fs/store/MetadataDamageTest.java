package io.excpfs.fs.store;

import io.excpfs.fs.ops.FsException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Damage to {@code excpfs.db} at file level (SQLite's own I/O cannot be routed through a Java interface): bits
 * flipped anywhere in the database, a value swapped inside a row, the WAL cut in the middle of a frame. Whatever the
 * damage, the store either refuses to open with a clear error, or every read returns the right bytes or fails —
 * never wrong bytes — and {@code verify} names damage to the rows that decide what a read returns.
 */
class MetadataDamageTest {
    static final Path FIXTURES = Path.of("..", "codec", "src", "test", "resources", "formats");
    static final int FLIPS = Integer.getInteger("excpfs.faults.dbflips", 100);

    @TempDir Path tmp;
    Path pristine;
    /** What each path reads as in the pristine store, and every state it ever had (for the cut WAL). */
    final Map<String, byte[]> expected = new LinkedHashMap<>();
    final Map<Long, byte[]> versions = new TreeMap<>();

    @BeforeEach void buildStore() throws Exception {
        pristine = tmp.resolve("pristine");
        byte[] st = Files.readAllBytes(FIXTURES.resolve("model.safetensors"));
        Random r = new Random(7);
        try (Store s = Store.open(pristine, StoreOptions.parse("mode=lossless,hot=1"))) {
            s.mkdir("/run", 0755, 0, 0);
            for (int step = 10; step <= 40; step += 10) {
                s.mkdir("/run/checkpoint-" + step, 0755, 0, 0);
                byte[] b = st.clone();
                long header = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
                for (int i = 0; i < 16; i++) b[(int) (8 + header) + r.nextInt(b.length - (int) (8 + header))] ^= (byte) (1 + r.nextInt(255));
                write(s, "/run/checkpoint-" + step + "/model.safetensors", b);
            }
            for (String f : List.of("state_dict.pt", "optimizer.pt", "nanogpt_ckpt.pt")) write(s, "/run/ckpt.pt", Files.readAllBytes(FIXTURES.resolve(f)));
            byte[] data = new byte[150_000];
            r.nextBytes(data);
            write(s, "/data.bin", data);
            byte[] small = "a small text file\n".getBytes(StandardCharsets.UTF_8);
            write(s, "/notes.txt", small);
            s.flush();
            assertTrue(s.versions().stream().anyMatch(v -> v.state() == VersionState.COLD), "the store holds COLD versions");
            assertTrue(s.versions().stream().anyMatch(v -> v.state() == VersionState.HOT), "the store holds HOT versions");
            assertEquals(List.of(), s.verify(true));
        }
        assertFalse(Files.exists(pristine.resolve(Metadata.DB_FILE + "-wal")), "the WAL was checkpointed at close");
    }

    private void write(Store s, String path, byte[] data) throws Exception {
        if (expected.get(path) == null) s.createFile(path, 0644, 0, 0);
        VersionInfo v = s.seal(path, s.stage(new ByteArrayInputStream(data)));
        expected.put(path, data);
        versions.put(v.id(), data);
    }

    private Path copy(String name) throws IOException {
        Path dst = tmp.resolve(name);
        try (Stream<Path> s = Files.walk(pristine)) {
            for (Path p : s.toList()) {
                Path t = dst.resolve(pristine.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else if (!p.getFileName().toString().equals("lock")) Files.copy(p, t);
            }
        }
        return dst;
    }

    /** Reads of every path and version after a damage: how many failed, how many returned wrong bytes. */
    record Reads(int failed, List<String> wrong) {}

    private Reads readAll(Store s) {
        int failed = 0;
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : expected.entrySet()) {
            try (VersionView v = s.openCurrent(e.getKey())) {
                byte[] got = v == null ? new byte[0] : v.read(0, (int) v.size());
                if (!Arrays.equals(e.getValue(), got)) wrong.add(e.getKey());
            } catch (FsException | IOException | RuntimeException ex) {
                failed++;
            }
        }
        for (Map.Entry<Long, byte[]> e : versions.entrySet()) {
            try (VersionView v = s.openVersion(e.getKey())) {
                if (!Arrays.equals(e.getValue(), v.read(0, (int) v.size()))) wrong.add("version " + e.getKey());
            } catch (FsException | IOException | RuntimeException ex) {
                failed++;
            }
        }
        return new Reads(failed, wrong);
    }

    static int pageSize(byte[] db) {
        int ps = ((db[16] & 0xff) << 8) | (db[17] & 0xff);
        return ps == 1 ? 65536 : ps;
    }

    /** B-tree page type at the start of the page holding {@code offset}: 13 table leaf, 10 index leaf. */
    static int pageType(byte[] db, int offset) {
        int ps = pageSize(db);
        int page = offset / ps;
        return db[page * ps + (page == 0 ? 100 : 0)] & 0xff;
    }

    static List<Integer> occurrences(byte[] hay, byte[] needle) {
        List<Integer> out = new ArrayList<>();
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            out.add(i);
        }
        return out;
    }

    @Test void aRowNamingAnotherObjectIsCaughtOnReadAndByVerifyAndRecoveryDeletesNothing() throws Exception {
        Path dir = copy("swapped");
        long a, b;
        String objA, objB;
        try (Store s = Store.openReadOnly(dir)) {
            a = s.current("/data.bin").id();
            b = s.current("/notes.txt").id();
            objA = s.metadata().read(() -> s.metadata().objectOf(a));
            objB = s.metadata().read(() -> s.metadata().objectOf(b));
        }
        byte[] db = Files.readAllBytes(dir.resolve(Metadata.DB_FILE));
        List<Integer> at = occurrences(db, objA.getBytes(StandardCharsets.US_ASCII));
        List<Integer> inTable = at.stream().filter(o -> pageType(db, o) == 13).toList();
        assertEquals(1, inTable.size(), "the object id of /data.bin appears once in a table page: " + at);
        assertTrue(at.size() > inTable.size(), "and again in its index copy");
        System.arraycopy(objB.getBytes(StandardCharsets.US_ASCII), 0, db, inTable.get(0), objB.length());
        Files.write(dir.resolve(Metadata.DB_FILE), db);

        try (Store s = Store.openReadOnly(dir)) {
            List<String> problems = s.verify(false);
            assertTrue(problems.stream().anyMatch(p -> p.contains("excpfs.db") && p.contains("versions_copy")),
                    "integrity_check finds the row differs from its copy: " + problems);
            assertTrue(problems.stream().anyMatch(p -> p.contains("version " + a) && p.contains("object") && p.contains(objB)),
                    "the row check names the version and both values: " + problems);
        }
        try (Store s = Store.open(dir, StoreOptions.defaults())) {
            CorruptDataException e = assertThrows(CorruptDataException.class, () -> s.openVersion(a));
            assertTrue(e.getMessage().contains("object " + objB) && e.getMessage().contains(objA), e.getMessage());
            CorruptDataException ce = assertThrows(CorruptDataException.class, () -> s.openCurrent("/data.bin"));
            assertTrue(ce.getMessage().contains("damaged"), ce.getMessage());
            try (VersionView v = s.openCurrent("/notes.txt")) {
                assertArrayEquals(expected.get("/notes.txt"), v.read(0, (int) v.size()), "an undamaged file still reads");
            }
        }
        String rel = objA.substring(0, 2) + "/" + objA;
        assertTrue(Files.exists(dir.resolve("objects/" + rel + ".raw")) && Files.exists(dir.resolve("objects/" + rel + ".sum")),
                "recovery did not take the object the damaged row no longer names for garbage");
    }

    @Test void bitsFlippedAnywhereInTheDatabaseNeverGiveWrongBytes() throws Exception {
        long seed = Long.getLong("excpfs.faults.seed", System.nanoTime());
        byte[] db = Files.readAllBytes(pristine.resolve(Metadata.DB_FILE));
        Map<String, Integer> anywhere = flips(db, new Random(seed), false, seed);
        Map<String, Integer> inRows = flips(db, new Random(seed + 1), true, seed);
        System.out.println("MetadataDamageTest seed " + seed + ", " + FLIPS + " single-bit flips anywhere in a " + db.length
                + "-byte excpfs.db: " + anywhere + "; " + FLIPS + " in version and inode rows: " + inRows);
    }

    /**
     * The flip that checksummed objects cannot catch: one bit of an inode's {@code version} turns the current version
     * of {@code /run/ckpt.pt} into its previous one. Without row copies (as before them) the file silently reads as
     * its older content; with them the read fails and verify names the damage.
     */
    @Test void aFlippedBitInAnInodesVersionIsCaughtOnlyWithRowCopies() throws Exception {
        for (boolean copies : new boolean[] {false, true}) {
            Path dir = copy(copies ? "inode-flip" : "inode-flip-no-copies");
            if (!copies) {
                try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(Metadata.DB_FILE));
                     java.sql.Statement st = c.createStatement()) {
                    st.execute("DROP INDEX versions_copy");
                    st.execute("DROP INDEX inodes_copy");
                    st.execute("VACUUM");
                }
            }
            long current, previous;
            byte[] mtime;
            try (Store s = Store.openReadOnly(dir)) {
                List<VersionInfo> h = s.history("/run/ckpt.pt");
                current = h.get(h.size() - 1).id();
                previous = h.get(h.size() - 2).id();
                mtime = ByteBuffer.allocate(8).putLong(s.stat("/run/ckpt.pt").mtimeNanos()).array();
            }
            assertEquals(1, Long.bitCount(current ^ previous), "versions " + current + " and " + previous + " differ in one bit");
            byte[] db = Files.readAllBytes(dir.resolve(Metadata.DB_FILE));
            // inode row body: mode, uid, gid, atime, mtime, ctime (= mtime at a seal), target (NULL: no bytes), version
            int at = -1;
            for (int o : occurrences(db, mtime)) {
                if (o + 17 <= db.length && Arrays.equals(db, o + 8, o + 16, mtime, 0, 8) && (db[o + 16] & 0xff) == current) at = o + 16;
            }
            assertTrue(at > 0, "found the version byte of the inode row");
            db[at] ^= (byte) (current ^ previous);
            Files.write(dir.resolve(Metadata.DB_FILE), db);
            try (Store s = Store.openReadOnly(dir)) {
                if (!copies) {
                    try (VersionView v = s.openCurrent("/run/ckpt.pt")) {
                        assertEquals(previous, v.info().id(), "without row copies the file silently shows another version");
                        assertArrayEquals(versions.get(previous), v.read(0, (int) v.size()));
                        assertFalse(Arrays.equals(expected.get("/run/ckpt.pt"), v.read(0, (int) v.size())), "wrong bytes");
                    }
                    continue;
                }
                FsException e = assertThrows(FsException.class, () -> s.openCurrent("/run/ckpt.pt"));
                assertEquals(io.excpfs.fs.ops.Errno.EIO, e.errno());
                assertTrue(e.getMessage().contains("version " + previous) && e.getMessage().contains("inodes_copy"), e.getMessage());
                List<String> problems = s.verify(false);
                assertTrue(problems.stream().anyMatch(p -> p.contains("inodes_copy")), "verify names the damaged index copy: " + problems);
            }
        }
    }

    /**
     * Flips one bit per round in a copy of the pristine store's database, anywhere or near an object id in a table
     * page (inside a version or inode row), opens the store (writable in every other round, else read-only) and
     * reads everything back.
     */
    private Map<String, Integer> flips(byte[] db, Random r, boolean inRows, long seed) throws Exception {
        List<Integer> rows = new ArrayList<>();
        for (byte[] anchor : rowAnchors()) for (int o : occurrences(db, anchor)) if (pageType(db, o) == 13) rows.add(o);
        assertFalse(rows.isEmpty(), "object ids found in table pages");
        Map<String, Integer> outcome = new TreeMap<>();
        for (int i = 0; i < FLIPS; i++) {
            boolean writable = i % 2 == 0;
            Path dir = copy("flipped-" + (inRows ? "r" : "a") + i);
            byte[] d = db.clone();
            int at = inRows ? Math.max(0, Math.min(d.length - 1, rows.get(r.nextInt(rows.size())) - 48 + r.nextInt(96 + 32))) : r.nextInt(d.length);
            int bit = r.nextInt(8);
            d[at] ^= (byte) (1 << bit);
            Files.write(dir.resolve(Metadata.DB_FILE), d);
            String damage = "bit " + bit + " of byte " + at + " (page type " + pageType(d, at) + ") flipped, "
                    + (writable ? "opened writable" : "opened read-only") + ", seed " + seed;
            Store s;
            try {
                s = writable ? Store.open(dir, StoreOptions.parse("mode=lossless,hot=1")) : Store.openReadOnly(dir);
            } catch (IOException | RuntimeException e) {
                outcome.merge("open refused with an error", 1, Integer::sum);
                continue;
            }
            try (s) {
                Reads reads = readAll(s);
                assertEquals(List.of(), reads.wrong(), "wrong bytes after " + damage);
                List<String> problems;
                try {
                    problems = s.verify(false);
                } catch (IOException | RuntimeException e) {
                    problems = List.of(String.valueOf(e));
                }
                if (reads.failed() > 0) {
                    assertFalse(problems.isEmpty(), "reads failed but verify found nothing after " + damage);
                    outcome.merge(problems.isEmpty() ? "reads failed (EIO), verify clean" : "reads failed (EIO), verify reports", 1, Integer::sum);
                } else {
                    outcome.merge(problems.isEmpty() ? "no effect on reads, verify clean" : "no effect on reads, verify reports", 1, Integer::sum);
                }
            }
        }
        return outcome;
    }

    /**
     * Bytes found once inside the rows that decide what a read returns: the object id of each version row, and the
     * mtime (8 bytes, big-endian as SQLite stores it) of each file's inode row, a few bytes before its version.
     */
    private List<byte[]> rowAnchors() throws Exception {
        List<byte[]> out = new ArrayList<>();
        try (Store s = Store.openReadOnly(pristine)) {
            for (VersionInfo v : s.versions()) out.add(s.metadata().read(() -> s.metadata().objectOf(v.id())).getBytes(StandardCharsets.US_ASCII));
            for (String p : expected.keySet()) out.add(ByteBuffer.allocate(8).putLong(s.stat(p).mtimeNanos()).array());
        }
        return out;
    }

    @Test void aWalCutMidFrameOpensAtAnEarlierCommitAndNeverGivesWrongBytes() throws Exception {
        Path live = copy("live");
        Path walCopy = tmp.resolve("wal-copy");
        Files.createDirectories(walCopy);
        List<Map<String, byte[]>> states = new ArrayList<>();
        Map<String, byte[]> now = new LinkedHashMap<>(expected);
        states.add(new LinkedHashMap<>(now));
        Random r = new Random(11);
        try (Store s = Store.open(live, StoreOptions.parse("mode=lossless,hot=1"))) {
            for (int i = 0; i < 6; i++) {
                byte[] b = new byte[20_000 + r.nextInt(100_000)];
                r.nextBytes(b);
                String p = "/data.bin";
                s.seal(p, s.stage(new ByteArrayInputStream(b)));
                now.put(p, b);
                states.add(new LinkedHashMap<>(now));
            }
            s.flush();
            synchronized (s.metadata()) {
                Files.copy(live.resolve(Metadata.DB_FILE), walCopy.resolve(Metadata.DB_FILE));
                Files.copy(live.resolve(Metadata.DB_FILE + "-wal"), walCopy.resolve(Metadata.DB_FILE + "-wal"));
            }
        }
        byte[] wal = Files.readAllBytes(walCopy.resolve(Metadata.DB_FILE + "-wal"));
        assertTrue(wal.length > 32, "commits are in the WAL");
        int frame = 24 + pageSize(Files.readAllBytes(walCopy.resolve(Metadata.DB_FILE)));
        Map<String, Integer> outcome = new TreeMap<>();
        int frames = (wal.length - 32) / frame;
        for (int k = 0; k < 24; k++) {
            int cut = 32 + r.nextInt(frames) * frame + 1 + r.nextInt(frame - 1);
            Path dir = tmp.resolve("cut-" + k);
            try (Stream<Path> st = Files.walk(live.resolve("objects"))) {
                for (Path p : st.toList()) {
                    Path t = dir.resolve(live.relativize(p).toString());
                    if (Files.isDirectory(p)) Files.createDirectories(t);
                    else Files.copy(p, t);
                }
            }
            Files.copy(walCopy.resolve(Metadata.DB_FILE), dir.resolve(Metadata.DB_FILE));
            try (FileChannel ch = FileChannel.open(dir.resolve(Metadata.DB_FILE + "-wal"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(wal, 0, cut));
            }
            try (Store s = Store.open(dir, StoreOptions.parse("mode=lossless,hot=1"))) {
                byte[] got;
                try (VersionView v = s.openCurrent("/data.bin")) {
                    got = v.read(0, (int) v.size());
                } catch (FsException | IOException e) {
                    outcome.merge("read failed: objects of the lost commits are gone", 1, Integer::sum);
                    continue;
                }
                boolean known = states.stream().anyMatch(m -> Arrays.equals(m.get("/data.bin"), got));
                assertTrue(known, "WAL cut at " + cut + ": /data.bin reads as bytes it never held");
                outcome.merge(Arrays.equals(now.get("/data.bin"), got) ? "newest state" : "an earlier state", 1, Integer::sum);
            }
        }
        System.out.println("MetadataDamageTest WAL of " + wal.length + " bytes (" + frames + " frames) cut mid-frame 24 times: " + outcome);
    }
}
