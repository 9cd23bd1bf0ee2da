package io.excpfs.codec.format;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.excpfs.codec.ByteSource;
import io.excpfs.codec.DType;
import io.excpfs.codec.Format;
import io.excpfs.codec.Layout;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * safetensors: u64 little-endian header length N, N bytes of JSON (an object of tensor name → {dtype, shape,
 * data_offsets} plus an optional {@code __metadata__} string map, padded with spaces), then the data area that
 * {@code data_offsets} index. Every tensor is checked: known dtype size × shape = byte length, inside the data
 * area, no overlap. Key order of the header is kept.
 */
final class Safetensors {
    static final long MAX_HEADER = 100L << 20;

    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build());

    private Safetensors() {}

    /** True when the file starts with a plausible header length followed by '{'. */
    static boolean looksLikeSafetensors(ByteSource src) throws IOException {
        if (src.size() < 10) return false;
        byte[] b = src.read(0, 9);
        long n = ZipArchive.u64(b, 0);
        return n >= 2 && b[8] == '{';
    }

    private record Tensor(String name, DType dtype, long[] shape, long begin, long end) {}

    static Layout parse(ByteSource src) throws IOException, MalformedCheckpoint {
        long size = src.size();
        long n = ZipArchive.u64(src.read(0, 8), 0);
        if (n < 0 || n > MAX_HEADER) throw MalformedCheckpoint.at(0, "safetensors: header length " + Long.toUnsignedString(n) + " exceeds " + MAX_HEADER);
        if (n > size - 8) throw MalformedCheckpoint.at(0, "safetensors: header length " + n + " runs past the end of the " + size + "-byte file");
        JsonNode root;
        try (JsonParser p = JSON.getFactory().createParser(src.read(8, (int) n))) {
            root = JSON.readTree(p);
            if (p.nextToken() != null) throw MalformedCheckpoint.at(8, "safetensors: data after the JSON header");
        } catch (IOException e) {
            throw MalformedCheckpoint.at(8, "safetensors: bad JSON header (" + firstLine(e.getMessage()) + ")");
        }
        if (root == null || !root.isObject()) throw MalformedCheckpoint.at(8, "safetensors: header is not a JSON object");
        long dataStart = 8 + n;
        long dataLen = size - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Tensor> tensors = new ArrayList<>();
        for (Map.Entry<String, JsonNode> f : root.properties()) {
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) throw MalformedCheckpoint.at(8, "safetensors: __metadata__ is not an object");
                for (Map.Entry<String, JsonNode> e : v.properties()) {
                    if (!e.getValue().isTextual()) throw MalformedCheckpoint.at(8, "safetensors: __metadata__ value of " + e.getKey() + " is not a string");
                    metadata.put(e.getKey(), e.getValue().asText());
                }
                continue;
            }
            tensors.add(tensor(name, v, dataLen));
        }
        List<Tensor> byOffset = new ArrayList<>(tensors);
        byOffset.sort(Comparator.comparingLong(Tensor::begin).thenComparingLong(Tensor::end));
        long pos = 0;
        String prev = null;
        for (Tensor t : byOffset) {
            if (t.begin() < pos) throw MalformedCheckpoint.at(dataStart + t.begin(), "safetensors: tensor " + t.name() + " overlaps " + prev);
            pos = t.end();
            prev = t.name();
        }
        LayoutDraft draft = new LayoutDraft(Format.SAFETENSORS, size);
        for (Tensor t : tensors) {
            if (t.dtype() == DType.OTHER || t.end() == t.begin()) continue;
            draft.region(draft.uniqueKey(t.name()), t.dtype(), t.shape(), dataStart + t.begin(), t.end() - t.begin());
        }
        draft.metadata(metadata);
        draft.tensorOrder(tensors.stream().map(Tensor::name).toList());
        return draft.build("safetensors: " + tensors.size() + " tensors, " + draft.regionCount() + " regions, header " + n + " bytes");
    }

    private static Tensor tensor(String name, JsonNode v, long dataLen) throws MalformedCheckpoint {
        String where = "safetensors: tensor " + name;
        if (!v.isObject()) throw MalformedCheckpoint.at(8, where + " is not an object");
        JsonNode dt = v.get("dtype");
        JsonNode sh = v.get("shape");
        JsonNode off = v.get("data_offsets");
        if (dt == null || !dt.isTextual()) throw MalformedCheckpoint.at(8, where + " has no dtype");
        if (sh == null || !sh.isArray()) throw MalformedCheckpoint.at(8, where + " has no shape");
        if (off == null || !off.isArray() || off.size() != 2) throw MalformedCheckpoint.at(8, where + " has no data_offsets pair");
        long[] shape = new long[sh.size()];
        long numel = 1;
        try {
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = sh.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) throw MalformedCheckpoint.at(8, where + " has a bad dimension");
                shape[i] = d.asLong();
                numel = Math.multiplyExact(numel, shape[i]);
            }
        } catch (ArithmeticException e) {
            throw MalformedCheckpoint.at(8, where + " has an element count that overflows");
        }
        JsonNode b = off.get(0);
        JsonNode e = off.get(1);
        if (!b.isIntegralNumber() || !e.isIntegralNumber() || !b.canConvertToLong() || !e.canConvertToLong()) {
            throw MalformedCheckpoint.at(8, where + " has non-integer data_offsets");
        }
        long begin = b.asLong();
        long end = e.asLong();
        if (begin < 0 || end < begin || end > dataLen) {
            throw MalformedCheckpoint.at(8, where + " has data_offsets [" + begin + ", " + end + "] outside the " + dataLen + "-byte data area");
        }
        int elementSize = elementSize(dt.asText());
        DType dtype = dtype(dt.asText());
        if (elementSize > 0) {
            long expect;
            try {
                expect = Math.multiplyExact(numel, (long) elementSize);
            } catch (ArithmeticException x) {
                throw MalformedCheckpoint.at(8, where + " is too large");
            }
            if (expect != end - begin) {
                throw MalformedCheckpoint.at(8, where + " spans " + (end - begin) + " bytes, its shape and dtype need " + expect);
            }
        }
        return new Tensor(name, dtype, shape, begin, end);
    }

    static DType dtype(String name) {
        return switch (name) {
            case "F64" -> DType.F64;
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            case "I64" -> DType.I64;
            case "I32" -> DType.I32;
            case "I16" -> DType.I16;
            case "I8" -> DType.I8;
            case "U8" -> DType.U8;
            case "BOOL" -> DType.BOOL;
            default -> DType.OTHER;
        };
    }

    /** Bytes per element of a safetensors dtype name, 0 when unknown (then the length is not checked). */
    static int elementSize(String name) {
        return switch (name) {
            case "F64", "I64", "U64", "C64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2" -> 1;
            default -> 0;
        };
    }

    private static String firstLine(String s) {
        if (s == null) return "unreadable";
        int nl = s.indexOf('\n');
        String l = nl < 0 ? s : s.substring(0, nl);
        return l.length() > 200 ? l.substring(0, 200) : l;
    }
}
