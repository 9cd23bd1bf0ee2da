package io.excpfs.fs.store;

import io.excpfs.fs.store.blob.BlobChannel;
import io.excpfs.fs.store.blob.Blobs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The checksum file of a HOT object: one CRC32C per {@link #BLOCK} bytes of the raw file, so a read verifies only
 * the blocks it touches. Grammar (little-endian), see docs/store-format.md:
 * {@code "EXCPSUM\0" u32 version=1, u32 blockSize, u64 rawSize, u32 blockCount, u32 crc32c[blockCount], u32 crc32c(all previous bytes)}.
 */
record BlockSums(int blockSize, long rawSize, int[] crcs) {
    static final int BLOCK = 64 * 1024;
    static final int VERSION = 1;
    private static final byte[] MAGIC = "EXCPSUM\0".getBytes(StandardCharsets.US_ASCII);

    static BlockSums compute(Blobs blobs, String raw) throws IOException {
        try (BlobChannel ch = blobs.open(raw, false)) {
            long size = ch.size();
            long blocks = (size + BLOCK - 1) / BLOCK;
            if (blocks > Integer.MAX_VALUE) throw new IOException("file too large: " + raw);
            int[] crcs = new int[(int) blocks];
            ByteBuffer buf = ByteBuffer.allocate(BLOCK);
            for (int i = 0; i < crcs.length; i++) {
                buf.clear();
                long pos = (long) i * BLOCK;
                buf.limit((int) Math.min(BLOCK, size - pos));
                readFully(ch, buf, pos, raw);
                crcs[i] = crc(buf.array(), 0, buf.limit());
            }
            return new BlockSums(BLOCK, size, crcs);
        }
    }

    static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    static void readFully(BlobChannel ch, ByteBuffer buf, long pos, String name) throws IOException {
        long at = pos;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, at);
            if (n < 0) throw new CorruptDataException(name + ": truncated, end of file at offset " + at);
            at += n;
        }
    }

    byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(8 + 4 + 4 + 8 + 4 + 4 * crcs.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(VERSION).putInt(blockSize).putLong(rawSize).putInt(crcs.length);
        for (int c : crcs) b.putInt(c);
        b.putInt(crc(b.array(), 0, b.position()));
        return b.array();
    }

    static BlockSums decode(byte[] data, String name) throws CorruptDataException {
        if (data.length < 32) throw new CorruptDataException(name + ": checksum file truncated (" + data.length + " bytes)");
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[8];
        b.get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) throw new CorruptDataException(name + ": not a checksum file (bad magic at offset 0)");
        int version = b.getInt();
        if (version > VERSION) throw new CorruptDataException(name + ": checksum file version " + version + " is too new (max " + VERSION + ")");
        if (version < 1) throw new CorruptDataException(name + ": checksum file version " + version + " is invalid");
        int blockSize = b.getInt();
        long rawSize = b.getLong();
        int n = b.getInt();
        if (blockSize <= 0 || n < 0 || rawSize < 0 || data.length != 32 + 4L * n
                || (rawSize + blockSize - 1) / blockSize != n) {
            throw new CorruptDataException(name + ": checksum file structure is inconsistent");
        }
        int[] crcs = new int[n];
        for (int i = 0; i < n; i++) crcs[i] = b.getInt();
        int stored = b.getInt();
        if (crc(data, 0, data.length - 4) != stored) throw new CorruptDataException(name + ": checksum file fails its own CRC32C");
        return new BlockSums(blockSize, rawSize, crcs);
    }

    static BlockSums read(Blobs blobs, String sumFile) throws IOException {
        return decode(blobs.readAll(sumFile), sumFile);
    }
}
