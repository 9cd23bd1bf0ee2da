package io.excpfs.fs.mount;

import io.excpfs.fs.fuse.MountFixture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static io.excpfs.fs.fuse.MountFixture.ok;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The store served through a real FUSE mount: shell tools, a differential test against a plain directory, torch. */
@Tag("slow")
class StoreMountTest extends MountedStoreTest {

    static String py(Path dir, String script, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", "-c", script));
        cmd.addAll(List.of(args));
        return ok(dir, cmd.toArray(String[]::new)).strip();
    }

    @Test
    void shellToolsHistoryXattrsAndFlush() throws IOException {
        Path src = tmp.resolve("src");
        Files.createDirectories(src.resolve("checkpoint-500"));
        Files.write(src.resolve("checkpoint-500/model.safetensors"), new byte[300_000]);
        Files.writeString(src.resolve("checkpoint-500/trainer_state.json"), "{}");
        ok(tmp, "touch", "-d", "2001-02-03 04:05:06 UTC", src.resolve("checkpoint-500/model.safetensors").toString());
        ok(tmp, "cp", "-rp", src.resolve("checkpoint-500").toString(), mnt.toString());
        assertEquals("981173106\n", ok(mnt, "stat", "-c", "%Y", "checkpoint-500/model.safetensors"), "cp -p keeps mtime");
        ok(mnt, "mv", "checkpoint-500", "checkpoint-1000");
        assertEquals("300000\n", ok(mnt, "stat", "-c", "%s", "checkpoint-1000/model.safetensors"));
        assertEquals("model.safetensors\ntrainer_state.json\n", ok(mnt, "ls", "checkpoint-1000"));
        ok(mnt, "ln", "-s", "checkpoint-1000", "latest");
        assertEquals("{}", Files.readString(mnt.resolve("latest/trainer_state.json")));
        assertEquals("hot", py(mnt, "import os,sys; print(os.getxattr(sys.argv[1], 'user.excp.state').decode())",
                "checkpoint-1000/model.safetensors"));
        String names = py(mnt, "import os,sys; print(sorted(os.listxattr(sys.argv[1])))", "latest/trainer_state.json");
        assertTrue(names.contains("user.excp.lineage"), names);
        py(mnt, "import os,sys; os.setxattr(sys.argv[1], 'user.note', b'v'); print(os.getxattr(sys.argv[1], 'user.note'))",
                "latest/trainer_state.json");
        Files.writeString(mnt.resolve("checkpoint-1000/trainer_state.json"), "{\"step\": 1000}");
        ok(tmp, "rm", "-rf", mnt.resolve("checkpoint-1000").toString());
        assertEquals("latest\n", ok(mnt, "ls"));
        String history = ok(mnt, "ls", "-R", ".excp/history");
        assertTrue(history.contains("model.safetensors@") && history.contains("trainer_state.json@"), history);
        assertEquals(0, MountFixture.run(mnt, "sh", "-c", "echo > .excp/flush").exitCode());
        assertNotEquals(0, MountFixture.run(mnt, "sh", "-c", "echo x > .excp/history/nope").exitCode());
        assertEquals(0, new picocli.CommandLine(new io.excpfs.fs.cli.FlushCommand()).execute(mnt.toString()));
    }

    @Test
    void seeksAndReadsOfAnUnlinkedOpenFileKeepWorking() throws IOException {
        String script = """
                import os, sys
                p = os.path.join(sys.argv[1], 'gone.pt')
                with open(p, 'wb') as f:
                    f.write(b'x' * 300000)
                r = open(p, 'rb')
                w = open(os.path.join(sys.argv[1], 'w.pt'), 'wb')
                w.write(b'y' * 1000); w.flush()
                os.unlink(p)
                os.unlink(os.path.join(sys.argv[1], 'w.pt'))
                w.write(b'z' * 24); w.flush()
                end = r.seek(0, 2); r.seek(0)
                print(end, len(r.read()), w.seek(0, 2))
                r.close(); w.close()
                import shutil
                os.makedirs(os.path.join(sys.argv[1], 'checkpoint-5'))
                with open(os.path.join(sys.argv[1], 'checkpoint-5', 'model.safetensors'), 'wb') as f:
                    f.write(b'm' * 1000)
                held = open(os.path.join(sys.argv[1], 'checkpoint-5', 'model.safetensors'), 'rb')
                shutil.rmtree(os.path.join(sys.argv[1], 'checkpoint-5'))
                print(len(held.read()), sorted(os.listdir(sys.argv[1])))
                held.close()
                """;
        assertEquals("300000 300000 1024\n1000 []", py(tmp, script, mnt.toString()),
                "rmtree while a reader holds a file works (no .fuse_hidden files listed or left)");
    }

    @Test
    void aReaderKeepsItsVersionWhileTheFileIsReplaced() throws IOException {
        byte[] v1 = new byte[1 << 20], v2 = new byte[1 << 20];
        new Random(1).nextBytes(v1);
        new Random(2).nextBytes(v2);
        Files.write(mnt.resolve("ckpt.pt"), v1);
        try (var in = Files.newInputStream(mnt.resolve("ckpt.pt"))) {
            byte[] head = in.readNBytes(1000);
            Files.write(mnt.resolve("ckpt.pt.tmp"), v2);
            Files.move(mnt.resolve("ckpt.pt.tmp"), mnt.resolve("ckpt.pt"), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            byte[] rest = in.readAllBytes();
            byte[] got = new byte[head.length + rest.length];
            System.arraycopy(head, 0, got, 0, head.length);
            System.arraycopy(rest, 0, got, head.length, rest.length);
            assertArrayEquals(v1, got);
        }
        assertArrayEquals(v2, Files.readAllBytes(mnt.resolve("ckpt.pt")));
    }

    @Test
    void manyConcurrentReadersAndWriters() throws Exception {
        byte[] shared = new byte[2 << 20];
        new Random(9).nextBytes(shared);
        Files.write(mnt.resolve("shared.pt"), shared);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(16);
        try {
            List<java.util.concurrent.Future<?>> jobs = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                int k = i;
                jobs.add(pool.submit(() -> {
                    if (k % 2 == 0) {
                        assertArrayEquals(shared, Files.readAllBytes(mnt.resolve("shared.pt")));
                    } else {
                        byte[] mine = new byte[(1 << 20) + k];
                        new Random(k).nextBytes(mine);
                        Files.createDirectories(mnt.resolve("w" + k));
                        Files.write(mnt.resolve("w" + k + "/ckpt.pt"), mine);
                        assertArrayEquals(mine, Files.readAllBytes(mnt.resolve("w" + k + "/ckpt.pt")));
                    }
                    return null;
                }));
            }
            for (var j : jobs) j.get();
        } finally {
            pool.shutdownNow();
        }
        try (var s = Files.list(mnt)) {
            assertEquals(9, s.count());
        }
    }

    /** The same random file operations on the mount and on a plain directory give the same results and bytes. */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void differentialAgainstAPlainDirectory(long seed) throws IOException {
        Path plain = tmp.resolve("plain");
        Files.createDirectories(plain);
        Random r = new Random(seed);
        List<String> log = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            String a = randomPath(r), b = randomPath(r);
            int op = r.nextInt(12);
            byte[] data = new byte[r.nextInt(4) == 0 ? r.nextInt(300_000) : r.nextInt(5000)];
            r.nextBytes(data);
            long at = r.nextInt(400_000);
            String outcomeMount = apply(mnt, op, a, b, data, at);
            String outcomePlain = apply(plain, op, a, b, data, at);
            log.add(i + ": op " + op + " " + a + " " + b + " len " + data.length + " at " + at + " -> " + outcomePlain);
            assertEquals(outcomePlain, outcomeMount, "step " + i + " differs; log:\n" + String.join("\n", log));
        }
        assertEquals(tree(plain), tree(mnt), () -> "log:\n" + String.join("\n", log));
    }

    private static String randomPath(Random r) {
        String[] dirs = {"", "d1/", "d2/", "d1/e/"};
        String[] names = {"ckpt.pt", "model.safetensors", "tmp", "épique-名前", "x".repeat(200)};
        return dirs[r.nextInt(dirs.length)] + names[r.nextInt(names.length)];
    }

    /** One operation; returns what happened (the exception type, or data read), comparable across file systems. */
    private static String apply(Path root, int op, String a, String b, byte[] data, long at) {
        Path pa = root.resolve(a), pb = root.resolve(b);
        try {
            switch (op) {
                case 0, 1 -> Files.write(pa, data);
                case 2 -> Files.write(pa, data, StandardOpenOption.APPEND);
                case 3 -> {
                    try (RandomAccessFile f = new RandomAccessFile(pa.toFile(), "rw")) {
                        f.seek(Math.min(at, f.length() + 10));
                        f.write(data, 0, Math.min(data.length, 100));
                    }
                }
                case 4 -> {
                    try (RandomAccessFile f = new RandomAccessFile(pa.toFile(), "rw")) {
                        f.setLength(at % 10_000);
                    }
                }
                case 5 -> Files.move(pa, pb, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                case 6 -> Files.createDirectories(pa.getParent());
                case 7 -> Files.delete(pa);
                case 8 -> {
                    return Integer.toHexString(java.util.Arrays.hashCode(Files.readAllBytes(pa)));
                }
                case 9 -> Files.delete(pa.getParent().equals(root) ? pa : pa.getParent());
                case 10 -> Files.createSymbolicLink(pa, Path.of(b));
                case 11 -> Files.setPosixFilePermissions(pa, java.nio.file.attribute.PosixFilePermissions.fromString(
                        (at & 1) == 0 ? "rw-------" : "rwxr-x---"));
                default -> throw new AssertionError(op);
            }
            return "ok";
        } catch (DirectoryNotEmptyException e) {
            return "ENOTEMPTY";
        } catch (java.nio.file.NoSuchFileException e) {
            return "ENOENT";
        } catch (FileSystemException e) {
            return e.getClass().getSimpleName() + ":" + e.getReason();
        } catch (IOException e) {
            String m = e.getMessage() == null ? "" : e.getMessage();
            return e.getClass().getSimpleName() + ":" + m.substring(m.lastIndexOf('(') + 1);
        }
    }

    private static TreeMap<String, String> tree(Path root) throws IOException {
        TreeMap<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                String rel = root.relativize(p).toString();
                String perms = java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
                if (Files.isSymbolicLink(p)) out.put(rel, "-> " + Files.readSymbolicLink(p));
                else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) out.put(rel, "dir " + perms);
                else out.put(rel, perms + " " + Files.size(p) + ":" + java.util.Arrays.hashCode(Files.readAllBytes(p)));
            }
        }
        return out;
    }

    @Test
    void torchSaveAndLoadRoundTripThroughTheMount() throws IOException {
        assumeTrue(MountFixture.hasTorch(), "/usr/bin/python3 with torch missing");
        String script = """
                import sys, torch, os
                d = sys.argv[1]
                torch.manual_seed(0)
                m = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 8))
                opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
                for step in range(3):
                    loss = m(torch.randn(16, 64)).pow(2).mean()
                    loss.backward(); opt.step(); opt.zero_grad()
                    ck = {'model': m.state_dict(), 'optimizer': opt.state_dict(), 'iter_num': step}
                    torch.save(ck, os.path.join(d, 'ckpt.pt'))
                back = torch.load(os.path.join(d, 'ckpt.pt'))
                assert back['iter_num'] == 2
                for k, v in m.state_dict().items():
                    assert torch.equal(v, back['model'][k]), k
                for i, s in opt.state_dict()['state'].items():
                    assert torch.equal(s['exp_avg'], back['optimizer']['state'][i]['exp_avg'])
                os.makedirs(os.path.join(d, 'checkpoint-3'), exist_ok=True)
                torch.save(m.state_dict(), os.path.join(d, 'checkpoint-3', 'pytorch_model.bin'))
                sd = torch.load(os.path.join(d, 'checkpoint-3', 'pytorch_model.bin'))
                assert all(torch.equal(sd[k], v) for k, v in m.state_dict().items())
                print(len(os.listdir(os.path.join(d, '.excp', 'history'))))
                """;
        assertEquals("2", py(tmp, script, mnt.toString()), "two overwritten ckpt.pt versions are in history");
    }

    /** Bytes of {@code file} the kernel holds in its page cache (fincore opens the file read-only itself). */
    private static long residentBytes(Path file) throws IOException {
        String out = ok(file.getParent(), "fincore", "--bytes", "--noheadings", "--output", "RES", file.toString());
        return Long.parseLong(out.strip());
    }

    @Test
    void pageCacheIsKeptAcrossOpensOfOneVersionAndNeverServesAnOlderOne() throws IOException {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/fincore")), "fincore (util-linux) missing");
        Path f = mnt.resolve("ckpt.pt");
        Random r = new Random(7);
        byte[] a = new byte[1 << 20], b = new byte[1 << 20];
        r.nextBytes(a);
        r.nextBytes(b);

        Files.write(f, a);
        assertArrayEquals(a, Files.readAllBytes(f));
        assertEquals(a.length, residentBytes(f), "a second open of the same version keeps the pages read before");
        assertArrayEquals(a, Files.readAllBytes(f));

        Files.write(f, b);
        assertArrayEquals(b, Files.readAllBytes(f), "overwritten with the same size: the new bytes, not cached ones");
        assertArrayEquals(b, Files.readAllBytes(f));
        try (RandomAccessFile w = new RandomAccessFile(f.toFile(), "rw")) {
            w.write(a, 0, 4096);
        }
        byte[] patched = b.clone();
        System.arraycopy(a, 0, patched, 0, 4096);
        assertArrayEquals(patched, Files.readAllBytes(f), "patched in place");

        String old = ok(mnt, "ls", ".excp/history").lines().filter(n -> n.startsWith("ckpt.pt@"))
                .min(java.util.Comparator.comparingLong(n -> Long.parseLong(n.substring(n.indexOf('@') + 1))))
                .orElseThrow();
        Path history = mnt.resolve(".excp/history").resolve(old);
        assertArrayEquals(a, Files.readAllBytes(history));
        assertArrayEquals(a, Files.readAllBytes(history));
        assertEquals(a.length, residentBytes(history));
        assertArrayEquals(patched, Files.readAllBytes(f));
    }
}
