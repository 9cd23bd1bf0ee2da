package io.excpfs.fs.mount;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The data path through a real mount: the warm-up calls the mount's callbacks without the kernel and stores
 * nothing; writes behind the FUSE thread and direct reads give back exactly
 * what was written, through a descriptor that stays open across the seal.
 */
@Tag("slow")
class DataPathMountTest extends MountedStoreTest {
    @Test
    void theWarmUpCallsTheCallbacksAndStoresNothing() throws Exception {
        assertEquals(0, MountWarmUp.run(mount, fs, 300), "every call through the native entry points succeeded");
        assertEquals(0, fs.store().versions().size());
        try (var names = Files.list(mnt.resolve(".excp"))) {
            assertEquals(2, names.count(), "flush and history only");
        }
        try (var root = Files.list(mnt)) {
            assertEquals(0, root.count());
        }
        byte[] data = new byte[3 << 20];
        new Random(3).nextBytes(data);
        Files.write(mnt.resolve("model.safetensors"), data);
        assertEquals(0, MountWarmUp.run(mount, fs, 300), "the second pass reads the HOT file's first megabyte");
        assertEquals(1, fs.store().versions().size(), "reads only");
        assertArrayEquals(data, Files.readAllBytes(mnt.resolve("model.safetensors")));
    }

    private static byte[] readDirect(Path f) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocateDirect(131072 + 4096).alignedSlice(4096);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, com.sun.nio.file.ExtendedOpenOption.DIRECT)) {
            for (long pos = 0; ; ) {
                buf.clear().limit(131072);
                int n = ch.read(buf, pos);
                if (n <= 0) return out.toByteArray();
                byte[] b = new byte[n];
                buf.flip().get(b);
                out.writeBytes(b);
                pos += n;
                if (n < 131072) return out.toByteArray();
            }
        }
    }

    @Test
    void writesBehindAndDirectReadsRoundTripThroughTheKernel() throws IOException {
        byte[] data = new byte[5_000_011];
        new Random(5).nextBytes(data);
        Path f = mnt.resolve("ckpt.pt");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            ByteBuffer src = ByteBuffer.wrap(data);
            while (src.hasRemaining()) {
                int n = Math.min(src.remaining(), 1 << 20);
                ByteBuffer part = src.slice(src.position(), n);
                while (part.hasRemaining()) ch.write(part, src.position() + part.position());
                src.position(src.position() + n);
            }
            ByteBuffer back = ByteBuffer.allocate(4096);
            ch.read(back, 3_000_000);
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 3_000_000, 3_004_096), back.array(), "reads see unsealed writes");
            ch.force(true);
        }
        assertArrayEquals(data, Files.readAllBytes(f));
        assertArrayEquals(data, readDirect(f), "O_DIRECT: every byte served by the daemon, not the page cache");
    }
}
