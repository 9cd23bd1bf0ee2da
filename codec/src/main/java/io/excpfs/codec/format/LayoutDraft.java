package io.excpfs.codec.format;

import io.excpfs.codec.CrcPatch;
import io.excpfs.codec.DType;
import io.excpfs.codec.Format;
import io.excpfs.codec.Layout;
import io.excpfs.codec.Role;
import io.excpfs.codec.TensorRegion;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A layout being assembled by a parser: unique keys, regions checked before the {@link Layout} is built. */
final class LayoutDraft {
    private final Format format;
    private final long size;
    private final List<TensorRegion> regions = new ArrayList<>();
    private final List<CrcPatch> crcPatches = new ArrayList<>();
    private final Map<String, String> aliases = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Set<String> keys = new HashSet<>();

    LayoutDraft(Format format, long size) {
        this.format = format;
        this.size = size;
    }

    /** {@code wanted}, or {@code wanted#2}, {@code wanted#3}... when a region already uses that key. */
    String uniqueKey(String wanted) {
        if (keys.add(wanted)) return wanted;
        for (int i = 2; ; i++) {
            String k = wanted + "#" + i;
            if (keys.add(k)) return k;
        }
    }

    /** Adds a region whose key was obtained from {@link #uniqueKey}; the role follows the key-path convention. */
    void region(String key, DType dtype, long[] shape, long offset, long length) {
        regions.add(new TensorRegion(key, dtype, shape, offset, length, KeyPaths.role(key, dtype, length / dtype.size())));
    }

    void crcPatch(CrcPatch p) { crcPatches.add(p); }

    void alias(String alias, String regionKey) {
        if (!alias.equals(regionKey) && !keys.contains(alias)) aliases.putIfAbsent(alias, regionKey);
    }

    void metadata(Map<String, String> m) { metadata.putAll(m); }

    int regionCount() { return regions.size(); }

    Layout build(String note) throws MalformedCheckpoint {
        regions.sort(Comparator.comparingLong(TensorRegion::offset));
        long pos = 0;
        for (TensorRegion r : regions) {
            if (r.offset() < pos) throw MalformedCheckpoint.at(r.offset(), "tensor " + r.key() + " overlaps the previous tensor");
            if (r.end() > size) throw MalformedCheckpoint.at(r.offset(), "tensor " + r.key() + " runs past the end of the file");
            pos = r.end();
        }
        long[] fields = crcPatches.stream().flatMap(p -> p.fieldOffsets().stream()).mapToLong(Long::longValue).sorted().toArray();
        int i = 0;
        for (TensorRegion r : regions) {
            while (i < fields.length && fields[i] + 4 <= r.offset()) i++;
            if (i < fields.length && fields[i] < r.end() && r.length() > 0) {
                throw MalformedCheckpoint.at(fields[i], "zip CRC field inside tensor " + r.key());
            }
        }
        return new Layout(format, size, regions, crcPatches, note, aliases, metadata);
    }
}
