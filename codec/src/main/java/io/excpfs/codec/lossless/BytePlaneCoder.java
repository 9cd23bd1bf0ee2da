package io.excpfs.codec.lossless;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdException;
import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.entropy.ContextRans;
import io.excpfs.codec.entropy.LaneRans;
import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.BytesOut;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Lossless coder of fixed-width elements (float payload above all). Optionally XORs with the base payload, rotates
 * each float word left by one bit so that the sign moves to the bottom and the exponent fills the top byte, splits
 * the words into byte planes and codes each plane with whichever of raw, rANS (order 0 or order 1) or zstd is
 * smallest. When at least 1/64 of the words are zero (unused embedding rows, moments of frozen parameters,
 * unchanged elements after XOR), a flag per word is coded first and the planes hold only the non-zero words. The
 * rotation is what beats ZipNN-style byte grouping: an fp32 exponent straddles two bytes, so grouping leaves one
 * exponent bit inside an otherwise random mantissa byte and the sign inside the exponent byte.
 *
 * <p>Stream: {@code u8 width}, {@code u8 flags} (1 = rotated, 2 = XOR with base, 4 = zero-word flags),
 * {@code varint count}, [zero-word flags: a {@link ContextRans} stream of count symbols of alphabet 2, 1 = non-zero],
 * then per plane from the most significant byte down, over the m non-zero words: {@code u8 method} (0 raw, 1 rANS,
 * 2 zstd) and its data (raw: m bytes; rANS: a {@link ContextRans} stream; zstd: varint length, frame).
 */
public final class BytePlaneCoder {
    private static final int RAW = 0, RANS = 1, ZSTD = 2;
    private static final int FLAG_ROTATED = 1, FLAG_XOR = 2, FLAG_ZERO_WORDS = 4;
    /** Planes at least this long may use the order-1 (previous symbol) model. */
    private static final int PREVIOUS_FROM = 1 << 18;
    /**
     * Planes whose order-0 entropy is above this (bits per byte) are stored raw: the top mantissa byte of trained
     * weights measures 7.86–7.97 bits, and coding it would save under 2% of that plane for a decode pass.
     */
    private static final double RAW_ABOVE = 7.8;
    /** zstd is also tried on planes whose order-0 entropy is below this (runs and repeats). */
    private static final double ZSTD_BELOW = 1.0;

    private BytePlaneCoder() {}

    /**
     * @param data   payload, a whole number of elements of {@code width} bytes
     * @param width  element width: 1, 2, 4 or 8
     * @param rotate true for float elements (sign to the bottom)
     * @param base   null, or the base payload of the same length to XOR with first
     */
    public static void encode(byte[] data, int width, boolean rotate, byte[] base, BytesOut out) {
        if (data.length % width != 0) throw new IllegalArgumentException("payload is not a whole number of elements");
        if (base != null && base.length != data.length) throw new IllegalArgumentException("base payload length differs");
        int n = data.length / width;
        byte[][] planes = split(data, width, rotate && width > 1, base);
        byte[] nonZero = new byte[n];
        int m = 0;
        for (int i = 0; i < n; i++) {
            int any = 0;
            for (int p = 0; p < width; p++) any |= planes[p][i];
            if (any != 0) { nonZero[i] = 1; m++; }
        }
        boolean zeroWords = n >= 64 && n - m >= n / 64;
        out.u8(width).u8((rotate ? FLAG_ROTATED : 0) | (base != null ? FLAG_XOR : 0) | (zeroWords ? FLAG_ZERO_WORDS : 0)).varint(n);
        if (zeroWords) {
            LaneRans.encode(nonZero, n, 2, LaneRans.neighbour(nonZero, n, 2, 0), out);
            for (int p = 0; p < width; p++) {
                byte[] compact = new byte[m];
                for (int i = 0, j = 0; i < n; i++) if (nonZero[i] != 0) compact[j++] = planes[p][i];
                planes[p] = compact;
            }
        }
        for (int p = width - 1; p >= 0; p--) encodePlane(planes[p], out);
    }

    private static void encodePlane(byte[] plane, BytesOut out) {
        int n = plane.length;
        int[] pairs = n >= PREVIOUS_FROM ? LaneRans.pairCounts(plane, n, 256) : null;
        LaneRans.Contexts order0 = pairs != null ? LaneRans.order0(pairs, 256) : LaneRans.order0(plane, n, 256);
        double bits0 = ContextRans.entropyBits(order0.counts()[0]);
        if (n < 64 || bits0 >= RAW_ABOVE * n) {
            out.u8(RAW).bytes(plane);
            return;
        }
        LaneRans.Contexts model = order0;
        if (pairs != null) {
            LaneRans.Contexts previous = LaneRans.previous(plane, n, 256, pairs, LaneRans.MAX_PREVIOUS_CONTEXTS);
            if (previous.bits() < 0.98 * order0.bits()) model = previous;
        }
        BytesOut rans = new BytesOut((int) (bits0 / 8) + 1024);
        LaneRans.encode(plane, n, 256, model, rans);
        byte[] best = rans.toByteArray();
        int method = RANS;
        if (bits0 < ZSTD_BELOW * n) {
            byte[] z = Zstd.compress(plane, 3);
            if (z.length + 5 < best.length) { best = z; method = ZSTD; }
        }
        if (best.length >= n) {
            out.u8(RAW).bytes(plane);
        } else if (method == ZSTD) {
            out.u8(ZSTD).block(best);
        } else {
            out.u8(RANS).bytes(best);
        }
    }

    /** Decodes into {@code dst} (its length must be the payload length). */
    public static void decode(BytesIn in, byte[] dst, byte[] base) throws CorruptObjectException {
        read(in, dst.length).decode(dst, base);
    }

    /**
     * Reads one stream up to its planes: checks the header, decodes the zero-word flags and locates each plane in
     * the stream, leaving {@code in} after the stream. The planes are decoded by {@link Planes#decode}, on any thread.
     *
     * @param length payload length the stream must decode to
     */
    public static Planes read(BytesIn in, long length) throws CorruptObjectException {
        int at = in.position();
        int width = in.u8("element width");
        int flags = in.u8("plane flags");
        if (width != 1 && width != 2 && width != 4 && width != 8) throw in.corrupt("bad element width " + width, at);
        if ((flags & ~(FLAG_ROTATED | FLAG_XOR | FLAG_ZERO_WORDS)) != 0) throw in.corrupt("unknown plane flags " + flags, at + 1);
        int n = in.count("element count", Integer.MAX_VALUE);
        if ((long) n * width != length) throw in.corrupt("plane payload is " + (long) n * width + " bytes, region needs " + length, at);
        byte[] nonZero = null;
        int m = n;
        if ((flags & FLAG_ZERO_WORDS) != 0) {
            nonZero = new byte[n];
            ContextRans.decode(in, nonZero, n, 2);
            m = 0;
            for (byte b : nonZero) m += b;
        }
        int[] method = new int[width], start = new int[width], end = new int[width];
        for (int p = width - 1; p >= 0; p--) {
            int methodAt = in.position();
            method[p] = in.u8("plane method");
            switch (method[p]) {
                case RAW -> start[p] = in.skip(m, "raw plane");
                case RANS -> {
                    start[p] = in.position();
                    ContextRans.skip(in, 256);
                }
                case ZSTD -> start[p] = in.skip(in.count("zstd plane length", in.remaining()), "zstd plane");
                default -> throw in.corrupt("unknown plane method " + method[p], methodAt);
            }
            end[p] = in.position();
        }
        return new Planes(in.array(), at, width, flags, n, nonZero, m, method, start, end);
    }

    /** One located byte-plane stream of {@code n} elements, {@code m} of them non-zero; see {@link #read}. */
    public static final class Planes {
        private final byte[] object;
        private final int at, width, flags, n, m;
        private final byte[] nonZero;
        private final int[] method, start, end;

        private Planes(byte[] object, int at, int width, int flags, int n, byte[] nonZero, int m, int[] method, int[] start, int[] end) {
            this.object = object;
            this.at = at;
            this.width = width;
            this.flags = flags;
            this.n = n;
            this.nonZero = nonZero;
            this.m = m;
            this.method = method;
            this.start = start;
            this.end = end;
        }

        /** True when the payload is XORed with the base payload (so {@link #decode} needs it). */
        public boolean needsBase() { return (flags & FLAG_XOR) != 0; }

        /**
         * Decodes the payload into {@code dst} (of the length given to {@link #read}).
         *
         * @param base the base payload when {@link #needsBase()}, else ignored
         */
        public void decode(byte[] dst, byte[] base) throws CorruptObjectException {
            boolean xor = needsBase();
            if (xor && (base == null || base.length != dst.length)) throw corrupt("payload is XORed with a base that is missing", at);
            byte[][] planes = new byte[width][];
            int[] offset = new int[width];
            for (int p = 0; p < width; p++) {
                switch (method[p]) {
                    case RAW -> {
                        planes[p] = object;
                        offset[p] = start[p];
                    }
                    case RANS -> {
                        planes[p] = new byte[m];
                        BytesIn in = new BytesIn(object, start[p], end[p]);
                        ContextRans.decode(in, planes[p], m, 256);
                        if (in.remaining() != 0) throw corrupt("rANS plane ends before its extent", start[p]);
                    }
                    default -> {
                        planes[p] = new byte[m];
                        long got;
                        try {
                            got = Zstd.decompressByteArray(planes[p], 0, m, object, start[p], end[p] - start[p]);
                        } catch (ZstdException e) {
                            throw corrupt("zstd plane does not decompress: " + e.getMessage(), start[p] - 1);
                        }
                        if (Zstd.isError(got)) throw corrupt("zstd plane does not decompress: " + Zstd.getErrorName(got), start[p] - 1);
                        if (got != m) throw corrupt("zstd plane has " + got + " bytes, not " + m, start[p] - 1);
                    }
                }
            }
            boolean rotate = (flags & FLAG_ROTATED) != 0 && width > 1;
            if (nonZero == null) {
                merge(planes, offset, width, rotate, xor ? base : null, dst);
            } else {
                mergeNonZero(planes, offset, nonZero, width, rotate, xor ? base : null, dst);
            }
        }

        private static CorruptObjectException corrupt(String message, int at) {
            return new CorruptObjectException(CorruptObjectException.Reason.CORRUPT, message + " (offset " + at + ")");
        }
    }

    static byte[][] split(byte[] data, int width, boolean rotate, byte[] base) {
        int n = data.length / width;
        byte[][] planes = new byte[width][n];
        switch (width) {
            case 1 -> {
                byte[] p0 = planes[0];
                for (int i = 0; i < n; i++) p0[i] = (byte) (data[i] ^ (base == null ? 0 : base[i]));
            }
            case 2 -> {
                byte[] p0 = planes[0], p1 = planes[1];
                for (int i = 0, j = 0; i < n; i++, j += 2) {
                    int w = (data[j] & 0xFF) | (data[j + 1] & 0xFF) << 8;
                    if (base != null) w ^= (base[j] & 0xFF) | (base[j + 1] & 0xFF) << 8;
                    if (rotate) w = ((w << 1) | (w >>> 15)) & 0xFFFF;
                    p0[i] = (byte) w;
                    p1[i] = (byte) (w >>> 8);
                }
            }
            case 4 -> {
                byte[] p0 = planes[0], p1 = planes[1], p2 = planes[2], p3 = planes[3];
                for (int i = 0, j = 0; i < n; i++, j += 4) {
                    int w = (data[j] & 0xFF) | (data[j + 1] & 0xFF) << 8 | (data[j + 2] & 0xFF) << 16 | (data[j + 3] & 0xFF) << 24;
                    if (base != null) w ^= (base[j] & 0xFF) | (base[j + 1] & 0xFF) << 8 | (base[j + 2] & 0xFF) << 16 | (base[j + 3] & 0xFF) << 24;
                    if (rotate) w = Integer.rotateLeft(w, 1);
                    p0[i] = (byte) w;
                    p1[i] = (byte) (w >>> 8);
                    p2[i] = (byte) (w >>> 16);
                    p3[i] = (byte) (w >>> 24);
                }
            }
            case 8 -> {
                for (int i = 0, j = 0; i < n; i++, j += 8) {
                    long w = 0;
                    for (int k = 0; k < 8; k++) w |= (data[j + k] & 0xFFL) << (8 * k);
                    if (base != null) {
                        long bw = 0;
                        for (int k = 0; k < 8; k++) bw |= (base[j + k] & 0xFFL) << (8 * k);
                        w ^= bw;
                    }
                    if (rotate) w = Long.rotateLeft(w, 1);
                    for (int k = 0; k < 8; k++) planes[k][i] = (byte) (w >>> (8 * k));
                }
            }
            default -> throw new IllegalArgumentException("element width " + width);
        }
        return planes;
    }

    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    /** Interleaves plane bytes {@code planes[p][offset[p] + i]} back into elements, then undoes rotation and XOR. */
    static void merge(byte[][] planes, int[] offset, int width, boolean rotate, byte[] base, byte[] dst) {
        int n = dst.length / width;
        if (width == 4) {
            byte[] p0 = planes[0], p1 = planes[1], p2 = planes[2], p3 = planes[3];
            int o0 = offset[0], o1 = offset[1], o2 = offset[2], o3 = offset[3];
            int shift = rotate ? 1 : 0;
            int quads = n & ~3;
            // four elements at a time: one 4-byte load per plane, transposed in registers
            for (int i = 0, j = 0; i < quads; i += 4, j += 16) {
                int a = (int) INT_LE.get(p0, o0 + i), b = (int) INT_LE.get(p1, o1 + i);
                int c = (int) INT_LE.get(p2, o2 + i), d = (int) INT_LE.get(p3, o3 + i);
                int w0 = (a & 0xFF) | (b & 0xFF) << 8 | (c & 0xFF) << 16 | d << 24;
                int w1 = (a >>> 8 & 0xFF) | (b & 0xFF00) | (c & 0xFF00) << 8 | (d & 0xFF00) << 16;
                int w2 = (a >>> 16 & 0xFF) | (b >>> 8 & 0xFF00) | (c & 0xFF0000) | (d & 0xFF0000) << 8;
                int w3 = (a >>> 24) | (b >>> 16 & 0xFF00) | (c >>> 8 & 0xFF0000) | (d & 0xFF000000);
                if (base == null) {
                    INT_LE.set(dst, j, Integer.rotateRight(w0, shift));
                    INT_LE.set(dst, j + 4, Integer.rotateRight(w1, shift));
                    INT_LE.set(dst, j + 8, Integer.rotateRight(w2, shift));
                    INT_LE.set(dst, j + 12, Integer.rotateRight(w3, shift));
                } else {
                    INT_LE.set(dst, j, Integer.rotateRight(w0, shift) ^ (int) INT_LE.get(base, j));
                    INT_LE.set(dst, j + 4, Integer.rotateRight(w1, shift) ^ (int) INT_LE.get(base, j + 4));
                    INT_LE.set(dst, j + 8, Integer.rotateRight(w2, shift) ^ (int) INT_LE.get(base, j + 8));
                    INT_LE.set(dst, j + 12, Integer.rotateRight(w3, shift) ^ (int) INT_LE.get(base, j + 12));
                }
            }
            if (base == null) {
                for (int i = quads, j = 4 * quads; i < n; i++, j += 4) {
                    int w = (p0[o0 + i] & 0xFF) | (p1[o1 + i] & 0xFF) << 8 | (p2[o2 + i] & 0xFF) << 16 | (p3[o3 + i] & 0xFF) << 24;
                    INT_LE.set(dst, j, Integer.rotateRight(w, shift));
                }
            } else {
                for (int i = quads, j = 4 * quads; i < n; i++, j += 4) {
                    int w = (p0[o0 + i] & 0xFF) | (p1[o1 + i] & 0xFF) << 8 | (p2[o2 + i] & 0xFF) << 16 | (p3[o3 + i] & 0xFF) << 24;
                    INT_LE.set(dst, j, Integer.rotateRight(w, shift) ^ (int) INT_LE.get(base, j));
                }
            }
            return;
        }
        for (int i = 0, j = 0; i < n; i++, j += width) {
            long w = 0;
            for (int k = 0; k < width; k++) w |= (planes[k][offset[k] + i] & 0xFFL) << (8 * k);
            put(w, width, rotate, base, dst, j);
        }
    }

    /** As {@link #merge}, with the planes holding only the elements whose flag in {@code nonZero} is 1. */
    static void mergeNonZero(byte[][] planes, int[] offset, byte[] nonZero, int width, boolean rotate, byte[] base, byte[] dst) {
        int n = dst.length / width;
        int[] at = offset.clone();
        if (width == 4) {
            byte[] p0 = planes[0], p1 = planes[1], p2 = planes[2], p3 = planes[3];
            int a0 = at[0], a1 = at[1], a2 = at[2], a3 = at[3];
            int shift = rotate ? 1 : 0;
            for (int i = 0, j = 0; i < n; i++, j += 4) {
                int w = 0;
                if (nonZero[i] != 0) {
                    w = Integer.rotateRight((p0[a0++] & 0xFF) | (p1[a1++] & 0xFF) << 8 | (p2[a2++] & 0xFF) << 16 | (p3[a3++] & 0xFF) << 24, shift);
                }
                INT_LE.set(dst, j, base == null ? w : w ^ (int) INT_LE.get(base, j));
            }
            return;
        }
        for (int i = 0, j = 0; i < n; i++, j += width) {
            long w = 0;
            if (nonZero[i] != 0) {
                for (int k = 0; k < width; k++) w |= (planes[k][at[k]++] & 0xFFL) << (8 * k);
            }
            put(w, width, rotate, base, dst, j);
        }
    }

    private static void put(long w, int width, boolean rotate, byte[] base, byte[] dst, int j) {
        if (rotate) {
            int bits = 8 * width;
            w = (w >>> 1 | w << (bits - 1)) & (bits == 64 ? -1L : (1L << bits) - 1);
        }
        for (int k = 0; k < width; k++) dst[j + k] = (byte) ((w >>> (8 * k)) ^ (base == null ? 0 : base[j + k]));
    }
}
