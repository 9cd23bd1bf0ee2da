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
    /** The last block a {@link #read(long, ByteBuffer)} verified but did not read whole (the next read starts in it). */
    private volatile Edge edge;

    private record Edge(long index, byte[] bytes) {}

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
     * Reads {@code dst.remaining()} bytes at {@code pos} into {@code dst} (consumed), verified: blocks the read
     * covers whole go straight into {@code dst} (one copy, from the kernel) and are checked there; a block it covers
     * in part is read and checked aside. Takes no lock.
     */
    void read(long pos, ByteBuffer dst) throws IOException {
        int len = dst.remaining();
        if (pos < 0 || pos + len > sums.rawSize()) throw new EOFException("read past end at " + pos + " of " + raw);
        int bs = sums.blockSize();
        long at = pos;
        while (dst.hasRemaining()) {
            long index = at / bs;
            int n = (int) Math.min(bs, sums.rawSize() - index * bs);
            int inBlock = (int) (at - index * bs);
            int take = Math.min(dst.remaining(), n - inBlock);
            if (inBlock == 0 && take == n) {
                ByteBuffer whole = dst.slice(dst.position(), n);
                BlockSums.readFully(channel, whole, at, raw);
                CRC32C crc = new CRC32C();
                crc.update(whole.flip());
                check(index, n, (int) crc.getValue());
            } else {
                dst.put(dst.position(), edge(index, n), inBlock, take);
            }
            dst.position(dst.position() + take);
            at += take;
        }
    }

    private byte[] edge(long index, int n) throws IOException {
        Edge e = edge;
        if (e != null && e.index() == index) return e.bytes();
        byte[] b = new byte[n];
        BlockSums.readFully(channel, ByteBuffer.wrap(b), index * sums.blockSize(), raw);
        check(index, n, BlockSums.crc(b, 0, n));
        edge = new Edge(index, b);
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
