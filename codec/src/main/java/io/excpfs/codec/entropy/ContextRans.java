package io.excpfs.codec.entropy;

import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.BytesOut;

import java.util.Arrays;

/**
 * A static-model range coder (rANS, byte-wise renormalisation, 32-bit state) over symbols of an alphabet of at
 * most 256, with an optional neighbour context: the model of symbol {@code i} is chosen by whether its left
 * neighbour {@code i-1} and its upper neighbour {@code i-row} are zero. The encoder sees the whole tensor, so the
 * frequencies are counted in a first pass and stored (a few dozen bytes); decoding is then one table lookup and one
 * multiply per symbol, with no division and no adaptation.
 *
 * <p>Stream: {@code u8 model} (0 order-0, 1 neighbour, 2 previous symbol), {@code varint row} (model 1 only), per context the
 * normalised frequency table (see {@link #writeTable}), {@code varint payload length}, payload: the two interleaved
 * states (even symbols, odd symbols) as u32 LE, then the renormalisation bytes in decode order. Two states let the
 * decoder overlap two dependency chains.
 */
public final class ContextRans {
    public static final int PROB_BITS = 14;
    private static final int TOTAL = 1 << PROB_BITS;
    private static final int MASK = TOTAL - 1;
    private static final int LOW = 1 << 23;

    /**
     * How symbols are grouped into models: one model; four by whether the left and upper neighbours are zero; or one
     * per value of the previous symbol (order 1, for exponent planes: runs and smooth tensors).
     */
    public enum Model { ORDER0, NEIGHBOUR, PREVIOUS }

    private ContextRans() {}

    static int contexts(Model model, int alphabet) {
        return switch (model) {
            case ORDER0 -> 1;
            case NEIGHBOUR -> 4;
            case PREVIOUS -> alphabet;
        };
    }

    private static int context(byte[] s, int i, int row) {
        int c = (i > 0 && s[i - 1] != 0) ? 1 : 0;
        if (row > 0 && i >= row && s[i - row] != 0) c |= 2;
        return c;
    }

    /** Counts symbol frequencies per context. */
    public static int[][] count(byte[] s, int n, int alphabet, Model model, int row) {
        int[][] counts = new int[contexts(model, alphabet)][alphabet];
        if (model == Model.ORDER0) {
            int[] c = counts[0];
            for (int i = 0; i < n; i++) c[s[i] & 0xFF]++;
        } else if (model == Model.PREVIOUS) {
            int prev = 0;
            for (int i = 0; i < n; i++) {
                int sym = s[i] & 0xFF;
                counts[prev][sym]++;
                prev = sym;
            }
        } else {
            for (int i = 0; i < n; i++) counts[context(s, i, row)][s[i] & 0xFF]++;
        }
        return counts;
    }

    /** Estimated payload bits of an order-0 model with these counts (ignores the table). */
    public static double entropyBits(int[] counts) {
        long n = 0;
        for (int c : counts) n += c;
        if (n == 0) return 0;
        double bits = 0;
        for (int c : counts) if (c > 0) bits -= c * (Math.log((double) c / n) / Math.log(2));
        return bits;
    }

    /** Scales counts to frequencies summing to 2^PROB_BITS, every present symbol at least 1 (all zero when empty). */
    static int[] normalise(int[] counts) {
        int[] f = new int[counts.length];
        long n = 0;
        for (int c : counts) n += c;
        if (n == 0) return f;
        int sum = 0, maxAt = 0;
        for (int s = 0; s < counts.length; s++) {
            if (counts[s] == 0) continue;
            f[s] = (int) Math.max(1, (counts[s] * (long) TOTAL) / n);
            sum += f[s];
            if (counts[s] > counts[maxAt] || f[maxAt] == 0) maxAt = s;
        }
        int diff = TOTAL - sum;
        if (f[maxAt] + diff >= 1) {
            f[maxAt] += diff;
        } else {
            while (diff < 0) {
                for (int s = 0; s < f.length && diff < 0; s++) if (f[s] > 1) { f[s]--; diff++; }
            }
        }
        return f;
    }

    /** Frequencies as varints; a zero frequency is followed by the count of further zeros. */
    static void writeTable(BytesOut out, int[] f) {
        for (int s = 0; s < f.length; s++) {
            out.varint(f[s]);
            if (f[s] == 0) {
                int run = 0;
                while (s + 1 < f.length && f[s + 1] == 0) { s++; run++; }
                out.varint(run);
            }
        }
    }

    static int[] readTable(BytesIn in, int alphabet) throws CorruptObjectException {
        int at = in.position();
        int[] f = new int[alphabet];
        long sum = 0;
        for (int s = 0; s < alphabet; s++) {
            f[s] = in.count("symbol frequency", TOTAL);
            sum += f[s];
            if (f[s] == 0) s += in.count("zero run", alphabet - 1 - s);
        }
        if (sum != TOTAL && sum != 0) throw in.corrupt("frequencies sum to " + sum + ", not " + TOTAL, at);
        return f;
    }

    /** Estimated stream bits of these per-context counts: payload entropy plus about 3 bytes per used symbol. */
    public static double estimateBits(int[][] counts) {
        double bits = 0;
        for (int[] c : counts) {
            bits += entropyBits(c);
            for (int v : c) if (v > 0) bits += 24;
            bits += 16;
        }
        return bits;
    }

    /** Exact bytes {@link #writeTable} takes for the normalised frequencies of these counts. */
    static long tableBytes(int[] counts) {
        int[] f = normalise(counts);
        long bytes = 0;
        for (int s = 0; s < f.length; s++) {
            bytes += varintBytes(f[s]);
            if (f[s] == 0) {
                int run = 0;
                while (s + 1 < f.length && f[s + 1] == 0) { s++; run++; }
                bytes += varintBytes(run);
            }
        }
        return bytes;
    }

    private static int varintBytes(long v) {
        int n = 1;
        while ((v >>>= 7) != 0) n++;
        return n;
    }

    /** Estimated stream bits with these per-context counts: payload entropy plus the exact table bytes. */
    static double streamBits(int[][] counts) {
        double bits = 0;
        for (int[] c : counts) bits += entropyBits(c) + 8 * tableBytes(c);
        return bits;
    }

    /**
     * Encodes with the {@link Model#NEIGHBOUR} model or, when its estimated size (payload entropy plus tables) is not
     * smaller, {@link Model#ORDER0}: a short or context-free tensor does not pay for four tables.
     */
    public static void encodeCheapest(byte[] s, int n, int alphabet, int row, BytesOut out) {
        int[][] neighbour = count(s, n, alphabet, Model.NEIGHBOUR, row);
        int[] flat = new int[alphabet];
        for (int[] c : neighbour) for (int k = 0; k < alphabet; k++) flat[k] += c[k];
        int[][] order0 = {flat};
        if (streamBits(order0) <= streamBits(neighbour)) encode(s, n, alphabet, Model.ORDER0, 0, order0, out);
        else encode(s, n, alphabet, Model.NEIGHBOUR, row, neighbour, out);
    }

    /** Encodes {@code s[0..n)}, each in {@code [0, alphabet)}. */
    public static void encode(byte[] s, int n, int alphabet, Model model, int row, BytesOut out) {
        encode(s, n, alphabet, model, row, count(s, n, alphabet, model, row), out);
    }

    /** Encodes with counts already taken by {@link #count} for the same model. */
    public static void encode(byte[] s, int n, int alphabet, Model model, int row, int[][] counts, BytesOut out) {
        out.u8(model.ordinal());
        if (model == Model.NEIGHBOUR) out.varint(row);
        int nc = counts.length;
        // per (context, symbol) at c * alphabet + symbol: frequency | cumulative frequency << 16, and ceil(2^62 / f)
        int[] fc = new int[nc * alphabet];
        long[] rcp = new long[nc * alphabet];
        for (int c = 0; c < nc; c++) {
            int[] f = normalise(counts[c]);
            writeTable(out, f);
            int cum = 0;
            for (int k = 0; k < alphabet; k++) {
                fc[c * alphabet + k] = f[k] | cum << 16;
                if (f[k] > 0) rcp[c * alphabet + k] = Long.divideUnsigned(-1L >>> 2, f[k]) + 1;
                cum += f[k];
            }
        }
        byte[] buf = new byte[Math.max(64, n / 2 + 64)];
        int pos = buf.length;
        int x0 = LOW, x1 = LOW;
        boolean neighbour = model == Model.NEIGHBOUR, previous = model == Model.PREVIOUS;
        for (int i = n - 1; i >= 0; i--) {
            if (pos < 2) { // a symbol emits at most two bytes: x < 2^31 before, and 2^17 · f > 2^15
                byte[] bigger = new byte[buf.length * 2];
                System.arraycopy(buf, 0, bigger, buf.length, buf.length);
                pos += buf.length;
                buf = bigger;
            }
            int c = neighbour ? context(s, i, row) : previous ? (i > 0 ? s[i - 1] & 0xFF : 0) : 0;
            int k = c * alphabet + (s[i] & 0xFF);
            int entry = fc[k];
            int f = entry & 0xFFFF;
            int x = (i & 1) == 0 ? x0 : x1;
            long xMax = ((long) (LOW >>> PROB_BITS) << 8) * f;
            while (x >= xMax) {
                buf[--pos] = (byte) x;
                x >>>= 8;
            }
            // q = x / f exactly: rcp = ceil(2^62 / f) and x < 2^31 leave an error below 2^-31 < 1/f
            int q = (int) Math.multiplyHigh((long) x << 2, rcp[k]);
            x = (q << PROB_BITS) + (x - q * f) + (entry >>> 16);
            if ((i & 1) == 0) x0 = x; else x1 = x;
        }
        out.varint(buf.length - pos + 8L);
        out.u32(x0).u32(x1);
        out.bytes(buf, pos, buf.length - pos);
    }

    /** Decodes {@code n} symbols into {@code dst[0..n)}. */
    public static void decode(BytesIn in, byte[] dst, int n, int alphabet) throws CorruptObjectException {
        int modelAt = in.position();
        int m = in.u8("entropy model");
        if (m > 2) throw in.corrupt("unknown entropy model " + m, modelAt);
        Model model = Model.values()[m];
        int row = model == Model.NEIGHBOUR ? in.count("context row length", Integer.MAX_VALUE) : 0;
        int nc = contexts(model, alphabet);
        int[][] freq = new int[nc][];
        int[][] cum = new int[nc][];
        for (int c = 0; c < nc; c++) {
            freq[c] = readTable(in, alphabet);
            cum[c] = new int[alphabet];
            for (int k = 1; k < alphabet; k++) cum[c][k] = cum[c][k - 1] + freq[c][k - 1];
        }
        int len = in.count("entropy payload length", in.remaining());
        if (len < 8) throw in.corrupt("entropy payload shorter than its two states");
        int start = in.skip(len, "entropy payload");
        int end = start + len;
        byte[] b = in.array();
        int x0 = (b[start] & 0xFF) | (b[start + 1] & 0xFF) << 8 | (b[start + 2] & 0xFF) << 16 | (b[start + 3] & 0xFF) << 24;
        int x1 = (b[start + 4] & 0xFF) | (b[start + 5] & 0xFF) << 8 | (b[start + 6] & 0xFF) << 16 | (b[start + 7] & 0xFF) << 24;
        int p = start + 8;
        // per used context and slot: the symbol, and (freq << 16 | slot - cum) for the state update
        int[] tableBase = new int[nc];
        int usedCount = 0;
        for (int c = 0; c < nc; c++) tableBase[c] = used(freq[c]) ? TOTAL * usedCount++ : -1;
        byte[] symbolOf = new byte[usedCount * TOTAL];
        int[] step = new int[usedCount * TOTAL];
        for (int c = 0; c < nc; c++) {
            if (tableBase[c] < 0) continue;
            for (int k = 0; k < alphabet; k++) {
                int from = tableBase[c] + cum[c][k], f = freq[c][k];
                Arrays.fill(symbolOf, from, from + f, (byte) k);
                for (int j = 0; j < f; j++) step[from + j] = f << 16 | j;
            }
        }
        if (usedCount == 0 && n > 0) throw in.corrupt("entropy model has no symbols", start);
        boolean order0 = model == Model.ORDER0, previous = model == Model.PREVIOUS;
        int i = 0;
        for (; i + 1 < n; i += 2) {
            int t0 = tableBase[order0 ? 0 : previous ? (i > 0 ? dst[i - 1] & 0xFF : 0) : context(dst, i, row)];
            if (t0 < 0) throw in.corrupt("entropy stream uses an empty context at symbol " + i, start);
            int slot0 = t0 + (x0 & MASK);
            int st0 = step[slot0];
            x0 = (st0 >>> 16) * (x0 >>> PROB_BITS) + (st0 & 0xFFFF);
            dst[i] = symbolOf[slot0];
            int t1 = tableBase[order0 ? 0 : previous ? dst[i] & 0xFF : context(dst, i + 1, row)];
            if (t1 < 0) throw in.corrupt("entropy stream uses an empty context at symbol " + (i + 1), start);
            int slot1 = t1 + (x1 & MASK);
            int st1 = step[slot1];
            x1 = (st1 >>> 16) * (x1 >>> PROB_BITS) + (st1 & 0xFFFF);
            dst[i + 1] = symbolOf[slot1];
            while (x0 < LOW) {
                if (p >= end) throw in.corrupt("entropy stream exhausted at symbol " + i, start);
                x0 = (x0 << 8) | (b[p++] & 0xFF);
            }
            while (x1 < LOW) {
                if (p >= end) throw in.corrupt("entropy stream exhausted at symbol " + (i + 1), start);
                x1 = (x1 << 8) | (b[p++] & 0xFF);
            }
        }
        if (i < n) {
            int t0 = tableBase[order0 ? 0 : previous ? (i > 0 ? dst[i - 1] & 0xFF : 0) : context(dst, i, row)];
            if (t0 < 0) throw in.corrupt("entropy stream uses an empty context at symbol " + i, start);
            int slot0 = t0 + (x0 & MASK);
            int st0 = step[slot0];
            x0 = (st0 >>> 16) * (x0 >>> PROB_BITS) + (st0 & 0xFFFF);
            dst[i] = symbolOf[slot0];
            while (x0 < LOW) {
                if (p >= end) throw in.corrupt("entropy stream exhausted at symbol " + i, start);
                x0 = (x0 << 8) | (b[p++] & 0xFF);
            }
        }
        if (p != end || x0 != LOW || x1 != LOW) throw in.corrupt("entropy stream did not end where expected", start);
    }

    private static boolean used(int[] f) {
        for (int v : f) if (v != 0) return true;
        return false;
    }
}
