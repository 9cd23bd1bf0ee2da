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
 * decoder overlap two dependency chains. Models 0–2 are what format versions 1 and 2 wrote; version 3 writes the
 * models 3–5 of {@link LaneRans}, which {@link #decode} and {@link #skip} hand over to.
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
    static int[] normalise(int[] counts) { return normalise(counts, TOTAL); }

    /** Scales counts to frequencies summing to {@code total}, every present symbol at least 1 (all zero when empty). */
    static int[] normalise(int[] counts, int total) {
        int[] f = new int[counts.length];
        long n = 0;
        for (int c : counts) n += c;
        if (n == 0) return f;
        int sum = 0, maxAt = 0;
        for (int s = 0; s < counts.length; s++) {
            if (counts[s] == 0) continue;
            f[s] = (int) Math.max(1, (counts[s] * (long) total) / n);
            sum += f[s];
            if (counts[s] > counts[maxAt] || f[maxAt] == 0) maxAt = s;
        }
        int diff = total - sum;
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

    static int[] readTable(BytesIn in, int alphabet) throws CorruptObjectException { return readTable(in, alphabet, TOTAL); }

    static int[] readTable(BytesIn in, int alphabet, int total) throws CorruptObjectException {
        int at = in.position();
        int[] f = new int[alphabet];
        long sum = 0;
        for (int s = 0; s < alphabet; s++) {
            f[s] = in.count("symbol frequency", total);
            sum += f[s];
            if (f[s] == 0) s += in.count("zero run", alphabet - 1 - s);
        }
        if (sum != total && sum != 0) throw in.corrupt("frequencies sum to " + sum + ", not " + total, at);
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

    /** Moves {@code in} past one stream of this alphabet without decoding it (its tables are still checked). */
    public static void skip(BytesIn in, int alphabet) throws CorruptObjectException {
        int modelAt = in.position();
        int m = in.u8("entropy model");
        if (m > LaneRans.CODE_PREVIOUS) throw in.corrupt("unknown entropy model " + m, modelAt);
        if (m >= LaneRans.CODE_ORDER0) {
            LaneRans.skip(in, m, alphabet);
            return;
        }
        Model model = Model.values()[m];
        if (model == Model.NEIGHBOUR) in.count("context row length", Integer.MAX_VALUE);
        for (int c = contexts(model, alphabet); c > 0; c--) readTable(in, alphabet);
        int len = in.count("entropy payload length", in.remaining());
        if (len < 8) throw in.corrupt("entropy payload shorter than its two states");
        in.skip(len, "entropy payload");
    }

    /** Decodes {@code n} symbols into {@code dst[0..n)}. */
    public static void decode(BytesIn in, byte[] dst, int n, int alphabet) throws CorruptObjectException {
        int modelAt = in.position();
        int m = in.u8("entropy model");
        if (m > LaneRans.CODE_PREVIOUS) throw in.corrupt("unknown entropy model " + m, modelAt);
        if (m >= LaneRans.CODE_ORDER0) {
            LaneRans.decode(in, m, modelAt, dst, n, alphabet);
            return;
        }
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
        // per context and slot the symbol; per table block and symbol (freq << 16 | cum) for the state update, a small
        // table that stays in L1. Contexts without symbols share one trap block, whose entry turns the state
        // negative, which the decode loops report
        int[] tableBase = new int[nc];
        int[] zeroBelow = new int[nc];
        int usedCount = 0;
        for (int c = 0; c < nc; c++) {
            tableBase[c] = used(freq[c]) ? TOTAL * usedCount++ : -1;
            zeroBelow[c] = freq[c][0];
        }
        if (usedCount == 0 && n > 0) throw in.corrupt("entropy model has no symbols", start);
        int trap = usedCount < nc ? 1 : 0;
        byte[] symbolOf = new byte[(usedCount + trap) * TOTAL];
        int[] fc = new int[(usedCount + trap) << 8];
        if (trap == 1) fc[usedCount << 8] = TOTAL;
        for (int c = 0; c < nc; c++) {
            if (tableBase[c] < 0) {
                tableBase[c] = usedCount * TOTAL;
                continue;
            }
            int block = (tableBase[c] >>> PROB_BITS) << 8;
            for (int k = 0; k < alphabet; k++) {
                int from = tableBase[c] + cum[c][k], f = freq[c][k];
                if (f == 0) continue;
                Arrays.fill(symbolOf, from, from + f, (byte) k);
                fc[block | k] = f << 16 | cum[c][k];
            }
        }
        Tables t = new Tables(tableBase, zeroBelow, symbolOf, fc, b, end);
        long state = switch (model) {
            case ORDER0 -> t.order0(dst, n, x0, x1, p);
            case NEIGHBOUR -> t.neighbour(dst, n, row, x0, x1, p);
            case PREVIOUS -> t.previous(dst, n, x0, x1, p);
        };
        if (state != (LOW | (long) LOW << 32)) throw in.corrupt("entropy stream is corrupt or did not end where expected", start);
    }

    /**
     * Decode tables of one stream and its payload. Each loop decodes pairs (even symbol from state 0, odd from state
     * 1) while at least 4 payload bytes are left, which is all a pair can consume (a state takes at most 2 bytes
     * after a step: it is at least 2^9 and LOW is 2^23), then one symbol at a time with every read checked. A valid
     * state always lies in [LOW, 2^31) after renormalisation; the sign bits of {@code x} and {@code x - LOW} are
     * collected into {@code bad}, which catches a stream that used an empty context (the trap block).
     * The table block of slot {@code t} is {@code t >>> PROB_BITS}, so its (freq, cum) entries start at
     * {@code (t >>> 6) & ~0xFF}. Each returns
     * the two final states (state 1 in the high half), or 0 when the stream ran out, was not consumed exactly, or
     * went bad.
     */
    private record Tables(int[] base, int[] zeroBelow, byte[] symbolOf, int[] fc, byte[] b, int end) {
        long order0(byte[] dst, int n, int x0, int x1, int p) {
            byte[] symbolOf = this.symbolOf, b = this.b;
            int[] fc = this.fc;
            int end = this.end, bad = 0, i = 0;
            for (; i + 1 < n && p + 4 <= end; i += 2) {
                int s0 = x0 & MASK, s1 = x1 & MASK;
                int sym0 = symbolOf[s0], sym1 = symbolOf[s1];
                dst[i] = (byte) sym0;
                dst[i + 1] = (byte) sym1;
                int fc0 = fc[sym0 & 0xFF], fc1 = fc[sym1 & 0xFF];
                x0 = (fc0 >>> 16) * (x0 >>> PROB_BITS) + s0 - (fc0 & 0xFFFF);
                x1 = (fc1 >>> 16) * (x1 >>> PROB_BITS) + s1 - (fc1 & 0xFFFF);
                if (x0 < LOW) {
                    x0 = x0 << 8 | b[p++] & 0xFF;
                    if (x0 < LOW) x0 = x0 << 8 | b[p++] & 0xFF;
                }
                if (x1 < LOW) {
                    x1 = x1 << 8 | b[p++] & 0xFF;
                    if (x1 < LOW) x1 = x1 << 8 | b[p++] & 0xFF;
                }
                bad |= x0 | (x0 - LOW) | x1 | (x1 - LOW);
            }
            return bad < 0 ? 0 : tail(dst, n, i, 0, 0, x0, x1, p);
        }

        long neighbour(byte[] dst, int n, int row, int x0, int x1, int p) {
            byte[] symbolOf = this.symbolOf, b = this.b;
            int[] fc = this.fc, base = this.base, zeroBelow = this.zeroBelow;
            int end = this.end, bad = 0, i = 0;
            int from = row == 0 ? Integer.MAX_VALUE : row; // first symbol with an upper neighbour
            int left = 0; // previous symbol != 0
            for (; i + 1 < n && p + 4 <= end; i += 2) {
                int c0 = left | (i >= from ? nonZero(dst[i - row]) << 1 : 0);
                int s0 = x0 & MASK;
                int t0 = base[c0] + s0;
                int nz0 = (zeroBelow[c0] - 1 - s0) >>> 31;
                int sym0 = symbolOf[t0] & 0xFF;
                dst[i] = (byte) sym0;
                int c1 = nz0 | (i + 1 >= from ? nonZero(dst[i + 1 - row]) << 1 : 0);
                int s1 = x1 & MASK;
                int t1 = base[c1] + s1;
                left = (zeroBelow[c1] - 1 - s1) >>> 31;
                int sym1 = symbolOf[t1] & 0xFF;
                dst[i + 1] = (byte) sym1;
                int fc0 = fc[(t0 >>> 6 & ~0xFF) | sym0], fc1 = fc[(t1 >>> 6 & ~0xFF) | sym1];
                x0 = (fc0 >>> 16) * (x0 >>> PROB_BITS) + s0 - (fc0 & 0xFFFF);
                x1 = (fc1 >>> 16) * (x1 >>> PROB_BITS) + s1 - (fc1 & 0xFFFF);
                if (x0 < LOW) {
                    x0 = x0 << 8 | b[p++] & 0xFF;
                    if (x0 < LOW) x0 = x0 << 8 | b[p++] & 0xFF;
                }
                if (x1 < LOW) {
                    x1 = x1 << 8 | b[p++] & 0xFF;
                    if (x1 < LOW) x1 = x1 << 8 | b[p++] & 0xFF;
                }
                bad |= x0 | (x0 - LOW) | x1 | (x1 - LOW);
            }
            return bad < 0 ? 0 : tail(dst, n, i, 1, row, x0, x1, p);
        }

        long previous(byte[] dst, int n, int x0, int x1, int p) {
            byte[] symbolOf = this.symbolOf, b = this.b;
            int[] fc = this.fc, base = this.base;
            int end = this.end, bad = 0, i = 0;
            int prev = 0;
            for (; i + 1 < n && p + 4 <= end; i += 2) {
                int t0 = base[prev] + (x0 & MASK);
                int sym0 = symbolOf[t0] & 0xFF;
                int t1 = base[sym0] + (x1 & MASK);
                prev = symbolOf[t1] & 0xFF;
                dst[i] = (byte) sym0;
                dst[i + 1] = (byte) prev;
                int fc0 = fc[(t0 >>> 6 & ~0xFF) | sym0], fc1 = fc[(t1 >>> 6 & ~0xFF) | prev];
                x0 = (fc0 >>> 16) * (x0 >>> PROB_BITS) + (t0 & MASK) - (fc0 & 0xFFFF);
                x1 = (fc1 >>> 16) * (x1 >>> PROB_BITS) + (t1 & MASK) - (fc1 & 0xFFFF);
                if (x0 < LOW) {
                    x0 = x0 << 8 | b[p++] & 0xFF;
                    if (x0 < LOW) x0 = x0 << 8 | b[p++] & 0xFF;
                }
                if (x1 < LOW) {
                    x1 = x1 << 8 | b[p++] & 0xFF;
                    if (x1 < LOW) x1 = x1 << 8 | b[p++] & 0xFF;
                }
                bad |= x0 | (x0 - LOW) | x1 | (x1 - LOW);
            }
            return bad < 0 ? 0 : tail(dst, n, i, 2, 0, x0, x1, p);
        }

        /** Symbols from {@code i} on, one at a time, every payload read checked. */
        private long tail(byte[] dst, int n, int i, int model, int row, int x0, int x1, int p) {
            int bad = 0;
            for (; i < n; i++) {
                int c = switch (model) {
                    case 0 -> 0;
                    case 1 -> context(dst, i, row);
                    default -> i > 0 ? dst[i - 1] & 0xFF : 0;
                };
                int x = (i & 1) == 0 ? x0 : x1;
                int t = base[c] + (x & MASK);
                int sym = symbolOf[t] & 0xFF;
                dst[i] = (byte) sym;
                int f = fc[(t >>> 6 & ~0xFF) | sym];
                x = (f >>> 16) * (x >>> PROB_BITS) + (t & MASK) - (f & 0xFFFF);
                while (x < LOW && x >= 0) {
                    if (p >= end) return 0;
                    x = x << 8 | b[p++] & 0xFF;
                }
                bad |= x | (x - LOW);
                if ((i & 1) == 0) x0 = x; else x1 = x;
            }
            if (bad < 0 || p != end) return 0;
            return (x0 & 0xFFFFFFFFL) | (long) x1 << 32;
        }
    }

    /** 1 when {@code v} is not zero, else 0. */
    private static int nonZero(int v) { return (v | -v) >>> 31; }

    private static boolean used(int[] f) {
        for (int v : f) if (v != 0) return true;
        return false;
    }
}
