package io.excpfs.fs.fuse;

import io.excpfs.fs.ops.Attr;
import io.excpfs.fs.ops.StatFs;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static io.excpfs.fs.fuse.KernelProtocol.*;
import static org.junit.jupiter.api.Assertions.*;

/** INIT negotiation and the byte layout of reply records, against include/uapi/linux/fuse.h. */
class KernelProtocolTest {
    /** Flags a 6.x kernel offers (its INIT request on this machine has all of these and more). */
    static final int OFFERED = ASYNC_READ | 1 << 1 | ATOMIC_O_TRUNC | EXPORT_SUPPORT | BIG_WRITES | DONT_MASK
            | AUTO_INVAL_DATA | WRITEBACK_CACHE | PARALLEL_DIROPS | MAX_PAGES | 1 << 30;

    static ByteBuffer buffer() { return ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN); }

    @Test
    void negotiatesOneMebibyteRequestsAndOnlyTheWantedFlags() {
        InitReply r = negotiate(new InitRequest(7, 44, 131072, OFFERED), Wanted.DEFAULT);
        assertEquals(7, r.major());
        assertEquals(38, r.minor(), "never more than the header this code was written against");
        assertEquals(1 << 20, r.maxWrite());
        assertEquals(256, r.maxPages());
        assertEquals(ASYNC_READ | ATOMIC_O_TRUNC | BIG_WRITES | PARALLEL_DIROPS | MAX_PAGES, r.flags());
        assertEquals(0, r.flags() & (WRITEBACK_CACHE | EXPORT_SUPPORT | DONT_MASK | AUTO_INVAL_DATA));
        assertEquals(131072, r.maxReadahead(), "the kernel's offer bounds read-ahead");
        assertEquals(1, r.timeGran());
    }

    @Test
    void aKernelWithoutMaxPagesGetsItsDefaultRequestSize() {
        InitReply r = negotiate(new InitRequest(7, 31, 1 << 20, OFFERED & ~MAX_PAGES), Wanted.DEFAULT);
        assertEquals(31, r.minor(), "the kernel's minor when older than ours");
        assertEquals(32, r.maxPages());
        assertEquals(128 * 1024, r.maxWrite());
        assertEquals(0, r.flags() & MAX_PAGES);
        assertEquals(1 << 20, r.maxReadahead());
    }

    @Test
    void refusesOtherMajorsAndTooOldMinors() {
        assertThrows(IllegalArgumentException.class, () -> negotiate(new InitRequest(8, 0, 0, OFFERED), Wanted.DEFAULT));
        assertThrows(IllegalArgumentException.class, () -> negotiate(new InitRequest(7, 26, 0, OFFERED), Wanted.DEFAULT));
    }

    @Test
    void writeOnlyOpensBypassThePageCacheOnlyWhereTheKernelKeepsThatCoherent() {
        assertTrue(directWrites(new InitRequest(7, 44, 0, OFFERED), Wanted.DEFAULT), "Linux 6.18");
        assertTrue(directWrites(new InitRequest(7, 39, 0, OFFERED), Wanted.DEFAULT), "Linux 6.6");
        assertFalse(directWrites(new InitRequest(7, 38, 0, OFFERED), Wanted.DEFAULT),
                "before 6.6 a direct write left other descriptors' cached pages stale");
        Wanted off = new Wanted(1 << 20, 1 << 20, 64, false);
        assertFalse(directWrites(new InitRequest(7, 44, 0, OFFERED), off), "-Dexcpfs.fuse.direct_writes=false");
    }

    @Test
    void invalInodeNotificationLayout() {
        ByteBuffer b = buffer();
        int n = invalInode(b, 42);
        assertEquals(40, n, "fuse_out_header + fuse_notify_inval_inode_out");
        assertEquals(40, b.getInt(0));
        assertEquals(2, b.getInt(4), "FUSE_NOTIFY_INVAL_INODE travels in the error field");
        assertEquals(0, b.getLong(8), "unique 0: unsolicited");
        assertEquals(42, b.getLong(16));
        assertEquals(0, b.getLong(24), "from offset 0");
        assertEquals(0, b.getLong(32), "length 0: to the end of the file");
    }

    @Test
    void initReplyLayout() {
        ByteBuffer b = buffer();
        int n = new InitReply(7, 38, 65536, 0x1234, 64, 48, 1 << 20, 1, 256).write(b, 16);
        assertEquals(64, n);
        assertEquals(7, b.getInt(16));
        assertEquals(38, b.getInt(20));
        assertEquals(65536, b.getInt(24));
        assertEquals(0x1234, b.getInt(28));
        assertEquals(64, b.getShort(32));
        assertEquals(48, b.getShort(34));
        assertEquals(1 << 20, b.getInt(36));
        assertEquals(1, b.getInt(40));
        assertEquals(256, b.getShort(44));
        for (int i = 48; i < 80; i += 4) assertEquals(0, b.getInt(i));
    }

    @Test
    void entryAndAttrLayout() {
        Attr a = new Attr(99, Attr.S_IFREG | 0644, 1, 1000, 100, 1025, 1_500_000_000L, -1L, 3_000_000_007L);
        ByteBuffer b = buffer();
        assertEquals(128, entry(b, 16, 42, a, 1, 2));
        assertEquals(42, b.getLong(16));
        assertEquals(0, b.getLong(24), "generation");
        assertEquals(1, b.getLong(32));
        assertEquals(2, b.getLong(40));
        int at = 16 + 40;
        assertEquals(42, b.getLong(at), "inode number = node id, as libfuse 2 without use_ino");
        assertEquals(1025, b.getLong(at + 8));
        assertEquals(3, b.getLong(at + 16), "512-byte blocks");
        assertEquals(1, b.getLong(at + 24));
        assertEquals(-1, b.getLong(at + 32), "a time before the epoch: seconds round down");
        assertEquals(999_999_999, b.getInt(at + 52), "... and nanoseconds stay positive");
        assertEquals(3, b.getLong(at + 40));
        assertEquals(500_000_000, b.getInt(at + 48));
        assertEquals(7, b.getInt(at + 56));
        assertEquals(Attr.S_IFREG | 0644, b.getInt(at + 60));
        assertEquals(1, b.getInt(at + 64));
        assertEquals(1000, b.getInt(at + 68));
        assertEquals(100, b.getInt(at + 72));
        assertEquals(4096, b.getInt(at + 80));
        ByteBuffer c = buffer();
        assertEquals(104, attrOut(c, 0, 42, a, 1));
        assertEquals(1, c.getLong(0));
        assertEquals(1025, c.getLong(16 + 8));
    }

    @Test
    void statfsAndOpenLayout() {
        ByteBuffer b = buffer();
        assertEquals(80, statfs(b, 0, new StatFs(4096, 100, 50, 40, 1000, 900, 255)));
        assertEquals(100, b.getLong(0));
        assertEquals(50, b.getLong(8));
        assertEquals(40, b.getLong(16));
        assertEquals(1000, b.getLong(24));
        assertEquals(900, b.getLong(32));
        assertEquals(4096, b.getInt(40));
        assertEquals(255, b.getInt(44));
        assertEquals(4096, b.getInt(48));
        assertEquals(16, openOut(b, 100, 7, FOPEN_KEEP_CACHE));
        assertEquals(7, b.getLong(100));
        assertEquals(2, b.getInt(108));
    }

    @Test
    void direntsAreAlignedAndStopWhenFull() {
        ByteBuffer b = buffer();
        byte[] name = "model.pt".getBytes(StandardCharsets.UTF_8);
        assertEquals(32, dirent(b, 0, 4096, name, 3));
        assertEquals(UNKNOWN_INO, b.getLong(0));
        assertEquals(3, b.getLong(8));
        assertEquals(8, b.getInt(16));
        assertEquals(0, b.getInt(20), "DT_UNKNOWN");
        assertEquals('m', b.get(24));
        assertEquals(40, dirent(b, 32, 4096, "model.pt1".getBytes(StandardCharsets.UTF_8), 4));
        assertEquals(0, b.get(32 + 24 + 9), "padding is zero");
        assertEquals(0, dirent(b, 72, 72 + 39, "model.pt1".getBytes(StandardCharsets.UTF_8), 5), "does not fit");
    }

    @Test
    void namesAreNulTerminatedUtf8() {
        ByteBuffer b = buffer();
        byte[] two = "alt\0neu-ü\0".getBytes(StandardCharsets.UTF_8);
        b.put(40, two);
        int end = 40 + two.length;
        assertEquals("alt", string(b, 40, end));
        int next = skipString(b, 40, end);
        assertEquals(44, next);
        assertEquals("neu-ü", string(b, next, end));
        assertEquals("abc", string(ByteBuffer.wrap("abc".getBytes(StandardCharsets.UTF_8)), 0, 3), "unterminated: up to the end");
    }
}
