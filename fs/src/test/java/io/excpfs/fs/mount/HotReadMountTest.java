package io.excpfs.fs.mount;

import io.excpfs.fs.fuse.MountFixture;
import io.excpfs.fs.store.Damage;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * HOT reads through the kernel transport's reply buffer on a real mount: O_DIRECT preads reach the daemon with the
 * caller's offsets and sizes (unaligned, inside one block, across the short last block, at and past the end, up to
 * and beyond one 1 MiB request), from four threads at once, and all return the file's bytes; after a bit flips in
 * the object file, every read covering its block fails with EIO (or, split into several requests, returns only the
 * bytes before it) and the others still read.
 */
@Tag("slow")
class HotReadMountTest extends MountedStoreTest {
    private static final int BLOCK = 64 * 1024;

    /** argv: file, expected, seed, then offset:length pairs that must fail with EIO. Prints the reads checked. */
    private static final String READER = """
            import os, random, sys, threading, errno
            path, expected, seed = sys.argv[1], open(sys.argv[2], 'rb').read(), int(sys.argv[3])
            bad = [tuple(map(int, a.split(':'))) for a in sys.argv[4:]]
            size, B = len(expected), 65536
            def covers_bad(off, n):
                return any(o < off + n and off < o + l for o, l in bad)
            edges = [(0, 1), (1, 100), (B - 1, 2), (B, B), (B + 7, 3 * B), (5 * B + 17, 100), (100, 1 << 20),
                     (0, (1 << 20) + 4097), (size - 1, 1), (size - 3, 100), (size // B * B, B), (size, 10),
                     (size + 5, 10), (0, size)]
            failures, counts = [], [0]
            def check(fd, off, n):
                if covers_bad(off, min(n, max(0, size - off))):
                    try:
                        got = os.pread(fd, n, off)
                        # a read split into several requests returns what came before the failing one
                        if covers_bad(off, len(got)) or got != expected[off:off + len(got)]:
                            failures.append('read of %d at %d over a damaged block returned %d bytes' % (n, off, len(got)))
                    except OSError as e:
                        if e.errno != errno.EIO: failures.append('read of %d at %d: %s' % (n, off, e))
                    return
                got = os.pread(fd, n, off)
                if got != expected[off:off + n]:
                    failures.append('read of %d at %d: %d bytes, wrong' % (n, off, len(got)))
                counts[0] += 1
            def worker(k):
                fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
                try:
                    rnd = random.Random(seed * 10 + k)
                    for off, n in edges: check(fd, off, n)
                    for i in range(150):
                        off = rnd.randrange(size + 1000)
                        check(fd, off, rnd.randrange(1, 1300000 if i % 2 else 3 * B))
                finally:
                    os.close(fd)
            threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
            for t in threads: t.start()
            for t in threads: t.join()
            print('\\n'.join(failures[:10]) if failures else 'ok %d' % counts[0])
            """;

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void unalignedConcurrentAndDamagedReadsThroughTheMount() throws IOException {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "/usr/bin/python3 missing");
        byte[] data = random(3 * (1 << 20) + 4101, 21);
        Path expected = Files.write(tmp.resolve("expected"), data);
        Path file = mnt.resolve("ckpt.pt");
        Files.write(file, data);
        assertEquals("hot", StoreMountTest.py(tmp, "import os,sys; print(os.getxattr(sys.argv[1], 'user.excp.state').decode())",
                file.toString()));

        String clean = StoreMountTest.py(tmp, READER, file.toString(), expected.toString(), "1");
        assertTrue(clean.startsWith("ok "), clean);

        Path raw;
        try (Stream<Path> objects = Files.walk(tmp.resolve("store/objects"))) {
            raw = objects.filter(p -> p.toString().endsWith(".raw")).findFirst().orElseThrow();
        }
        int bad = 9, last = data.length / BLOCK;
        Damage.flipBit(raw, (long) bad * BLOCK + 1234);
        Damage.flipBit(raw, (long) last * BLOCK + 7);
        String damaged = StoreMountTest.py(tmp, READER, file.toString(), expected.toString(), "2",
                bad * BLOCK + ":" + BLOCK, last * BLOCK + ":" + (data.length - last * BLOCK));
        assertTrue(damaged.startsWith("ok "), damaged);
    }

}
