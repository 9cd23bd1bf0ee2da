package io.excpfs.codec.format;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.DType;
import io.excpfs.codec.Format;
import io.excpfs.codec.Layout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * NumPy {@code .npy} (format versions 1, 2, 3): magic {@code \x93NUMPY}, version, header length (u16 for v1, u32
 * after), a Python dict literal {@code {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }}, then the raw
 * array to the end of the file. {@code .npz} is a zip of such members: stored members become regions keyed by the
 * member name without {@code .npy}, with CRC patches; deflated members stay skeleton.
 */
final class Npy {
    static final long MAX_HEADER = 1 << 20;
    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    private Npy() {}

    /** A parsed header. {@code dtype} is null when the element type is kept exact (no region). */
    record Header(DType dtype, String descr, long[] shape, boolean fortran, long dataOffset, long dataBytes) {}

    static boolean looksLikeNpy(ByteSource src) throws IOException {
        return src.size() >= 10 && java.util.Arrays.equals(src.read(0, 6), MAGIC);
    }

    static Layout parseNpy(ByteSource src) throws IOException, MalformedCheckpoint {
        Header h = header(src, 0, src.size());
        LayoutDraft draft = new LayoutDraft(Format.NPY, src.size());
        draft.tensorOrder(List.of("array"));
        if (h.dtype() != null && h.dataBytes() > 0) draft.region(draft.uniqueKey("array"), h.dtype(), h.shape(), h.dataOffset(), h.dataBytes());
        return draft.build("npy " + h.descr() + " " + java.util.Arrays.toString(h.shape()) + (h.fortran() ? " fortran order" : "")
                + (h.dtype() == null ? ", dtype kept exact" : ""));
    }

    static boolean isNpz(ZipArchive zip) {
        if (zip.entries.isEmpty()) return false;
        for (String n : zip.entries.keySet()) if (!n.endsWith(".npy")) return false;
        return true;
    }

    static Layout parseNpz(ByteSource src, ZipArchive zip) throws IOException, MalformedCheckpoint {
        LayoutDraft draft = new LayoutDraft(Format.NPZ, src.size());
        int deflated = 0;
        int exact = 0;
        for (ZipArchive.Entry e : zip.entries.values()) {
            if (!e.stored()) { deflated++; continue; }
            Header h = header(src, e.dataOffset(), e.dataOffset() + e.size());
            if (h.dtype() == null || h.dataBytes() == 0) { exact++; continue; }
            String key = draft.uniqueKey(e.name().substring(0, e.name().length() - ".npy".length()));
            draft.region(key, h.dtype(), h.shape(), h.dataOffset(), h.dataBytes());
            draft.crcPatch(e.crcPatch(), e.crc(), e.name());
        }
        draft.tensorOrder(zip.entries.keySet().stream().map(n -> n.substring(0, n.length() - ".npy".length())).toList());
        return draft.build("npz: " + zip.entries.size() + " members, " + draft.regionCount() + " regions"
                + (deflated > 0 ? ", " + deflated + " compressed members kept exact" : "")
                + (exact > 0 ? ", " + exact + " members of other dtypes kept exact" : ""), src);
    }

    /** Parses the header of an array stored in {@code [start, end)} of the file. */
    static Header header(ByteSource src, long start, long end) throws IOException, MalformedCheckpoint {
        if (end - start < 10) throw MalformedCheckpoint.at(start, "npy: shorter than its preamble");
        byte[] pre = src.read(start, 10);
        if (!java.util.Arrays.equals(java.util.Arrays.copyOf(pre, 6), MAGIC)) throw MalformedCheckpoint.at(start, "npy: bad magic");
        int major = pre[6] & 0xff;
        long headerLen;
        long headerStart;
        if (major == 1) {
            headerLen = ZipArchive.u16(pre, 8);
            headerStart = start + 10;
        } else if (major == 2 || major == 3) {
            if (end - start < 12) throw MalformedCheckpoint.at(start, "npy: shorter than its preamble");
            headerLen = ZipArchive.u32(src.read(start + 8, 4), 0);
            headerStart = start + 12;
        } else {
            throw MalformedCheckpoint.at(start + 6, "npy: unsupported format version " + major);
        }
        if (headerLen > MAX_HEADER || headerStart + headerLen > end) throw MalformedCheckpoint.at(start + 8, "npy: header length " + headerLen + " runs past the array");
        String text = new String(src.read(headerStart, (int) headerLen), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Object parsed = new Literal(text, headerStart).value(0);
        if (!(parsed instanceof Map<?, ?> m)) throw MalformedCheckpoint.at(headerStart, "npy: header is not a dict");
        Object descr = m.get("descr");
        Object fortran = m.get("fortran_order");
        Object shapeObj = m.get("shape");
        if (!(fortran instanceof Boolean f)) throw MalformedCheckpoint.at(headerStart, "npy: fortran_order missing");
        if (!(shapeObj instanceof List<?> shapeList)) throw MalformedCheckpoint.at(headerStart, "npy: shape is not a tuple");
        if (!(descr instanceof String d)) throw MalformedCheckpoint.at(headerStart, "npy: structured dtype " + descr + " is not supported");
        if (d.contains("O")) throw MalformedCheckpoint.at(headerStart, "npy: object array (needs pickle)");
        long[] shape = new long[shapeList.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(shapeList.get(i) instanceof Long v) || v < 0) throw MalformedCheckpoint.at(headerStart, "npy: bad dimension in shape");
            shape[i] = v;
            try {
                numel = Math.multiplyExact(numel, v);
            } catch (ArithmeticException e) {
                throw MalformedCheckpoint.at(headerStart, "npy: element count overflows");
            }
        }
        long dataOffset = headerStart + headerLen;
        DType dtype = dtype(d);
        if (dtype == null) return new Header(null, d, shape, f, dataOffset, end - dataOffset);
        long bytes;
        try {
            bytes = Math.multiplyExact(numel, (long) dtype.size());
        } catch (ArithmeticException e) {
            throw MalformedCheckpoint.at(headerStart, "npy: array size overflows");
        }
        if (bytes != end - dataOffset) {
            throw MalformedCheckpoint.at(dataOffset, "npy: shape " + java.util.Arrays.toString(shape) + " of " + d + " needs " + bytes
                    + " bytes, " + (end - dataOffset) + " present");
        }
        return new Header(dtype, d, shape, f, dataOffset, bytes);
    }

    static DType dtype(String descr) {
        return switch (descr) {
            case "<f4" -> DType.F32;
            case "<f8" -> DType.F64;
            case "<f2" -> DType.F16;
            case "<i8" -> DType.I64;
            case "<i4" -> DType.I32;
            case "<i2" -> DType.I16;
            case "|i1" -> DType.I8;
            case "|u1" -> DType.U8;
            case "|b1" -> DType.BOOL;
            default -> null;
        };
    }

    /** A parser for the Python literals numpy writes: dicts, tuples, lists, strings, ints, True/False/None. */
    static final class Literal {
        static final int MAX_DEPTH = 16;
        private final String s;
        private final long base;
        private int p;

        Literal(String s, long base) {
            this.s = s;
            this.base = base;
        }

        private MalformedCheckpoint bad(String what) { return MalformedCheckpoint.at(base + p, "npy header: " + what); }

        private void ws() { while (p < s.length() && Character.isWhitespace(s.charAt(p))) p++; }

        private char peek() throws MalformedCheckpoint {
            ws();
            if (p >= s.length()) throw bad("unexpected end");
            return s.charAt(p);
        }

        Object value(int depth) throws MalformedCheckpoint {
            if (depth > MAX_DEPTH) throw bad("nested deeper than " + MAX_DEPTH);
            char c = peek();
            if (c == '{') {
                p++;
                Map<Object, Object> m = new LinkedHashMap<>();
                while (peek() != '}') {
                    Object k = value(depth + 1);
                    if (peek() != ':') throw bad("expected ':'");
                    p++;
                    m.put(k, value(depth + 1));
                    if (peek() == ',') p++; else if (peek() != '}') throw bad("expected ',' or '}'");
                }
                p++;
                return m;
            }
            if (c == '(' || c == '[') {
                char close = c == '(' ? ')' : ']';
                p++;
                List<Object> l = new ArrayList<>();
                while (peek() != close) {
                    l.add(value(depth + 1));
                    if (peek() == ',') p++; else if (peek() != close) throw bad("expected ',' or '" + close + "'");
                }
                p++;
                return l;
            }
            if (c == '\'' || c == '"') {
                int end = s.indexOf(c, p + 1);
                if (end < 0) throw bad("unterminated string");
                String v = s.substring(p + 1, end);
                p = end + 1;
                return v;
            }
            int start = p;
            while (p < s.length() && (Character.isLetterOrDigit(s.charAt(p)) || s.charAt(p) == '-' || s.charAt(p) == '_')) p++;
            String word = s.substring(start, p);
            switch (word) {
                case "True": return Boolean.TRUE;
                case "False": return Boolean.FALSE;
                case "None": return null;
                default:
                    try {
                        return Long.parseLong(word.endsWith("L") ? word.substring(0, word.length() - 1) : word);
                    } catch (NumberFormatException e) {
                        p = start;
                        throw bad("unexpected token '" + (word.length() > 40 ? word.substring(0, 40) : word) + "'");
                    }
            }
        }
    }
}
