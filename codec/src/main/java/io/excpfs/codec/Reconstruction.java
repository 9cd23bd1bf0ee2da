package io.excpfs.codec;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a read of one stored version returns, held as its pieces: the skeleton (every byte not covered by a
 * region, concatenated in file order) and the payload of each region in the file's own dtype. Immutable once
 * built; the container checksums listed in the layout are already recomputed over the reconstructed payload.
 *
 * <p>This is also the base the next version's residuals are taken against, and what the cache of bases holds.
 */
public final class Reconstruction {
    private final Layout layout;
    private final byte[] skeleton;
    private final Map<String, byte[]> regions;
    private final FilePieces pieces;

    /**
     * @param layout   the version's layout
     * @param skeleton skeleton bytes (length = {@code layout.skeletonBytes()}); CRC fields are patched in a copy
     * @param regions  payload of every region in {@code layout.regions()}, keyed by region key
     */
    public Reconstruction(Layout layout, byte[] skeleton, Map<String, byte[]> regions) {
        this(layout, skeleton, regions, false);
    }

    /**
     * @param patched the container checksums are already written in {@code skeleton}, which is then taken as it is
     *                (no copy, no second pass over the payload)
     */
    Reconstruction(Layout layout, byte[] skeleton, Map<String, byte[]> regions, boolean patched) {
        if (skeleton.length != layout.skeletonBytes()) {
            throw new IllegalArgumentException("skeleton is " + skeleton.length + " bytes, layout needs " + layout.skeletonBytes());
        }
        for (TensorRegion r : layout.regions()) {
            byte[] b = regions.get(r.key());
            if (b == null || b.length != r.length()) {
                throw new IllegalArgumentException("region " + r.key() + " missing or of wrong length");
            }
        }
        this.layout = layout;
        this.regions = Collections.unmodifiableMap(new HashMap<>(regions));
        this.skeleton = patched || layout.crcPatches().isEmpty() ? skeleton : skeleton.clone();
        this.pieces = new FilePieces(layout, this.skeleton);
        for (int i = 0; i < layout.regions().size(); i++) pieces.setRegion(i, regions.get(layout.regions().get(i).key()));
        if (!patched) patchCrcs();
    }

    /**
     * Recomputes every container checksum over the reconstructed payload: in parallel when no checksum field lies
     * inside checksummed data, else in layout order (each checksum then sees the fields patched before it).
     */
    private void patchCrcs() {
        List<CrcPatch> patches = layout.crcPatches();
        if (!fieldsOutsideData(patches)) {
            for (CrcPatch p : patches) pieces.writeCrc(p, pieces.crc32(p.dataOffset(), p.dataLength()));
            return;
        }
        long[] values = new long[patches.size()];
        try {
            DecodeThreads.run(patches.size(), i -> values[i] = pieces.crc32(patches.get(i).dataOffset(), patches.get(i).dataLength()));
        } catch (CorruptObjectException e) {
            throw new IllegalStateException(e);
        }
        for (int i = 0; i < values.length; i++) pieces.writeCrc(patches.get(i), values[i]);
    }

    static boolean fieldsOutsideData(List<CrcPatch> patches) {
        int n = patches.size();
        long[][] ranges = new long[n][];
        for (int i = 0; i < n; i++) ranges[i] = new long[]{patches.get(i).dataOffset(), patches.get(i).dataOffset() + patches.get(i).dataLength()};
        java.util.Arrays.sort(ranges, java.util.Comparator.comparingLong(r -> r[0]));
        long[] maxEnd = new long[n];
        for (int i = 0; i < n; i++) maxEnd[i] = Math.max(ranges[i][1], i > 0 ? maxEnd[i - 1] : Long.MIN_VALUE);
        for (CrcPatch p : patches) {
            for (long field : p.fieldOffsets()) {
                int lo = 0, hi = n - 1, last = -1; // last range starting before the field's end
                while (lo <= hi) {
                    int mid = (lo + hi) >>> 1;
                    if (ranges[mid][0] < field + 4) { last = mid; lo = mid + 1; } else hi = mid - 1;
                }
                if (last >= 0 && maxEnd[last] > field) return false;
            }
        }
        return true;
    }

    public Layout layout() { return layout; }

    public long size() { return layout.size(); }

    /** Skeleton bytes with container checksums already recomputed. Do not modify. */
    public byte[] skeleton() { return skeleton; }

    /** Payload of a region in its file dtype, or null when the layout has no such region. Do not modify. */
    public byte[] region(String key) { return regions.get(key); }

    public Map<String, byte[]> regions() { return regions; }

    /** Heap bytes held, for the cache's weigher. */
    public long weightBytes() {
        long w = skeleton.length + 64L * regions.size();
        for (byte[] b : regions.values()) w += b.length;
        return w;
    }

    /** Copies up to {@code len} bytes at file offset {@code pos}; returns the count (0 at or past the end). */
    public int read(long pos, byte[] dst, int off, int len) {
        if (pos >= layout.size() || len <= 0) return 0;
        int total = (int) Math.min(len, layout.size() - pos);
        pieces.copy(pos, dst, off, total);
        return total;
    }

    public void writeTo(OutputStream out) throws IOException {
        byte[] buf = new byte[1 << 20];
        for (long pos = 0; pos < layout.size(); ) {
            int n = read(pos, buf, 0, buf.length);
            out.write(buf, 0, n);
            pos += n;
        }
    }

    /** The whole file as one array (files under 2 GiB only; for tests and small files). */
    public byte[] toByteArray() {
        if (layout.size() > Integer.MAX_VALUE - 16) throw new IllegalStateException("file too large for one array");
        byte[] out = new byte[(int) layout.size()];
        read(0, out, 0, out.length);
        return out;
    }

    /** Builds the reconstruction of exact file bytes: regions cut out of {@code file} as they are. */
    public static Reconstruction exact(Layout layout, ByteSource file) throws IOException {
        Map<String, byte[]> regs = new HashMap<>();
        byte[] skel = new byte[(int) layout.skeletonBytes()];
        long filePos = 0;
        int skelPos = 0;
        for (TensorRegion r : layout.regions()) {
            int gap = (int) (r.offset() - filePos);
            file.read(filePos, skel, skelPos, gap);
            skelPos += gap;
            regs.put(r.key(), file.read(r.offset(), (int) r.length()));
            filePos = r.end();
        }
        file.read(filePos, skel, skelPos, (int) (layout.size() - filePos));
        return new Reconstruction(layout, skel, regs);
    }
}
