package io.excpfs.codec.lossless;

import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdDictContentType;
import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.BytesOut;

/**
 * Exact coding of opaque bytes (skeletons, whole opaque files, non-float payload) with zstd; when a base is given,
 * its bytes are loaded as a raw-content dictionary, so a pickle that barely changed between checkpoints costs a
 * few bytes.
 *
 * <p>Stream: {@code u8 method} (0 raw, 1 zstd, 2 zstd with the base bytes as raw-content dictionary),
 * {@code varint length}, then raw bytes or {@code varint frame length} and the frame.
 */
public final class SkeletonCoder {
    private static final int RAW = 0, ZSTD = 1, ZSTD_BASE = 2;
    /** zstd -19 below this size; faster levels above it keep encode speed bounded on large skeletons. */
    private static final int SMALL = 4 << 20;
    /** Bases larger than this are not used as dictionary (dictionary load cost). */
    private static final int MAX_DICT = 64 << 20;

    private SkeletonCoder() {}

    static int level(int size) { return size <= SMALL ? 19 : size <= 8 * SMALL ? 9 : 3; }

    public static void encode(byte[] data, byte[] base, BytesOut out) {
        boolean useBase = base != null && base.length > 0 && base.length <= MAX_DICT && data.length > 0;
        byte[] frame = new byte[0];
        if (data.length > 0) {
            try (ZstdCompressCtx ctx = new ZstdCompressCtx()) {
                ctx.setLevel(level(data.length));
                if (useBase) ctx.loadDict(base, ZstdDictContentType.RAW_CONTENT);
                frame = ctx.compress(data);
            }
        }
        if (data.length > 0 && frame.length + 4 < data.length) {
            out.u8(useBase ? ZSTD_BASE : ZSTD).varint(data.length).block(frame);
        } else {
            out.u8(RAW).varint(data.length).bytes(data);
        }
    }

    public static byte[] decode(BytesIn in, byte[] base, int maxLength) throws CorruptObjectException {
        int at = in.position();
        int method = in.u8("skeleton method");
        int len = in.count("skeleton length", maxLength);
        switch (method) {
            case RAW:
                return in.bytes(len, "raw bytes");
            case ZSTD:
            case ZSTD_BASE: {
                byte[] frame = in.block("zstd frame");
                if (method == ZSTD_BASE && base == null) throw in.corrupt("bytes are coded against a base that is missing", at);
                try (ZstdDecompressCtx ctx = new ZstdDecompressCtx()) {
                    if (method == ZSTD_BASE) ctx.loadDict(base, ZstdDictContentType.RAW_CONTENT);
                    byte[] b = ctx.decompress(frame, len);
                    if (b.length != len) throw in.corrupt("zstd frame decoded to " + b.length + " bytes, not " + len, at);
                    return b;
                } catch (RuntimeException e) {
                    throw in.corrupt("zstd frame does not decompress: " + e.getMessage(), at);
                }
            }
            default:
                throw in.corrupt("unknown byte coding method " + method, at);
        }
    }
}
