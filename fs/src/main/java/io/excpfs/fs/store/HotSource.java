package io.excpfs.fs.store;

import io.excpfs.codec.ByteSource;

import io.excpfs.fs.store.blob.BlobChannel;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Exact bytes of a HOT object, verified block by block against its {@link BlockSums}: a flipped bit raises
 * {@link CorruptDataException}, never wrong bytes. Holds its file open, so it stays readable after the object is
 * deleted (demotion, retention). Thread safe; {@link #read(long, ByteBuffer)} runs concurrently with everything.
 */
final class HotSource implements ByteSource {
    private final String raw;
    private final BlobChannel channel;
    private final BlockSums sums;
    private final byte[] block;
    private long cachedBlock = -1;

    /** Takes ownership of {@code channel} (closed here when the size does not match). */
    HotSource(String raw, BlobChannel channel, BlockSums sums) throws IOException {
        this.raw = raw;
        this.sums = sums;
        this.channel = channel;
        long size = channel.size();
        if (size != sums.rawSize()) {
            channel.close();
            throw new CorruptDataException(raw + ": size " + size + " differs from the checksummed size " + sums.rawSize());
        }
        this.block = new byte[sums.blockSize()];
    }

    @Override public long size() { return sums.rawSize(); }

    @Override public synchronized void read(long pos, byte[] dst, int off, int len) throws IOException {
        if (pos < 0 || len < 0 || pos + len > sums.rawSize()) throw new EOFException("read past end at " + pos + " of " + raw);
        int bs = sums.blockSize();
        int done = 0;
        while (done < len) {
            long at = pos + done;
            long index = at / bs;
            int n = load(index);
            int inBlock = (int) (at - index * bs);
            int take = Math.min(len - done, n - inBlock);
            System.arraycopy(block, inBlock, dst, off + done, take);
            done += take;
        }
    }

    /**
     * Reads exactly {@code dst.remaining()} bytes at {@code pos} into {@code dst} (consumed), verified, without a
     * lock: a block the range covers whole is read straight into {@code dst} and checked there, so the bytes checked
     * are the bytes returned; a block it covers in part is read whole into a buffer of the calling thread, checked,
     * and its part copied. One positional read per block: the kernel's read-ahead of the object file takes reads of
     * a block, arriving from several threads slightly out of order, as one sequential stream (large folios, read
     * ahead asynchronously), where reads of 1 MiB look random to it and are read page by page.
     */
    void read(long pos, ByteBuffer dst) throws IOException {
        long end = pos + dst.remaining();
        if (pos < 0 || end > sums.rawSize()) throw new EOFException("read past end at " + pos + " of " + raw);
        int bs = sums.blockSize();
        long at = pos;
        while (at < end) {
            long index = at / bs;
            long blockStart = index * bs;
            int n = (int) Math.min(bs, sums.rawSize() - blockStart);
            if (at == blockStart && blockStart + n <= end) {
                ByteBuffer block = dst.slice(dst.position(), n);
                BlockSums.readFully(channel, block, blockStart, raw);
                check(index, n, crc(block.flip()));
                dst.position(dst.position() + n);
                at += n;
            } else {
                ByteBuffer block = partialBlock(bs).clear().limit(n);
                BlockSums.readFully(channel, block, blockStart, raw);
                check(index, n, crc(block.flip()));
                int inBlock = (int) (at - blockStart);
                int take = (int) Math.min(end - at, n - inBlock);
                dst.put(block.limit(inBlock + take).position(inBlock));
                at += take;
            }
        }
    }

    private static int crc(ByteBuffer b) {
        CRC32C crc = new CRC32C();
        crc.update(b);
        return (int) crc.getValue();
    }

    private static final ThreadLocal<ByteBuffer> PARTIAL = new ThreadLocal<>();

    private static ByteBuffer partialBlock(int size) {
        ByteBuffer b = PARTIAL.get();
        if (b == null || b.capacity() < size) PARTIAL.set(b = ByteBuffer.allocateDirect(size));
        return b;
    }

    private void check(long index, int n, int crc) throws CorruptDataException {
        if (crc != sums.crcs()[(int) index]) {
            long from = index * sums.blockSize();
            throw new CorruptDataException(raw + ": CRC32C mismatch in block " + index + " (bytes " + from + ".." + (from + n) + ")");
        }
    }

    private int load(long index) throws IOException {
        int bs = sums.blockSize();
        int n = (int) Math.min(bs, sums.rawSize() - index * bs);
        if (index == cachedBlock) return n;
        cachedBlock = -1;
        ByteBuffer buf = ByteBuffer.wrap(block, 0, n);
        BlockSums.readFully(channel, buf, index * bs, raw);
        check(index, n, BlockSums.crc(block, 0, n));
        cachedBlock = index;
        return n;
    }

    /** Reads every block once; throws on the first corrupt one. */
    void verifyAll() throws IOException {
        for (long i = 0; i < sums.crcs().length; i++) load(i);
    }

    @Override public void close() throws IOException { channel.close(); }
}
