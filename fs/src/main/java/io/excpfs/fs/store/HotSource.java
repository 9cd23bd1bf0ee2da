package io.excpfs.fs.store;

import io.excpfs.codec.ByteSource;

import io.excpfs.fs.store.blob.BlobChannel;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Exact bytes of a HOT object, verified block by block against its {@link BlockSums}: a flipped bit raises
 * {@link CorruptDataException}, never wrong bytes. Holds its file open, so it stays readable after the object is
 * deleted (demotion, retention). Thread safe.
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

    private int load(long index) throws IOException {
        int bs = sums.blockSize();
        int n = (int) Math.min(bs, sums.rawSize() - index * bs);
        if (index == cachedBlock) return n;
        cachedBlock = -1;
        ByteBuffer buf = ByteBuffer.wrap(block, 0, n);
        BlockSums.readFully(channel, buf, index * bs, raw);
        if (BlockSums.crc(block, 0, n) != sums.crcs()[(int) index]) {
            throw new CorruptDataException(raw + ": CRC32C mismatch in block " + index + " (bytes " + index * bs + ".." + (index * bs + n) + ")");
        }
        cachedBlock = index;
        return n;
    }

    /** Reads every block once; throws on the first corrupt one. */
    void verifyAll() throws IOException {
        for (long i = 0; i < sums.crcs().length; i++) load(i);
    }

    @Override public void close() throws IOException { channel.close(); }
}
