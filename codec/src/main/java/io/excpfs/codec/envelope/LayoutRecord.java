package io.excpfs.codec.envelope;

import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.CrcPatch;
import io.excpfs.codec.DType;
import io.excpfs.codec.Format;
import io.excpfs.codec.Layout;
import io.excpfs.codec.Role;
import io.excpfs.codec.TensorRegion;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The layout section of a stored object: everything decode needs to rebuild the file without re-parsing it. Format
 * version 3 writes it zstd-compressed when that is smaller: {@code u8 255}, {@code varint} length of the plain
 * record, {@code varint} frame length, zstd frame. The plain record (all that versions 1 and 2 write) starts with a
 * container format code below 255, so {@link #read} tells the two apart by the first byte.
 */
public final class LayoutRecord {
    private static final int MAX_DIMS = 64;
    /** First byte of a compressed record. */
    static final int COMPRESSED = 255;
    private static final int ZSTD_LEVEL = 9;
    /** A plain record longer than this is refused (a crafted length must not allocate gigabytes). */
    private static final int MAX_PLAIN = 1 << 28;

    private LayoutRecord() {}

    /** Writes the record of format version 3: compressed, or plain when that is not larger. */
    public static void write(BytesOut out, Layout layout) {
        BytesOut plain = new BytesOut(4096);
        writePlain(plain, layout);
        byte[] raw = plain.toByteArray();
        byte[] frame = Zstd.compress(raw, ZSTD_LEVEL);
        BytesOut compressed = new BytesOut(frame.length + 16);
        compressed.u8(COMPRESSED).varint(raw.length).block(frame);
        out.bytes(compressed.size() < raw.length ? compressed.toByteArray() : raw);
    }

    /** Writes the plain record of format versions 1 and 2. */
    public static void writePlain(BytesOut out, Layout layout) {
        out.u8(ObjectEnvelope.formatCode(layout.format())).varint(layout.size()).string(layout.note());
        out.varint(layout.regions().size());
        for (TensorRegion r : layout.regions()) {
            out.string(r.key()).u8(dtypeCode(r.dtype())).u8(roleCode(r.role()));
            long[] shape = r.shape();
            out.varint(shape.length);
            for (long d : shape) out.varint(d);
            out.varint(r.offset()).varint(r.length());
        }
        out.varint(layout.crcPatches().size());
        for (CrcPatch p : layout.crcPatches()) {
            out.varint(p.dataOffset()).varint(p.dataLength()).varint(p.fieldOffsets().size());
            for (long f : p.fieldOffsets()) out.varint(f);
        }
        writeMap(out, layout.aliases());
        writeMap(out, layout.metadata());
    }

    private static void writeMap(BytesOut out, Map<String, String> map) {
        out.varint(map.size());
        for (Map.Entry<String, String> e : map.entrySet()) out.string(e.getKey()).string(e.getValue());
    }

    /** Reads a plain or compressed record, leaving {@code in} after it. */
    public static Layout read(BytesIn in) throws CorruptObjectException {
        int at = in.position();
        if (in.remaining() > 0 && (in.array()[at] & 0xFF) == COMPRESSED) {
            in.u8("layout record kind");
            int plainLength = in.count("plain layout record length", MAX_PLAIN);
            int frameAt = in.position();
            byte[] frame = in.block("compressed layout record");
            byte[] plain;
            long got;
            try {
                if (Zstd.decompressedSize(frame) != plainLength) throw in.corrupt("layout record frame does not hold " + plainLength + " bytes", frameAt);
                plain = new byte[plainLength];
                got = Zstd.decompressByteArray(plain, 0, plainLength, frame, 0, frame.length);
            } catch (ZstdException e) {
                throw in.corrupt("layout record does not decompress: " + e.getMessage(), frameAt);
            }
            if (Zstd.isError(got)) throw in.corrupt("layout record does not decompress: " + Zstd.getErrorName(got), frameAt);
            if (got != plainLength) throw in.corrupt("layout record decompresses to " + got + " bytes, not " + plainLength, frameAt);
            BytesIn p = new BytesIn(plain, 0, plain.length);
            Layout layout;
            try {
                layout = readPlain(p);
            } catch (CorruptObjectException e) {
                throw in.corrupt("in the compressed layout record: " + e.getMessage(), at);
            }
            if (p.remaining() != 0) throw in.corrupt(p.remaining() + " unread bytes after the compressed layout record", at);
            return layout;
        }
        return readPlain(in);
    }

    private static Layout readPlain(BytesIn in) throws CorruptObjectException {
        int at = in.position();
        Format format = ObjectEnvelope.format(in.u8("layout format"), in, at);
        long size = in.varint("layout size");
        String note = in.string("layout note");
        int n = in.count("region count", in.remaining());
        List<TensorRegion> regions = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int regionAt = in.position();
            String key = in.string("region key");
            DType dtype = dtype(in.u8("region dtype"), in);
            Role role = role(in.u8("region role"), in);
            long[] shape = new long[in.count("region rank", MAX_DIMS)];
            for (int d = 0; d < shape.length; d++) shape[d] = in.varint("region dim");
            long offset = in.varint("region offset");
            long length = in.varint("region length");
            if (offset < 0 || length < 0 || length % dtype.size() != 0) throw in.corrupt("bad region " + key, regionAt);
            regions.add(new TensorRegion(key, dtype, shape, offset, length, role));
        }
        int np = in.count("crc patch count", in.remaining());
        List<CrcPatch> patches = new ArrayList<>(np);
        for (int i = 0; i < np; i++) {
            long off = in.varint("crc data offset");
            long len = in.varint("crc data length");
            int nf = in.count("crc field count", in.remaining());
            List<Long> fields = new ArrayList<>(nf);
            for (int f = 0; f < nf; f++) fields.add(in.varint("crc field offset"));
            patches.add(new CrcPatch(off, len, fields));
        }
        Map<String, String> aliases = readMap(in, "alias");
        Map<String, String> metadata = readMap(in, "metadata");
        try {
            return new Layout(format, size, regions, patches, note, aliases, metadata);
        } catch (IllegalArgumentException e) {
            throw in.corrupt("inconsistent layout: " + e.getMessage(), at);
        }
    }

    private static Map<String, String> readMap(BytesIn in, String what) throws CorruptObjectException {
        int n = in.count(what + " count", in.remaining());
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) map.put(in.string(what + " key"), in.string(what + " value"));
        return map;
    }

    public static int dtypeCode(DType t) {
        return switch (t) {
            case F64 -> 1; case F32 -> 2; case F16 -> 3; case BF16 -> 4; case I64 -> 5; case I32 -> 6;
            case I16 -> 7; case I8 -> 8; case U8 -> 9; case BOOL -> 10; case OTHER -> 11;
        };
    }

    private static DType dtype(int code, BytesIn in) throws CorruptObjectException {
        return switch (code) {
            case 1 -> DType.F64; case 2 -> DType.F32; case 3 -> DType.F16; case 4 -> DType.BF16; case 5 -> DType.I64;
            case 6 -> DType.I32; case 7 -> DType.I16; case 8 -> DType.I8; case 9 -> DType.U8; case 10 -> DType.BOOL;
            case 11 -> DType.OTHER;
            default -> throw in.corrupt("unknown dtype " + code, in.position() - 1);
        };
    }

    public static int roleCode(Role r) {
        return switch (r) {
            case PARAM -> 1; case EXP_AVG -> 2; case EXP_AVG_SQ -> 3; case OTHER_FLOAT -> 4; case NON_FLOAT -> 5;
        };
    }

    private static Role role(int code, BytesIn in) throws CorruptObjectException {
        return switch (code) {
            case 1 -> Role.PARAM; case 2 -> Role.EXP_AVG; case 3 -> Role.EXP_AVG_SQ; case 4 -> Role.OTHER_FLOAT;
            case 5 -> Role.NON_FLOAT;
            default -> throw in.corrupt("unknown role " + code, in.position() - 1);
        };
    }
}
