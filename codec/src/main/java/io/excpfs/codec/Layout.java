package io.excpfs.codec;

import java.util.List;
import java.util.Map;

/**
 * A checkpoint file modelled as skeleton + tensor regions. The skeleton is every byte of the file not covered by
 * a region. Regions are sorted by offset, do not overlap and lie inside {@code [0, size)}.
 *
 * @param format  detected container format ({@link Format#OPAQUE} when nothing could be parsed completely)
 * @param size    file size in bytes
 * @param regions float and non-float tensor payload regions (the codec only touches {@link Role#lossy()} ones)
 * @param crcPatches checksums to recompute after regions change
 * @param note    why the file is opaque, or a short description of what was recognised
 * @param aliases  other key paths that name the same payload as a region (tied weights, views of one torch
 *                 storage): alias key → region key
 * @param metadata small non-tensor leaves of the file's object tree, key path → value as text: numbers, strings,
 *                 booleans, and lists of ints rendered as {@code [0, 1, 2]} (e.g. {@code optimizer/param_groups/0/params});
 *                 bounded in count and length by the parser. Used by pairing and shown by inspect.
 */
public record Layout(Format format, long size, List<TensorRegion> regions, List<CrcPatch> crcPatches, String note,
                     Map<String, String> aliases, Map<String, String> metadata) {
    public Layout {
        regions = List.copyOf(regions);
        crcPatches = List.copyOf(crcPatches);
        aliases = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(aliases));
        metadata = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(metadata));
        long pos = 0;
        for (TensorRegion r : regions) {
            if (r.offset() < pos || r.end() > size) {
                throw new IllegalArgumentException("region " + r.key() + " overlaps or lies outside the file");
            }
            pos = r.end();
        }
    }

    public static Layout opaque(long size, String why) {
        return new Layout(Format.OPAQUE, size, List.of(), List.of(), why, Map.of(), Map.of());
    }

    public boolean isOpaque() { return format == Format.OPAQUE; }

    public long skeletonBytes() {
        long covered = 0;
        for (TensorRegion r : regions) covered += r.length();
        return size - covered;
    }
}
