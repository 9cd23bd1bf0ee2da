package io.excpfs.fs.store;

import io.excpfs.fs.ops.FsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Seeded rounds of real store work (real checkpoints through the real codec, random files, overwrites, renames,
 * deletes, background demotion) on a {@link FaultyBlobs} disk that fails writes, returns short reads, flips bits in
 * what reads return, and crashes the machine at a random I/O call. After every crash: the store opens (recovery
 * succeeds), every file whose seal returned before the crash reads back exactly, every other file reads as one of
 * the states its interrupted operation allows, verify finds nothing, and no object is left that nothing references.
 * While faults are injected, a read returns the right bytes or fails, never wrong bytes. Knobs:
 * {@code -Dexcpfs.faults.iterations=N} (default 120 rounds on the store, a third of that on the mount handlers), {@code -Dexcpfs.faults.seed=S} (default: time; printed).
 */
class FaultInjectionTest {
    static final int ITERATIONS = Integer.getInteger("excpfs.faults.iterations", 120);
    static final Path FIXTURES = Path.of("..", "codec", "src", "test", "resources", "formats");
    /** A path's content in the ledger when the path does not exist. */
    static final byte[] ABSENT = new byte[0];

    @TempDir Path tmp;

    private final Map<String, Integer> figures = new TreeMap<>();
    private final List<byte[]> fixtures = new ArrayList<>();

    @Test void crashesAndFaultsNeverLoseSyncedFilesNorReturnWrongBytes() throws Exception {
        for (String f : List.of("model.safetensors", "state_dict.pt", "optimizer.pt", "nanogpt_ckpt.pt", "lightning.ckpt")) {
            fixtures.add(Files.readAllBytes(FIXTURES.resolve(f)));
        }
        long seed = Long.getLong("excpfs.faults.seed", System.nanoTime());
        String round = "";
        try {
            for (int i = 0; i < ITERATIONS; i++) {
                round = "round " + i + " of seed " + seed + " (-Dexcpfs.faults.seed=" + seed + ")";
                runRound(new Random(seed * 1_000_003L + i), tmp.resolve("r" + i), round);
            }
        } catch (AssertionError | Exception e) {
            throw new AssertionError(round + ": " + e.getMessage(), e);
        } finally {
            System.out.println("FaultInjectionTest seed " + seed + ", " + ITERATIONS + " rounds: " + figures);
        }
    }

    private void count(String what, int n) { figures.merge(what, n, Integer::sum); }

    /**
     * The same disk faults and crashes under the mount's handlers (the staging drafts included), replaying what
     * trainers do: {@code torch.save} (create, 64 KiB writes, close), write-fsync-write-close, save to a temporary
     * name then rename over the checkpoint, delete. A file whose last close or fsync returned before the crash reads
     * back exactly (up to the fsync); a file whose writer saw an error reads back without error.
     */
    @Test void trainerWritesThroughTheMountHandlersSurviveCrashes() throws Exception {
        fixtures.add(Files.readAllBytes(FIXTURES.resolve("model.safetensors")));
        for (String f : List.of("state_dict.pt", "optimizer.pt", "nanogpt_ckpt.pt", "lightning.ckpt")) fixtures.add(Files.readAllBytes(FIXTURES.resolve(f)));
        long seed = Long.getLong("excpfs.faults.seed", System.nanoTime());
        String round = "";
        try {
            for (int i = 0; i < ITERATIONS / 3; i++) {
                round = "round " + i + " of seed " + seed + " (-Dexcpfs.faults.seed=" + seed + ")";
                runMountRound(new Random(seed * 1_000_033L + i), tmp.resolve("m" + i));
            }
        } catch (AssertionError | Exception e) {
            throw new AssertionError(round + ": " + e.getMessage(), e);
        } finally {
            System.out.println("FaultInjectionTest (mount handlers) seed " + seed + ", " + ITERATIONS / 3 + " rounds: " + figures);
        }
    }

    /** A ledger state: any content, for a file whose writer saw an error. */
    static final byte[] ANY = new byte[0];

    private void runMountRound(Random r, Path dir) throws Exception {
        ledger.clear();
        Path first = dir.resolve("a");
        FaultyBlobs disk = new FaultyBlobs(r.nextLong());
        StoreOptions options = StoreOptions.parse("mode=lossless,hot=" + r.nextInt(2));
        io.excpfs.fs.mount.StoreFileSystem fs = new io.excpfs.fs.mount.StoreFileSystem(Store.open(first, options, Codec.checkpointCodec(), d -> disk));
        disk.arm(new FaultyBlobs.Plan(r.nextBoolean() ? 0 : 0.01, 0.2, 0.005, 1 + r.nextInt(400)));
        try {
            fs.mkdir("/run", 0755);
            for (int step = 1; step < 40 && !disk.crashed(); step++) {
                int k = r.nextInt(8);
                String path = k < 3 ? "/run/checkpoint-" + step + "/model.safetensors" : "/run/ckpt.pt";
                byte[] data = content(r, path.endsWith(".pt") ? path : "/run/x.safetensors");
                List<String> touched = new ArrayList<>(List.of(path));
                try {
                    if (k < 3) {
                        fs.mkdir("/run/checkpoint-" + step, 0755);
                        save(fs, disk, path, data, false);
                    } else if (k < 5) {
                        save(fs, disk, path, data, true);
                    } else if (k < 7) {
                        touched.add(path + ".tmp");
                        save(fs, disk, path + ".tmp", data, false);
                        List<byte[]> states = new ArrayList<>(statesOf(path));
                        states.addAll(statesOf(path + ".tmp"));
                        fs.rename(path + ".tmp", path, 0);
                        if (!disk.crashed()) {
                            ledger.put(path, ledger.remove(path + ".tmp"));
                        } else {
                            ledger.put(path, states);
                            ledger.put(path + ".tmp", List.of(ANY));
                        }
                    } else {
                        List<String> live = livePaths();
                        if (!live.isEmpty()) {
                            String victim = live.get(r.nextInt(live.size()));
                            touched = List.of(victim);
                            fs.unlink(victim);
                            ledger.put(victim, disk.crashed() ? List.of(ANY) : List.of(ABSENT));
                        }
                    }
                } catch (io.excpfs.fs.ops.FsException e) {
                    count("handler calls failed (EIO) under faults", 1);
                    for (String t : touched) ledger.put(t, List.of(ANY));
                }
            }
            disk.crash();
        } finally {
            fs.close();
        }
        count("mount rounds crashed", 1);
        Path second = dir.resolve("b");
        Files.createDirectories(second);
        for (String f : List.of(Metadata.DB_FILE, Metadata.DB_FILE + "-wal")) {
            if (Files.exists(first.resolve(f))) Files.copy(first.resolve(f), second.resolve(f));
        }
        FaultyBlobs after = disk.image();
        try (Store s2 = Store.open(second, options, Codec.checkpointCodec(), d -> after)) {
            for (Map.Entry<String, List<byte[]>> e : ledger.entrySet()) {
                byte[] got;
                try {
                    got = read(s2, e.getKey());
                } catch (FsException | IOException ex) {
                    throw new AssertionError("after the crash: reading " + e.getKey() + " failed: " + ex, ex);
                }
                if (e.getValue().contains(ANY)) {
                    count("mount files read back after a failed write (any content)", 1);
                    continue;
                }
                boolean match = e.getValue().stream().anyMatch(b -> b == ABSENT ? got == ABSENT : got != ABSENT && Arrays.equals(b, got));
                assertTrue(match, "after the crash: " + e.getKey() + " reads as " + (got == ABSENT ? "absent" : got.length + " bytes")
                        + ", expected one of " + e.getValue().stream().map(b -> b == ABSENT ? "absent" : String.valueOf(b.length)).toList());
                count("mount files read back exactly after a crash", 1);
            }
            assertEquals(List.of(), s2.verify(true), "verify after the crash");
        }
    }

    private static void writeChunks(io.excpfs.fs.mount.StoreFileSystem fs, long fh, byte[] data, int from, int to) throws FsException {
        for (int off = from; off < to; off += 65536) {
            int n = Math.min(65536, to - off);
            fs.write(fh, off, Arrays.copyOfRange(data, off, off + n), n);
        }
    }

    /**
     * Writes {@code data} as a trainer does; with {@code fsyncHalf}, fsyncs after the first half. Records in the
     * ledger what a crash may leave.
     */
    private void save(io.excpfs.fs.mount.StoreFileSystem fs, FaultyBlobs disk, String path, byte[] data, boolean fsyncHalf) throws FsException {
        List<byte[]> before = statesOf(path);
        List<byte[]> cut = new ArrayList<>(before);
        cut.add(new byte[0]);
        ledger.put(path, cut);
        long fh = fs.create(path, 0644, io.excpfs.fs.ops.FileSystemOps.O_WRONLY | io.excpfs.fs.ops.FileSystemOps.O_CREAT
                | io.excpfs.fs.ops.FileSystemOps.O_TRUNC);
        boolean released = false;
        try {
            int half = fsyncHalf ? data.length / 2 : data.length;
            writeChunks(fs, fh, data, 0, half);
            if (fsyncHalf) {
                fs.fsync(fh, false);
                if (!disk.crashed()) ledger.put(path, new ArrayList<>(List.of(Arrays.copyOf(data, half))));
                else ledger.get(path).add(Arrays.copyOf(data, half));
            }
            writeChunks(fs, fh, data, half, data.length);
            fs.flush(fh);
            released = true;
            fs.release(fh);
        } finally {
            if (!released) {
                try {
                    fs.release(fh);
                } catch (FsException ignored) {
                    // the writer already failed
                }
            }
        }
        if (!disk.crashed()) {
            ledger.put(path, List.of(data));
            count("mount saves", 1);
        } else {
            List<byte[]> states = new ArrayList<>(ledger.get(path));
            states.add(data);
            ledger.put(path, states);
        }
    }


    /** What each path may read as, after the operations so far (several states while one was cut). */
    private final Map<String, List<byte[]>> ledger = new LinkedHashMap<>();

    private void runRound(Random r, Path dir, String round) throws Exception {
        ledger.clear();
        Path first = dir.resolve("a");
        FaultyBlobs disk = new FaultyBlobs(r.nextLong());
        StoreOptions options = StoreOptions.parse("mode=lossless,hot=" + r.nextInt(2) + ",encode_threads=" + (1 + r.nextInt(2)));
        Store s = Store.open(first, options, Codec.checkpointCodec(), d -> disk);
        boolean crash = r.nextInt(4) != 0;
        FaultyBlobs.Plan plan = new FaultyBlobs.Plan(r.nextInt(3) == 0 ? 0 : 0.02, 0.2, r.nextBoolean() ? 0.01 : 0,
                crash ? 1 + r.nextInt(300) : Long.MAX_VALUE);
        disk.arm(plan);
        int ops = 8 + r.nextInt(20);
        int step = 0;
        try {
            for (int op = 0; op < ops && !disk.crashed(); op++) {
                int k = r.nextInt(10);
                if (k < 5) {
                    String path = k < 3 ? "/run/checkpoint-" + (++step * 10) + "/model.safetensors"
                            : r.nextBoolean() ? "/run/ckpt.pt" : "/data-" + r.nextInt(3) + ".bin";
                    write(s, disk, path, content(r, path));
                } else if (k == 5) {
                    List<String> live = livePaths();
                    if (!live.isEmpty()) rename(s, disk, live.get(r.nextInt(live.size())), "/moved-" + r.nextInt(3) + ".bin");
                } else if (k == 6) {
                    List<String> live = livePaths();
                    if (!live.isEmpty()) unlink(s, disk, live.get(r.nextInt(live.size())));
                } else if (k == 7) {
                    try {
                        s.flush();
                    } catch (IOException e) {
                        count("flush failed under faults", 1);
                    }
                } else {
                    readAll(s, false, "while faults are injected");
                }
            }
            if (!crash) {
                disk.disarm();
                s.flush();
                readAll(s, false, "after the faults stopped");
                rotAndCheck(s, disk, r);
                return;
            }
            disk.crash();
        } finally {
            s.close();
        }
        count("crashes", 1);
        FaultyBlobs.CrashFigures cf = disk.crashFigures();
        count("unsynced changes lost at a crash", cf.lostChanges());
        count("unsynced changes kept at a crash", cf.keptChanges());
        count("files with unsynced content at a crash", cf.damagedFiles());
        disk.injected.forEach(this::count);

        Path second = dir.resolve("b");
        Files.createDirectories(second);
        for (String f : List.of(Metadata.DB_FILE, Metadata.DB_FILE + "-wal")) {
            if (Files.exists(first.resolve(f))) Files.copy(first.resolve(f), second.resolve(f));
        }
        FaultyBlobs after = disk.image();
        try (Store s2 = Store.open(second, options, Codec.checkpointCodec(), d -> after)) {
            assertTrue(after.list("staging").isEmpty(), "staging is empty after recovery");
            readAll(s2, true, "after the crash");
            assertEquals(List.of(), s2.verify(true), "verify after the crash");
            s2.flush();
            readAll(s2, true, "after the crash and a flush");
            assertEquals(List.of(), s2.verify(true), "verify after the crash and a flush");
            Set<String> stored = after.names();
            stored.removeIf(n -> !n.startsWith("objects/"));
            Set<String> referenced = new HashSet<>();
            for (String f : s2.metadata().referencedObjectFiles()) referenced.add("objects/" + f);
            assertEquals(referenced, stored, "objects on disk after recovery and a flush are exactly those the metadata references");
        }
    }

    /** A real checkpoint (its float payload changed, so a lineage gets residuals) or random bytes. */
    private byte[] content(Random r, String path) {
        if (path.endsWith(".safetensors")) {
            byte[] b = fixtures.get(0).clone();
            long header = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            int payload = (int) (8 + header);
            for (int i = 0; i < 20; i++) b[payload + r.nextInt(b.length - payload)] ^= (byte) (1 + r.nextInt(255));
            return b;
        }
        if (path.endsWith(".pt")) {
            byte[] b = fixtures.get(1 + r.nextInt(fixtures.size() - 1));
            return r.nextBoolean() ? b : Arrays.copyOf(b, b.length + 1 + r.nextInt(10));
        }
        byte[] b = new byte[r.nextInt(4) == 0 ? r.nextInt(100) : r.nextInt(200_000)];
        r.nextBytes(b);
        return b;
    }

    private List<String> livePaths() {
        List<String> out = new ArrayList<>();
        ledger.forEach((p, states) -> {
            if (states.size() == 1 && states.get(0) != ABSENT) out.add(p);
        });
        return out;
    }

    private List<byte[]> statesOf(String path) {
        return ledger.getOrDefault(path, List.of(ABSENT));
    }

    private void write(Store s, FaultyBlobs disk, String path, byte[] data) {
        List<byte[]> before = statesOf(path);
        boolean ok = false;
        try {
            int slash = path.lastIndexOf('/');
            if (slash > 0) mkdirs(s, path.substring(0, slash));
            if (!exists(s, path)) s.createFile(path, 0644, 0, 0);
            s.seal(path, s.stage(new ByteArrayInputStream(data)));
            ok = true;
        } catch (FsException | IOException e) {
            count("seals failed under faults", 1);
        }
        if (ok && !disk.crashed()) {
            ledger.put(path, List.of(data));
            count("seals", 1);
            return;
        }
        List<byte[]> states = new ArrayList<>(before);
        states.add(data);
        if (before.contains(ABSENT)) states.add(new byte[0]);
        ledger.put(path, states);
    }

    private static void mkdirs(Store s, String dir) throws FsException {
        StringBuilder p = new StringBuilder();
        for (String c : dir.substring(1).split("/")) {
            p.append('/').append(c);
            if (!exists(s, p.toString())) s.mkdir(p.toString(), 0755, 0, 0);
        }
    }

    private static boolean exists(Store s, String path) throws FsException {
        try {
            s.stat(path);
            return true;
        } catch (FsException e) {
            if (e.errno() == io.excpfs.fs.ops.Errno.ENOENT) return false;
            throw e;
        }
    }

    private void rename(Store s, FaultyBlobs disk, String from, String to) {
        if (from.equals(to)) return;
        List<byte[]> moving = statesOf(from);
        List<byte[]> replaced = statesOf(to);
        boolean ok = false;
        try {
            s.rename(from, to, 0);
            ok = true;
        } catch (FsException e) {
            count("renames failed", 1);
        }
        if (ok && !disk.crashed()) {
            ledger.put(to, moving);
            ledger.put(from, List.of(ABSENT));
            count("renames", 1);
            return;
        }
        List<byte[]> t = new ArrayList<>(replaced);
        t.addAll(moving);
        ledger.put(to, t);
        List<byte[]> f = new ArrayList<>(moving);
        f.add(ABSENT);
        ledger.put(from, f);
    }

    private void unlink(Store s, FaultyBlobs disk, String path) {
        boolean ok = false;
        try {
            s.unlink(path);
            ok = true;
        } catch (FsException e) {
            count("unlinks failed", 1);
        }
        if (ok && !disk.crashed()) {
            ledger.put(path, List.of(ABSENT));
            count("unlinks", 1);
            return;
        }
        List<byte[]> states = new ArrayList<>(statesOf(path));
        states.add(ABSENT);
        ledger.put(path, states);
    }

    /**
     * Reads every ledger path: it must read as one of its states. With {@code mustSucceed}, a failed read is an
     * error too (no fault is injected any more); otherwise it counts as a fault reported.
     */
    private void readAll(Store s, boolean mustSucceed, String when) throws Exception {
        for (Map.Entry<String, List<byte[]>> e : ledger.entrySet()) {
            String path = e.getKey();
            byte[] got;
            try {
                got = read(s, path);
            } catch (FsException | IOException ex) {
                if (mustSucceed) throw new AssertionError(when + ": reading " + path + " failed: " + ex, ex);
                count("reads failed under faults (never wrong bytes)", 1);
                continue;
            }
            count("reads checked", 1);
            boolean match = false;
            for (byte[] state : e.getValue()) {
                if (state == ABSENT ? got == ABSENT : got != ABSENT && Arrays.equals(state, got)) match = true;
            }
            if (!match) {
                fail(when + ": " + path + " reads as " + (got == ABSENT ? "absent" : got.length + " bytes")
                        + ", none of its " + e.getValue().size() + " possible states (sizes "
                        + e.getValue().stream().map(b -> b == ABSENT ? "absent" : String.valueOf(b.length)).toList() + ")");
            }
        }
    }

    private static byte[] read(Store s, String path) throws FsException, IOException {
        if (!exists(s, path)) return ABSENT;
        try (VersionView v = s.openCurrent(path)) {
            if (v == null) return new byte[0];
            return v.read(0, (int) v.size());
        }
    }

    /** Damage at rest: a bit flipped in stored objects must make reads fail (never wrong bytes) and verify name it. */
    private void rotAndCheck(Store s, FaultyBlobs disk, Random r) throws Exception {
        List<String> objects = new ArrayList<>();
        for (String f : s.metadata().referencedObjectFiles()) {
            if (disk.hasData("objects/" + f)) objects.add("objects/" + f); // an empty file's object has no bit to flip
        }
        if (objects.isEmpty()) return;
        java.util.Collections.sort(objects);
        String victim = objects.get(r.nextInt(objects.size()));
        disk.rot(victim);
        count("objects rotted at rest", 1);
        readAll(s, false, "after a bit flipped at rest in " + victim);
        List<String> problems = s.verify(true);
        String id = victim.substring(victim.lastIndexOf('/') + 1, victim.lastIndexOf('.'));
        assertTrue(problems.stream().anyMatch(p -> p.contains(id)), "verify names the rotted object " + victim + ": " + problems);
        count("rotted objects named by verify", 1);
    }

}
