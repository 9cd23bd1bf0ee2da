package io.excpfs.codec.format;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.CrcPatch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The entries of a zip file, read from its central directory (zip64 records included) and checked against each
 * local header: names match, data lies between the local header and the central directory, entries do not overlap.
 */
final class ZipArchive {
    static final int STORED = 0;
    static final int MAX_ENTRIES = 1_000_000;
    static final long MAX_CENTRAL_DIRECTORY = 256L << 20;

    /**
     * One entry.
     *
     * @param dataOffset        file offset of the entry's (possibly compressed) data
     * @param crcFields         offsets of every CRC-32 field that must match this entry's data
     */
    record Entry(String name, int method, int flags, long crc, long compressedSize, long size, long headerOffset,
                 long dataOffset, List<Long> crcFields) {
        boolean stored() { return method == STORED && compressedSize == size; }

        CrcPatch crcPatch() { return new CrcPatch(dataOffset, size, crcFields); }
    }

    final Map<String, Entry> entries;
    final long centralDirectoryOffset;

    private ZipArchive(Map<String, Entry> entries, long cdOffset) {
        this.entries = entries;
        this.centralDirectoryOffset = cdOffset;
    }

    /** True when the file ends with what looks like an end-of-central-directory record. */
    static boolean looksLikeZip(ByteSource src) throws IOException {
        return src.size() >= 22 && findEocd(src) >= 0;
    }

    private static long findEocd(ByteSource src) throws IOException {
        long size = src.size();
        int tail = (int) Math.min(size, 22 + 65535);
        byte[] b = src.read(size - tail, tail);
        for (int i = tail - 22; i >= 0; i--) {
            if (b[i] == 'P' && b[i + 1] == 'K' && b[i + 2] == 5 && b[i + 3] == 6) {
                int commentLen = (b[i + 20] & 0xff) | (b[i + 21] & 0xff) << 8;
                if (i + 22 + commentLen == tail) return size - tail + i;
            }
        }
        return -1;
    }

    static ZipArchive read(ByteSource src) throws IOException, MalformedCheckpoint {
        long size = src.size();
        long eocd = findEocd(src);
        if (eocd < 0) throw new MalformedCheckpoint("zip: no end of central directory record");
        byte[] e = src.read(eocd, 22);
        long count = u16(e, 10);
        long cdSize = u32(e, 12);
        long cdOffset = u32(e, 16);
        long cdEnd = eocd;
        if (u16(e, 4) != 0 || u16(e, 6) != 0) throw MalformedCheckpoint.at(eocd, "zip: multi-disk archives are not supported");
        if (eocd >= 20) {
            byte[] loc = src.read(eocd - 20, 20);
            if (u32(loc, 0) == 0x07064b50L) {
                long z64 = u64(loc, 8);
                if (z64 < 0 || z64 + 56 > eocd - 20) throw MalformedCheckpoint.at(eocd - 20, "zip64 locator points outside the file");
                byte[] r = src.read(z64, 56);
                if (u32(r, 0) != 0x06064b50L) throw MalformedCheckpoint.at(z64, "zip64 end of central directory record missing");
                count = u64(r, 32);
                cdSize = u64(r, 40);
                cdOffset = u64(r, 48);
                cdEnd = z64;
            }
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > cdEnd || cdSize != cdEnd - cdOffset) {
            throw MalformedCheckpoint.at(eocd, "zip: central directory offset " + cdOffset + " and size " + cdSize + " do not fit the file");
        }
        if (cdSize > MAX_CENTRAL_DIRECTORY) throw MalformedCheckpoint.at(cdOffset, "zip: central directory larger than " + MAX_CENTRAL_DIRECTORY);
        if (count < 0 || count > MAX_ENTRIES || count * 46 > cdSize) {
            throw MalformedCheckpoint.at(eocd, "zip: " + count + " entries cannot fit a central directory of " + cdSize + " bytes");
        }
        byte[] cd = src.read(cdOffset, (int) cdSize);
        Map<String, Entry> entries = new LinkedHashMap<>();
        int p = 0;
        for (long i = 0; i < count; i++) {
            long at = cdOffset + p;
            if (p + 46 > cd.length || u32(cd, p) != 0x02014b50L) throw MalformedCheckpoint.at(at, "zip: bad central directory entry");
            int flags = (int) u16(cd, p + 8);
            int method = (int) u16(cd, p + 10);
            long crc = u32(cd, p + 16);
            long comp = u32(cd, p + 20);
            long usize = u32(cd, p + 24);
            int nameLen = (int) u16(cd, p + 28);
            int extraLen = (int) u16(cd, p + 30);
            int commentLen = (int) u16(cd, p + 32);
            long local = u32(cd, p + 42);
            if (p + 46L + nameLen + extraLen + commentLen > cd.length) throw MalformedCheckpoint.at(at, "zip: central directory entry overruns");
            String name = new String(cd, p + 46, nameLen, (flags & 0x800) != 0 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            int x = p + 46 + nameLen;
            int xEnd = x + extraLen;
            while (x + 4 <= xEnd) {
                int id = (int) u16(cd, x);
                int len = (int) u16(cd, x + 2);
                if (x + 4 + len > xEnd) throw MalformedCheckpoint.at(cdOffset + x, "zip: extra field overruns");
                if (id == 1) {
                    int q = x + 4;
                    int qEnd = q + len;
                    if (usize == 0xffffffffL) { if (q + 8 > qEnd) throw zip64Short(cdOffset + x); usize = u64(cd, q); q += 8; }
                    if (comp == 0xffffffffL) { if (q + 8 > qEnd) throw zip64Short(cdOffset + x); comp = u64(cd, q); q += 8; }
                    if (local == 0xffffffffL) { if (q + 8 > qEnd) throw zip64Short(cdOffset + x); local = u64(cd, q); }
                }
                x += 4 + len;
            }
            if (usize < 0 || comp < 0 || local < 0) throw MalformedCheckpoint.at(at, "zip: entry size or offset out of range");
            if ((flags & 1) != 0) throw MalformedCheckpoint.at(at, "zip: encrypted entry " + name);
            if (local + 30 > cdOffset) throw MalformedCheckpoint.at(at, "zip: local header of " + name + " outside the data area");
            byte[] lh = src.read(local, 30);
            if (u32(lh, 0) != 0x04034b50L) throw MalformedCheckpoint.at(local, "zip: missing local header of " + name);
            int lNameLen = (int) u16(lh, 26);
            int lExtraLen = (int) u16(lh, 28);
            long data = local + 30 + lNameLen + lExtraLen;
            if (data + comp > cdOffset) throw MalformedCheckpoint.at(local, "zip: data of " + name + " runs past the central directory");
            if (lNameLen != nameLen || !java.util.Arrays.equals(src.read(local + 30, lNameLen), java.util.Arrays.copyOfRange(cd, p + 46, p + 46 + nameLen))) {
                throw MalformedCheckpoint.at(local, "zip: local header name differs from central directory for " + name);
            }
            if (method == STORED && comp != usize) throw MalformedCheckpoint.at(at, "zip: stored entry " + name + " with different sizes");
            List<Long> fields = new ArrayList<>();
            fields.add(at + 16);
            if ((flags & 8) == 0 && u32(lh, 14) == crc) fields.add(local + 14);
            if ((flags & 8) != 0) {
                long d = data + comp;
                if (d + 4 <= cdOffset) {
                    byte[] dd = src.read(d, (int) Math.min(8, cdOffset - d));
                    if (dd.length >= 8 && u32(dd, 0) == 0x08074b50L && u32(dd, 4) == crc) fields.add(d + 4);
                    else if (u32(dd, 0) == crc) fields.add(d);
                }
            }
            if (entries.putIfAbsent(name, new Entry(name, method, flags, crc, comp, usize, local, data, fields)) != null) {
                throw MalformedCheckpoint.at(at, "zip: duplicate entry " + name);
            }
            p += 46 + nameLen + extraLen + commentLen;
        }
        List<Entry> byOffset = new ArrayList<>(entries.values());
        byOffset.sort(Comparator.comparingLong(Entry::headerOffset));
        long end = 0;
        for (Entry en : byOffset) {
            if (en.headerOffset() < end) throw MalformedCheckpoint.at(en.headerOffset(), "zip: entry " + en.name() + " overlaps the previous entry");
            end = en.dataOffset() + en.compressedSize();
        }
        return new ZipArchive(entries, cdOffset);
    }

    private static MalformedCheckpoint zip64Short(long at) {
        return MalformedCheckpoint.at(at, "zip: zip64 extra field too short");
    }

    /** The uncompressed bytes of a stored entry, bounded by {@code limit}. */
    static byte[] storedBytes(ByteSource src, Entry e, long limit) throws IOException, MalformedCheckpoint {
        if (!e.stored()) throw MalformedCheckpoint.at(e.headerOffset(), "zip: entry " + e.name() + " is compressed");
        if (e.size() > limit) throw MalformedCheckpoint.at(e.dataOffset(), "zip: entry " + e.name() + " larger than " + limit + " bytes");
        return src.read(e.dataOffset(), (int) e.size());
    }

    static long u16(byte[] b, int p) { return (b[p] & 0xff) | (b[p + 1] & 0xff) << 8; }

    static long u32(byte[] b, int p) { return u16(b, p) | u16(b, p + 2) << 16; }

    static long u64(byte[] b, int p) { return u32(b, p) | u32(b, p + 4) << 32; }
}
