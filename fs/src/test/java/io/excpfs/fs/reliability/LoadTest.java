package io.excpfs.fs.reliability;

import io.excpfs.fs.fuse.MountFixture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.excpfs.fs.fuse.MountFixture.ok;
import static io.excpfs.fs.fuse.MountFixture.run;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Concurrent writers and readers on one mount, and a store on a full disk. */
@Tag("slow")
class LoadTest extends DaemonTest {

    static byte[] random(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void eightWritersAndEightReadersOnDifferentFilesSeeTheirOwnBytes() throws Exception {
        int threads = 8, rounds = 6;
        try (Daemon d = Daemon.start(store, mnt, log, "hot=1")) {
            byte[][] shared = new byte[threads][];
            for (int t = 0; t < threads; t++) {
                shared[t] = t % 2 == 0 ? Checkpoints.safetensors(100 + t, 1, 256, 256) : random(1000 + t, 700_000 + t);
                Files.write(mnt.resolve("shared-" + t + (t % 2 == 0 ? ".safetensors" : ".bin")), shared[t]);
            }
            ExecutorService pool = Executors.newFixedThreadPool(2 * threads);
            List<Future<Integer>> jobs = new ArrayList<>();
            try {
                for (int t = 0; t < threads; t++) {
                    int k = t;
                    jobs.add(pool.submit(() -> {
                        Path dir = Files.createDirectories(mnt.resolve("w" + k));
                        int checked = 0;
                        for (int round = 1; round <= rounds; round++) {
                            byte[] mine = k % 2 == 0 ? Checkpoints.safetensors(k, round, 128 + 64 * (round % 3), 256)
                                    : random(k * 100L + round, 50_000 + 300_000 * (round % 3));
                            Path p = dir.resolve(k % 2 == 0 ? "checkpoint-" + round + "/model.safetensors" : "ckpt.pt");
                            Files.createDirectories(p.getParent());
                            Files.write(p, mine);
                            assertArrayEquals(mine, Files.readAllBytes(p), "writer " + k + " round " + round);
                            checked++;
                        }
                        return checked;
                    }));
                    jobs.add(pool.submit(() -> {
                        int checked = 0;
                        for (int round = 0; round < rounds * 2; round++) {
                            int s = (k + round) % threads;
                            Path p = mnt.resolve("shared-" + s + (s % 2 == 0 ? ".safetensors" : ".bin"));
                            assertArrayEquals(shared[s], Files.readAllBytes(p), "reader " + k + " of " + p);
                            checked++;
                        }
                        return checked;
                    }));
                }
                int total = 0;
                for (Future<Integer> j : jobs) total += j.get(10, TimeUnit.MINUTES);
                System.out.println("LoadTest: " + total + " whole-file comparisons by " + 2 * threads + " threads");
            } finally {
                pool.shutdownNow();
            }
            ok(mnt, "sh", "-c", "echo > .excp/flush");
            for (int t = 0; t < threads; t += 2) {
                Path p = mnt.resolve("w" + t + "/checkpoint-1/model.safetensors");
                byte[] want = Checkpoints.safetensors(t, 1, 128 + 64, 256);
                byte[] got = Files.readAllBytes(p);
                assertEquals(want.length, got.length, "a demoted checkpoint keeps its size");
                int skel = Checkpoints.skeletonLength(want);
                assertArrayEquals(java.util.Arrays.copyOf(want, skel), java.util.Arrays.copyOf(got, skel),
                        "and its header");
            }
            d.unmount();
        }
        Daemon.Verdict v = Daemon.verify(store, true);
        assertEquals(0, v.exitCode(), v.output());
    }

    @Test
    void aFullBackingDiskGivesEnospcLosesNothingAndRecovers() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "mounting a tmpfs needs root");
        Path small = Files.createDirectories(tmp.resolve("small"));
        ok(tmp, "mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", small.toString());
        try {
            store = small.resolve("store");
            Map<String, byte[]> before = new LinkedHashMap<>();
            try (Daemon d = Daemon.start(store, mnt, tmp.resolve("daemon.log"), "hot=1")) {
                for (int i = 0; i < 6; i++) {
                    byte[] b = random(i, 2_000_000);
                    Files.write(mnt.resolve("kept-" + i + ".bin"), b);
                    before.put("kept-" + i + ".bin", b);
                }
                Files.writeString(mnt.resolve("note.txt"), "small");
                before.put("note.txt", "small".getBytes());

                IOException full = null;
                long written = 0;
                try (OutputStream out = Files.newOutputStream(mnt.resolve("huge.bin"))) {
                    byte[] chunk = random(99, 1 << 20);
                    for (int i = 0; i < 200; i++) {
                        out.write(chunk);
                        written += chunk.length;
                    }
                } catch (IOException e) {
                    full = e;
                }
                assertNotNull(full, "wrote " + written + " bytes to a 64 MiB disk without an error");
                assertTrue(String.valueOf(full.getMessage()).contains("No space left on device"), "ENOSPC: " + full);
                System.out.println("LoadTest: ENOSPC after " + written + " bytes: " + full.getMessage());

                for (Map.Entry<String, byte[]> e : before.entrySet()) {
                    assertArrayEquals(e.getValue(), Files.readAllBytes(mnt.resolve(e.getKey())), e.getKey() + " on a full disk");
                }
                try {
                    Files.delete(mnt.resolve("huge.bin"));
                } catch (NoSuchFileException ignored) {
                    // the failed write left no file
                }
                ok(mnt, "sh", "-c", "echo > .excp/flush");
                byte[] after = random(7, 5_000_000);
                Files.write(mnt.resolve("after.bin"), after);
                assertArrayEquals(after, Files.readAllBytes(mnt.resolve("after.bin")), "writes work again once space is freed");
                before.put("after.bin", after);
                d.unmount();
            }
            Daemon.Verdict v = Daemon.verify(store, true);
            assertEquals(0, v.exitCode(), v.output());
            try (Daemon d = Daemon.start(store, mnt, tmp.resolve("daemon.log"), "hot=1")) {
                for (Map.Entry<String, byte[]> e : before.entrySet()) {
                    assertArrayEquals(e.getValue(), Files.readAllBytes(mnt.resolve(e.getKey())), e.getKey() + " after remount");
                }
                d.unmount();
            }
        } finally {
            if (mnt != null) Daemon.assertNothingLeft(mnt);
            MountFixture.Result r = run(tmp, "umount", small.toString());
            assertEquals(0, r.exitCode(), "tmpfs unmount: " + r.output());
        }
    }
}
