package io.excpfs.fs.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import io.excpfs.fs.store.blob.BlobChannel;
import io.excpfs.fs.store.blob.Blobs;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The per-block CRC32C sums ({@link BlockSums}) of a staging file, computed while its bytes are written, so that
 * {@link Store#seal(long, Path, StagingChecksums)} need not read the file again. Sums cover the longest prefix
 * written in order (the common case: torch.save and safetensors write sequentially); a write behind that prefix
 * drops the sums from its block on, and a write past it is left for the seal, which reads from the first block not
 * summed. Not thread safe: the owner of the staging file serialises its calls.
 */
public final class StagingChecksums {
    private static final int BLOCK = BlockSums.BLOCK;

    private int[] crcs = new int[64];
    /** Blocks {@code [0, complete)} are summed in {@link #crcs}. */
    private int complete;
    /** Bytes {@code [0, end)} are summed: whole blocks, then the block in progress in {@link #partial}. */
    private long end;
    private final CRC32C partial = new CRC32C();

    /** Bytes {@code src[position, limit)} were written at {@code offset}; {@code src} is not consumed. */
    public void written(long offset, ByteBuffer src) {
        if (offset < end) rewind(offset);
        if (offset != end) return;
        ByteBuffer b = src.slice();
        while (b.hasRemaining()) {
            int room = (int) ((complete + 1L) * BLOCK - end);
            int n = Math.min(room, b.remaining());
            int limit = b.limit();
            b.limit(b.position() + n);
            partial.update(b);
            b.limit(limit);
            end += n;
            if (n == room) {
                if (complete == crcs.length) crcs = Arrays.copyOf(crcs, complete * 2);
                crcs[complete++] = (int) partial.getValue();
                partial.reset();
            }
        }
    }

    /** Bytes from {@code offset} on may have changed in a way {@link #written} did not see (a failed write). */
    public void changed(long offset) {
        if (offset < end) rewind(offset);
    }

    /** The file was truncated (or extended with zeros) to {@code size}. */
    public void truncated(long size) {
        changed(size);
    }

    private void rewind(long offset) {
        complete = (int) Math.min(complete, offset / BLOCK);
        end = (long) complete * BLOCK;
        partial.reset();
    }

    /** Bytes summed so far in order from the start (for tests and logs). */
    public long summedBytes() { return end; }

    /** The sums of {@code staging} as it is now: the blocks summed while written, the rest read from the file. */
    BlockSums finish(Blobs blobs, String staging) throws IOException {
        try (BlobChannel ch = blobs.open(staging, false)) {
            long size = ch.size();
            if (size < end) rewind(size);
            long blocks = (size + BLOCK - 1) / BLOCK;
            if (blocks > Integer.MAX_VALUE) throw new IOException("file too large: " + staging);
            int[] out = Arrays.copyOf(crcs, (int) blocks);
            int from = complete;
            if (end == size && end > (long) complete * BLOCK) {
                out[complete] = (int) partial.getValue();
                from = complete + 1;
            }
            ByteBuffer buf = ByteBuffer.allocate(BLOCK);
            for (int i = from; i < out.length; i++) {
                buf.clear();
                long pos = (long) i * BLOCK;
                buf.limit((int) Math.min(BLOCK, size - pos));
                BlockSums.readFully(ch, buf, pos, staging);
                out[i] = BlockSums.crc(buf.array(), 0, buf.limit());
            }
            return new BlockSums(BLOCK, size, out);
        }
    }
}
