package io.excpfs.fs.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.excpfs.fs.store.blob.Blobs;
import io.excpfs.fs.store.blob.LocalBlobs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Sums kept while writing equal the sums of the file read back, whatever the write pattern. */
class StagingChecksumsTest {
    @TempDir Path tmp;

    /** Applies each write to the file and the sums, as Draft does. */
    private static void write(FileChannel ch, StagingChecksums sums, long at, byte[] data, int off, int len) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(data, off, len);
        while (b.hasRemaining()) ch.write(b, at + b.position() - off);
        sums.written(at, ByteBuffer.wrap(data, off, len));
    }

    @Test
    void sequentialWritesOfAnySizeAreSummedWithoutRereading() throws IOException {
        long seed = System.nanoTime();
        Random r = new Random(seed);
        for (int round = 0; round < 20; round++) {
            Path p = tmp.resolve("seq" + round);
            byte[] data = new byte[r.nextInt(400_000)];
            r.nextBytes(data);
            StagingChecksums sums = new StagingChecksums();
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                for (int off = 0; off < data.length; ) {
                    int n = Math.min(data.length - off, 1 + r.nextInt(r.nextBoolean() ? 200_000 : 5000));
                    write(ch, sums, off, data, off, n);
                    off += n;
                }
            }
            assertEquals(data.length, sums.summedBytes(), "seed " + seed);
            assertSums(p, sums, "seed " + seed);
        }
    }

    /**
     * Random writes (behind, at and past the summed prefix), truncations and extensions, and a direct buffer:
     * the sums still match the file (the seal reads what was not seen in order).
     */
    @Test
    void anyMixOfWritesAndTruncationsMatchesTheFile() throws IOException {
        long seed = System.nanoTime();
        Random r = new Random(seed);
        for (int round = 0; round < 40; round++) {
            Path p = tmp.resolve("mix" + round);
            StagingChecksums sums = new StagingChecksums();
            long size = 0;
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
                for (int op = 0; op < 30; op++) {
                    int kind = r.nextInt(10);
                    if (kind < 6) {
                        long at = kind < 3 ? size : (long) (r.nextDouble() * (size + 70_000));
                        byte[] data = new byte[1 + r.nextInt(150_000)];
                        r.nextBytes(data);
                        if (kind == 5) {
                            ByteBuffer direct = ByteBuffer.allocateDirect(data.length).put(data).flip();
                            while (direct.hasRemaining()) ch.write(direct, at + direct.position());
                            sums.written(at, direct.flip());
                        } else {
                            write(ch, sums, at, data, 0, data.length);
                        }
                        size = Math.max(size, at + data.length);
                    } else if (kind < 8) {
                        long to = (long) (r.nextDouble() * size);
                        sums.truncated(to);
                        ch.truncate(to);
                        size = to;
                    } else {
                        long to = size + r.nextInt(100_000);
                        sums.truncated(Math.min(size, to));
                        if (to > size) ch.write(ByteBuffer.allocate(1), to - 1);
                        size = to;
                    }
                }
            }
            assertEquals(size, Files.size(p));
            assertSums(p, sums, "seed " + seed + " round " + round);
        }
    }

    private static void assertSums(Path p, StagingChecksums sums, String what) throws IOException {
        Blobs blobs = new LocalBlobs(p.getParent());
        String name = p.getFileName().toString();
        BlockSums expected = BlockSums.compute(blobs, name), got = sums.finish(blobs, name);
        assertEquals(expected.rawSize(), got.rawSize(), what);
        assertArrayEquals(expected.crcs(), got.crcs(), what);
    }
}
