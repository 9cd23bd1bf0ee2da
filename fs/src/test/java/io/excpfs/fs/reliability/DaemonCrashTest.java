package io.excpfs.fs.reliability;

import io.excpfs.fs.fuse.MountFixture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * kill -9 of the mount daemon at random moments while a writer creates checkpoints, fsyncs, renames and deletes, with
 * hot=1 so every new checkpoint demotes the previous one in the background, and keep_last=1 so deleted checkpoints
 * are dropped by retention and their hidden bases re-seeded by compaction while the kills land. A ledger holds what the writer saw as
 * durable; after each remount every entry must read back (exact, or for a COLD checkpoint: same size and header),
 * the operation cut by the kill must show its old or its new state and nothing in between, and verify must pass.
 */
@Tag("slow")
class DaemonCrashTest extends DaemonTest {
    static final int ITERATIONS = Integer.getInteger("excpfs.crash.iterations", 15);
    static final String OPTIONS = "hot=1,encode_threads=1,keep_last=1";


    /** Acceptable contents of one path; {@code null} stands for "absent". */
    private final Map<String, List<byte[]>> ledger = new TreeMap<>();
    private final Map<String, Integer> cutOps = new TreeMap<>();
    private int coldSeen, opsDone;

    private void durable(String path, byte[] content) {
        ledger.put(path, single(content));
    }

    private static List<byte[]> single(byte[] content) {
        List<byte[]> l = new ArrayList<>();
        l.add(content);
        return l;
    }

    /** While an operation runs, a path may show any of these (its previous durable state is kept). */
    private void inFlight(String path, byte[]... states) {
        List<byte[]> l = ledger.computeIfAbsent(path, k -> single(null));
        l.addAll(Arrays.asList(states));
    }

    private byte[] current(String path) {
        List<byte[]> l = ledger.get(path);
        return l == null ? null : l.get(0);
    }

    @Test
    void killNineAtRandomMomentsLosesNothingDurableAndTearsNothing() throws Exception {
        long seed = Long.getLong("excpfs.crash.seed", System.nanoTime());
        Random r = new Random(seed);
        int[] step = {0};
        try {
            for (int it = 0; it < ITERATIONS; it++) {
                try (Daemon d = Daemon.start(store, mnt, log, OPTIONS)) {
                    checkLedger("iteration " + it + " (seed " + seed + ")");
                    long delay = 300 + r.nextInt(4000);
                    Thread killer = new Thread(() -> {
                        try {
                            Thread.sleep(delay);
                            d.kill9();
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    });
                    killer.start();
                    String cut = writeUntilKilled(r, step);
                    killer.join();
                    cutOps.merge(cut, 1, Integer::sum);
                }
                Daemon.Verdict v = Daemon.verify(store, true);
                assertEquals(0, v.exitCode(), "verify --deep after kill " + it + " (seed " + seed + "):\n" + v.output());
            }
            try (Daemon d = Daemon.start(store, mnt, log, OPTIONS)) {
                checkLedger("final (seed " + seed + ")");
                MountFixture.ok(mnt, "sh", "-c", "echo > .excp/flush");
                d.unmount();
            }
            Daemon.Verdict v = Daemon.verify(store, true);
            assertEquals(0, v.exitCode(), "verify --deep at the end (seed " + seed + "):\n" + v.output());
            try (Stream<Path> s = Files.list(store.resolve("staging"))) {
                assertEquals(0, s.count(), "staging is empty after a clean unmount");
            }
        } finally {
            System.out.println("DaemonCrashTest seed " + seed + ": " + ITERATIONS + " kills, " + opsDone
                    + " completed operations, operation cut by each kill: " + cutOps + ", COLD files read back: " + coldSeen
                    + ", ledger paths: " + ledger.size() + "; recovery at remount: " + recoveries());
        }
    }

    /** What the daemons' recovery found, from their log: each line is a kill that landed inside that work. */
    private String recoveries() {
        try {
            List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
            long encodes = lines.stream().filter(l -> l.contains("left by an interrupted write") && l.contains(".excp")).count();
            long seals = lines.stream().filter(l -> l.contains("left by an interrupted write") && l.contains(".raw")).count();
            long staging = lines.stream().filter(l -> l.contains("dropping unsealed staging file")).count();
            return encodes + " interrupted encodes (.excp written, not committed), " + seals
                    + " interrupted seals (.raw written, not committed), " + staging + " unsealed staging files dropped";
        } catch (IOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }

    /** Random operations until the daemon dies under them; returns the name of the operation that was cut. */
    private String writeUntilKilled(Random r, int[] step) {
        String op = "none";
        try {
            Files.createDirectories(mnt.resolve("run"));
            while (true) {
                int choice = r.nextInt(11);
                if (choice < 4) {
                    op = "checkpoint";
                    int s = ++step[0];
                    String dir = "run/checkpoint-" + s;
                    byte[] model = Checkpoints.safetensors(7, s, 128 + r.nextInt(3) * 64, 256);
                    byte[] state = ("{\"global_step\": " + s + "}").getBytes(StandardCharsets.UTF_8);
                    inFlight(dir + "/model.safetensors", EMPTY, model);
                    inFlight(dir + "/trainer_state.json", EMPTY, state);
                    Files.createDirectories(mnt.resolve(dir));
                    Files.write(mnt.resolve(dir + "/model.safetensors"), model);
                    durable(dir + "/model.safetensors", model);
                    Files.write(mnt.resolve(dir + "/trainer_state.json"), state);
                    durable(dir + "/trainer_state.json", state);
                } else if (choice < 6) {
                    op = "fsync";
                    String p = "run/log-" + r.nextInt(3) + ".bin";
                    byte[] first = new byte[1000 + r.nextInt(200_000)], more = new byte[r.nextInt(100_000)];
                    r.nextBytes(first);
                    r.nextBytes(more);
                    byte[] both = concat(first, more);
                    inFlight(p, new byte[0], first, both);
                    try (FileChannel ch = FileChannel.open(mnt.resolve(p), StandardOpenOption.CREATE,
                            StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                        write(ch, first);
                        ch.force(true);
                        durable(p, first);
                        inFlight(p, both);
                        write(ch, more);
                    }
                    durable(p, both);
                } else if (choice < 8) {
                    op = "rename";
                    String name = Checkpoints.TORCH_FIXTURES.get(r.nextInt(Checkpoints.TORCH_FIXTURES.size()));
                    byte[] data = Checkpoints.fixture(name);
                    if (r.nextBoolean()) data = concat(data, new byte[] {(byte) r.nextInt()});
                    inFlight("run/ckpt.pt.tmp", EMPTY, data);
                    Files.write(mnt.resolve("run/ckpt.pt.tmp"), data);
                    durable("run/ckpt.pt.tmp", data);
                    inFlight("run/ckpt.pt", data);
                    inFlight("run/ckpt.pt.tmp", (byte[]) null);
                    Files.move(mnt.resolve("run/ckpt.pt.tmp"), mnt.resolve("run/ckpt.pt"),
                            StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    durable("run/ckpt.pt", data);
                    durable("run/ckpt.pt.tmp", null);
                } else if (choice == 10) {
                    op = "dir-rename";
                    String victim = ledger.keySet().stream().filter(k -> k.startsWith("run/checkpoint-") && current(k) != null)
                            .reduce((a, b) -> b).orElse(null);
                    if (victim == null) continue;
                    String dir = victim.substring(0, victim.lastIndexOf('/'));
                    String to = "run/checkpoint-" + (++step[0]);
                    List<String> files = List.of("model.safetensors", "trainer_state.json");
                    for (String f : files) {
                        byte[] c = current(dir + "/" + f);
                        inFlight(dir + "/" + f, (byte[]) null);
                        inFlight(to + "/" + f, c);
                    }
                    Files.move(mnt.resolve(dir), mnt.resolve(to), StandardCopyOption.ATOMIC_MOVE);
                    for (String f : files) {
                        byte[] c = current(dir + "/" + f);
                        durable(to + "/" + f, c);
                        durable(dir + "/" + f, null);
                    }
                } else {
                    op = "delete";
                    String victim = ledger.keySet().stream().filter(k -> k.startsWith("run/checkpoint-") && current(k) != null)
                            .findFirst().orElse(null);
                    if (victim == null) continue;
                    String dir = victim.substring(0, victim.lastIndexOf('/'));
                    for (String f : List.of("model.safetensors", "trainer_state.json")) {
                        inFlight(dir + "/" + f, (byte[]) null);
                        Files.deleteIfExists(mnt.resolve(dir + "/" + f));
                        durable(dir + "/" + f, null);
                    }
                    Files.delete(mnt.resolve(dir));
                }
                opsDone++;
            }
        } catch (IOException | RuntimeException e) {
            return op;
        }
    }

    private void checkLedger(String when) throws IOException {
        for (Map.Entry<String, List<byte[]>> e : new ArrayList<>(ledger.entrySet())) {
            String path = e.getKey();
            Path p = mnt.resolve(path);
            byte[] got;
            try {
                got = Files.readAllBytes(p);
            } catch (NoSuchFileException absent) {
                got = null;
            } catch (IOException io) {
                throw new AssertionError(when + ": reading " + path + " failed: " + io + "\n" + Daemon.tail(log), io);
            }
            byte[] matched = match(p, got, e.getValue());
            if (matched == NO_MATCH) {
                fail(when + ": " + path + " holds " + (got == null ? "nothing" : got.length + " bytes") + ", expected one of "
                        + e.getValue().stream().map(b -> b == null ? "absent" : b.length + " bytes").toList());
            }
            ledger.put(path, single(matched));
        }
    }

    private static final byte[] NO_MATCH = new byte[0];
    /** A file created but not yet written: the state between open(O_CREAT|O_TRUNC) and the first sealed write. */
    private static final byte[] EMPTY = new byte[0];

    private byte[] match(Path p, byte[] got, List<byte[]> candidates) throws IOException {
        for (byte[] c : candidates) {
            if (c == null ? got == null : got != null && Arrays.equals(c, got)) return c;
        }
        if (got == null || !p.toString().endsWith(".safetensors") || !"cold".equals(state(p))) return NO_MATCH;
        for (byte[] c : candidates) {
            if (c == null || c.length != got.length) continue;
            int skel = Checkpoints.skeletonLength(c);
            if (Arrays.equals(c, 0, skel, got, 0, skel)) {
                coldSeen++;
                return c;
            }
        }
        return NO_MATCH;
    }

    static String state(Path p) throws IOException {
        UserDefinedFileAttributeView v = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class);
        ByteBuffer b = ByteBuffer.allocate(64);
        v.read("excp.state", b);
        return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
    }

    private static void write(FileChannel ch, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(data);
        while (b.hasRemaining()) ch.write(b);
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
