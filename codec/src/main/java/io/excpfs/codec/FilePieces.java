package io.excpfs.codec;

import java.util.List;
import java.util.zip.CRC32;

/**
 * A file laid out as its pieces: skeleton gap, region, gap, …, region, gap (piece {@code 2i + 1} is region
 * {@code i}). Gaps are slices of one skeleton array; a region's payload may be set after the table is built, as a
 * streaming decode does. Reads and checksums go straight to the pieces, without assembling the file.
 */
final class FilePieces {
    private final long size;
    private final long[] start;
    private final byte[][] data;
    private final int[] dataOffset;
    private final byte[] skeleton;

    /** Gaps point into {@code skeleton}; region payloads are null until {@link #setRegion}. */
    FilePieces(Layout layout, byte[] skeleton) {
        List<TensorRegion> regions = layout.regions();
        int n = regions.size();
        this.size = layout.size();
        this.skeleton = skeleton;
        this.start = new long[2 * n + 1];
        this.data = new byte[2 * n + 1][];
        this.dataOffset = new int[2 * n + 1];
        long filePos = 0;
        int skelPos = 0;
        for (int i = 0; i < n; i++) {
            TensorRegion r = regions.get(i);
            start[2 * i] = filePos;
            data[2 * i] = skeleton;
            dataOffset[2 * i] = skelPos;
            skelPos += (int) (r.offset() - filePos);
            start[2 * i + 1] = r.offset();
            filePos = r.end();
        }
        start[2 * n] = filePos;
        data[2 * n] = skeleton;
        dataOffset[2 * n] = skelPos;
    }

    void setRegion(int index, byte[] payload) { data[2 * index + 1] = payload; }

    int count() { return start.length; }

    /** The piece holding file offset {@code filePos} (the last piece for offsets at or past the end). */
    int pieceAt(long filePos) {
        int lo = 0, hi = start.length - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (start[mid] <= filePos) lo = mid; else hi = mid - 1;
        }
        return lo;
    }

    /** Copies the {@code total} file bytes at {@code pos} (all inside the file, their pieces set) into {@code dst}. */
    void copy(long pos, byte[] dst, int off, int total) {
        int done = 0;
        int piece = pieceAt(pos);
        while (done < total) {
            long at = pos + done;
            int n = (int) Math.min(total - done, end(piece) - at);
            if (n > 0) {
                System.arraycopy(data[piece], (int) (dataOffset[piece] + at - start[piece]), dst, off + done, n);
                done += n;
            }
            piece++;
        }
    }

    /** CRC-32 of file bytes {@code [pos, pos + len)}, straight from the pieces that hold them. */
    long crc32(long pos, long len) {
        CRC32 crc = new CRC32();
        long end = pos + len;
        int piece = pieceAt(pos);
        while (pos < end && piece < start.length) {
            int n = (int) (Math.min(end, end(piece)) - pos);
            if (n > 0) {
                crc.update(data[piece], (int) (dataOffset[piece] + pos - start[piece]), n);
                pos += n;
            }
            piece++;
        }
        return crc.getValue();
    }

    /** Writes the 4 little-endian bytes of a container checksum at each of {@code patch}'s fields (in the skeleton). */
    void writeCrc(CrcPatch patch, long value) {
        for (long field : patch.fieldOffsets()) {
            for (int k = 0; k < 4; k++) {
                long at = field + k;
                int piece = pieceAt(at);
                if (piece % 2 == 1 || at >= size) throw new IllegalStateException("CRC field inside a tensor region at " + at);
                skeleton[(int) (dataOffset[piece] + at - start[piece])] = (byte) (value >>> (8 * k));
            }
        }
    }

    private long end(int piece) { return piece + 1 < start.length ? start[piece + 1] : size; }
}
