package io.excpfs.fs.store.blob;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link BlobChannel#startWriteback} on a local file: the kernel writes the range out without an fsync, long
 * before its own 30 s dirty expiry would. Dirty pages are counted with cachestat(2) (Linux 6.5).
 */
class WritebackTest {
    @TempDir Path tmp;

    public interface Sys {
        int open(byte[] path, int flags);

        int close(int fd);

        /** cachestat(fd, &range, &stat, 0): syscall 451 on x86-64. */
        long syscall(long number, int fd, Pointer range, Pointer stat, int flags);
    }

    private static final Sys SYS = LibraryLoader.create(Sys.class).load("c");

    @Test
    void aStartedRangeIsWrittenOutWithoutAnFsync() throws Exception {
        Assumptions.assumeTrue("amd64".equals(System.getProperty("os.arch")), "cachestat's syscall number is for x86-64");
        LocalBlobs blobs = new LocalBlobs(tmp);
        byte[] data = new byte[32 << 20];
        new Random(3).nextBytes(data);
        try (BlobChannel ch = blobs.create("staging")) {
            ch.writeFully(ByteBuffer.wrap(data), 0);
            long dirty = dirtyPages(tmp.resolve("staging"));
            Assumptions.assumeTrue(dirty >= 0, "cachestat(2) needs Linux 6.5");
            assertTrue(dirty > 4096, "just written, most pages are dirty: " + dirty);
            ch.startWriteback(0, data.length);
            for (int i = 0; i < 200 && dirtyPages(tmp.resolve("staging")) > 0; i++) Thread.sleep(50);
            assertEquals(0, dirtyPages(tmp.resolve("staging")), "written out within 10 s, without fsync");
            ch.startWriteback(0, data.length);
            ch.force();
        }
        assertArrayEquals(data, Files.readAllBytes(tmp.resolve("staging")));
    }

    @Test
    void aHintAfterCloseIsHarmless() throws Exception {
        LocalBlobs blobs = new LocalBlobs(tmp);
        BlobChannel ch = blobs.create("x");
        ch.writeFully(ByteBuffer.wrap("abc".getBytes(StandardCharsets.UTF_8)), 0);
        ch.startWriteback(0, 3);
        ch.close();
        ch.startWriteback(0, 3);
        assertEquals("abc", Files.readString(tmp.resolve("x")));
    }

    /** Dirty pages of {@code file} (cachestat), or -1 where the call is missing. */
    private static long dirtyPages(Path file) {
        int fd = SYS.open((file + "\0").getBytes(StandardCharsets.UTF_8), 0);
        assertTrue(fd >= 0, "open " + file);
        try {
            jnr.ffi.Runtime rt = jnr.ffi.Runtime.getRuntime(SYS);
            Pointer range = Memory.allocateDirect(rt, 16, true);
            Pointer stat = Memory.allocateDirect(rt, 40, true);
            if (SYS.syscall(451, fd, range, stat, 0) != 0) return -1;
            return stat.getLong(8);
        } finally {
            SYS.close(fd);
        }
    }
}
