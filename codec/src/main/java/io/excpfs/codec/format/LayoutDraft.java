package io.excpfs.codec.format;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.CrcPatch;
import io.excpfs.codec.DType;
import io.excpfs.codec.Format;
import io.excpfs.codec.Layout;
import io.excpfs.codec.Role;
import io.excpfs.codec.TensorRegion;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;

/** A layout being assembled by a parser: unique keys, regions checked before the {@link Layout} is built. */
final class LayoutDraft {
    private final Format format;
    private final long size;
    private final List<TensorRegion> regions = new ArrayList<>();
    private final List<CrcPatch> crcPatches = new ArrayList<>();
    private final Map<String, String> aliases = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Set<String> keys = new HashSet<>();
    private final List<Long> crcs = new ArrayList<>();
    private final List<String> crcEntries = new ArrayList<>();

    LayoutDraft(Format format, long size) {
        this.format = format;
        this.size = size;
    }

    /** {@code wanted}, or {@code wanted#2}, {@code wanted#3}... when a region or an alias already uses that key. */
    String uniqueKey(String wanted) {
        if (!aliases.containsKey(wanted) && keys.add(wanted)) return wanted;
        for (int i = 2; ; i++) {
            String k = wanted + "#" + i;
            if (!aliases.containsKey(k) && keys.add(k)) return k;
        }
    }

    /** Adds a region whose key was obtained from {@link #uniqueKey}; the role follows the key-path convention. */
    void region(String key, DType dtype, long[] shape, long offset, long length) {
        regions.add(new TensorRegion(key, dtype, shape, offset, length, KeyPaths.role(key, dtype, length / dtype.size())));
    }

    /**
     * Adds the CRC patch of a zip entry that holds a region. {@link #build} checks the entry's data against
     * {@code crc}: a file whose checksum is already wrong is corrupt and must come back exactly, so it is opaque.
     */
    void crcPatch(CrcPatch p, long crc, String entry) {
        crcPatches.add(p);
        crcs.add(crc);
        crcEntries.add(entry);
    }

    void alias(String alias, String regionKey) {
        if (!alias.equals(regionKey) && !keys.contains(alias)) aliases.putIfAbsent(alias, regionKey);
    }

    void metadata(Map<String, String> m) { metadata.putAll(m); }

    /** Metadata key holding every tensor key path in the order of the file's object tree (see {@link #tensorOrder}). */
    static final String TENSOR_ORDER = "#tensor_order";
    static final int MAX_TENSOR_ORDER_CHARS = 16 << 20;

    /**
     * Records the key paths of all tensors in object order (pickle order = state_dict order for torch, header order
     * for safetensors, member order for npz) as a JSON array of strings under {@link #TENSOR_ORDER}. Regions are
     * sorted by offset, which is not object order: torch.save writes storage entries sorted by key as text
     * ({@code data/0, data/1, data/10, ...}). Omitted when larger than {@link #MAX_TENSOR_ORDER_CHARS}.
     */
    void tensorOrder(List<String> keyPaths) {
        StringBuilder b = new StringBuilder("[");
        for (String k : keyPaths) {
            if (b.length() > 1) b.append(", ");
            b.append('"');
            for (int i = 0; i < k.length(); i++) {
                char c = k.charAt(i);
                if (c == '"' || c == '\\') b.append('\\').append(c);
                else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                else b.append(c);
            }
            b.append('"');
            if (b.length() > MAX_TENSOR_ORDER_CHARS) return;
        }
        metadata.put(TENSOR_ORDER, b.append(']').toString());
    }

    int regionCount() { return regions.size(); }

    Layout build(String note, ByteSource src) throws MalformedCheckpoint, IOException {
        verifyCrcs(src);
        return build(note);
    }

    /**
     * Checks every patched entry's CRC-32. A mismatch makes the file opaque (corrupt), except a stored CRC of 0,
     * which is how torch >= 2.5 writes entries when {@code compute_crc32} is off: that entry gets no patch, so the
     * zero stays as it was.
     */
    private void verifyCrcs(ByteSource src) throws MalformedCheckpoint, IOException {
        byte[] buf = new byte[1 << 20];
        List<CrcPatch> kept = new ArrayList<>();
        for (int i = 0; i < crcPatches.size(); i++) {
            CrcPatch p = crcPatches.get(i);
            CRC32 crc = new CRC32();
            for (long pos = p.dataOffset(), end = p.dataOffset() + p.dataLength(); pos < end; ) {
                int n = (int) Math.min(buf.length, end - pos);
                src.read(pos, buf, 0, n);
                crc.update(buf, 0, n);
                pos += n;
            }
            if (crc.getValue() == crcs.get(i)) {
                kept.add(p);
            } else if (crcs.get(i) != 0) {
                throw MalformedCheckpoint.at(p.dataOffset(), "zip: entry " + crcEntries.get(i) + " fails its CRC-32 check (corrupt)");
            }
        }
        crcPatches.clear();
        crcPatches.addAll(kept);
    }

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
