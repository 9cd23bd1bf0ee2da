package io.excpfs.codec.entropy;

import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.BytesOut;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The rANS streams of object format version 3 (model codes 3, 4, 5 of a {@link ContextRans} stream): the symbols are
 * cut into four lanes of consecutive symbols, each coded by its own state and read from its own word stream as if it
 * were a sequence of its own, so the four dependency chains of a decode overlap in the CPU; a state renormalises by
 * 16-bit words, at most one per symbol and without a branch; and every (context, slot) has one 32-bit decode entry
 * holding the symbol, its frequency and the slot's offset inside it, so a symbol costs one table load and one
 * multiply. Frequencies have 12 bits, which costs about 0.05% against 14 on trained tensors and keeps a table at
 * 16 KB per context.
 *
 * <p>Lanes: with {@code L = n / 4} (rounded down) lane {@code j < 3} holds symbols {@code [jL, (j+1)L)} and lane 3
 * holds {@code [3L, n)}. Decode order: for {@code i} from 0 to {@code L - 1} the {@code i}-th symbol of lanes 0, 1,
 * 2, 3, then the rest of lane 3. Contexts look only inside the symbol's lane: the left neighbour and the previous
 * symbol are the lane's previous symbol (none, i.e. 0, for its first), the upper neighbour is the symbol {@code row}
 * earlier in the lane (none when the lane has fewer before it).
 *
 * <p>Stream: {@code u8 model} (3 order-0, 4 neighbour, 5 previous symbol), {@code varint row} (model 4),
 * {@code u8 k} (1 to 32) and {@code k - 1} distinct symbol values (model 5: a previous symbol equal to the {@code c}-th value
 * selects context {@code c}, any other selects context {@code k - 1}), per context the frequency table of
 * {@link ContextRans#writeTable} summing to 2^12 (or all zero), {@code varint payload length}, payload: the four
 * lanes' final encoder states (the decoder's initial states) as u32 LE, the byte counts of the word streams of
 * lanes 0, 1 and 2 as varints, then the word streams of lanes 0, 1, 2 and 3 back to back (lane 3's runs to the end
 * of the payload), each the lane's renormalisation words as u16 LE in the order the lane reads them. States live
 * in [2^15, 2^31); a valid stream ends with every state back at 2^15 and every lane's words read exactly.
 */
public final class LaneRans {
    public static final int PROB_BITS = 12;
    static final int TOTAL = 1 << PROB_BITS;
    private static final int MASK = TOTAL - 1;
    private static final int LOW = 1 << 15;
    /** The encoder renormalises before a symbol of frequency f while x ≥ f · 2^19 (= (LOW / TOTAL) · 2^16 · f). */
    private static final int RENORM_SHIFT = 31 - PROB_BITS;
    static final int LANES = 4;
    /** Most contexts of the previous-symbol model. */
    public static final int MAX_PREVIOUS_CONTEXTS = 32;
    static final int CODE_ORDER0 = 3, CODE_NEIGHBOUR = 4, CODE_PREVIOUS = 5;

    private static final VarHandle SHORT_LE = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private LaneRans() {}

    /**
     * Contexts of every symbol and their counts, for one model.
     *
     * @param context per symbol its context (null for order 0)
     * @param counts  per context the symbol counts
     * @param values  model 5: the previous-symbol values with a context of their own, else null
     */
    public record Contexts(byte[] context, int[][] counts, byte[] values, int row) {
        /** Estimated stream bits: payload entropy plus the exact table bytes. */
        public double bits() { return ContextRans.streamBits(counts); }

        int code() { return context == null ? CODE_ORDER0 : values == null ? CODE_NEIGHBOUR : CODE_PREVIOUS; }
    }

    static int laneLength(int n) { return n >>> 2; }

    /** Order-0 counts. */
    public static Contexts order0(byte[] s, int n, int alphabet) {
        int[] c = new int[alphabet];
        for (int i = 0; i < n; i++) c[s[i] & 0xFF]++;
        return new Contexts(null, new int[][] {c}, null, 0);
    }

    /** Neighbour contexts: bit 0 the lane's previous symbol is not zero, bit 1 the symbol {@code row} before is not. */
    public static Contexts neighbour(byte[] s, int n, int alphabet, int row) {
        byte[] ctx = new byte[n];
        // one histogram per lane, the four lanes counted side by side, so that runs of one symbol do not make every
        // increment wait for the previous one
        int shift = 32 - Integer.numberOfLeadingZeros(Math.max(1, alphabet - 1));
        int[] h0 = new int[4 << shift], h1 = new int[4 << shift], h2 = new int[4 << shift], h3 = new int[4 << shift];
        int lane = laneLength(n);
        int p1 = lane, p2 = 2 * lane, p3 = 3 * lane;
        int l0 = 0, l1 = 0, l2 = 0, l3 = 0;
        for (int i = 0; i < lane; i++) {
            int u0 = 0, u1 = 0, u2 = 0, u3 = 0;
            if (row > 0 && i >= row) {
                u0 = nonZero(s[i - row]) << 1;
                u1 = nonZero(s[p1 + i - row]) << 1;
                u2 = nonZero(s[p2 + i - row]) << 1;
                u3 = nonZero(s[p3 + i - row]) << 1;
            }
            int s0 = s[i] & 0xFF, s1 = s[p1 + i] & 0xFF, s2 = s[p2 + i] & 0xFF, s3 = s[p3 + i] & 0xFF;
            int c0 = l0 | u0, c1 = l1 | u1, c2 = l2 | u2, c3 = l3 | u3;
            ctx[i] = (byte) c0;
            ctx[p1 + i] = (byte) c1;
            ctx[p2 + i] = (byte) c2;
            ctx[p3 + i] = (byte) c3;
            h0[c0 << shift | s0]++;
            h1[c1 << shift | s1]++;
            h2[c2 << shift | s2]++;
            h3[c3 << shift | s3]++;
            l0 = nonZero(s0);
            l1 = nonZero(s1);
            l2 = nonZero(s2);
            l3 = nonZero(s3);
        }
        for (int p = 4 * lane, i = lane; p < n; p++, i++) {
            int c = l3 | (row > 0 && i >= row ? nonZero(s[p - row]) << 1 : 0);
            int sym = s[p] & 0xFF;
            ctx[p] = (byte) c;
            h3[c << shift | sym]++;
            l3 = nonZero(sym);
        }
        int[][] counts = new int[4][alphabet];
        for (int c = 0; c < 4; c++) {
            for (int k = 0; k < alphabet; k++) {
                int at = c << shift | k;
                counts[c][k] = h0[at] + h1[at] + h2[at] + h3[at];
            }
        }
        return new Contexts(ctx, counts, null, row);
    }

    /**
     * Counts of each (lane's previous symbol, symbol) pair, previous symbol 0 at the start of a lane, as
     * {@code pairs[prev * alphabet + sym]}; {@link #previous} turns them into a model.
     */
    public static int[] pairCounts(byte[] s, int n, int alphabet) {
        int[] pairs = new int[alphabet * alphabet];
        int lane = laneLength(n);
        for (int j = 0; j < LANES; j++) {
            int from = j * lane, to = j == LANES - 1 ? n : from + lane;
            int prev = 0;
            for (int p = from; p < to; p++) {
                int sym = s[p] & 0xFF;
                pairs[prev * alphabet + sym]++;
                prev = sym;
            }
        }
        return pairs;
    }

    /** Order-0 counts summed from {@link #pairCounts}. */
    public static Contexts order0(int[] pairs, int alphabet) {
        int[] c = new int[alphabet];
        for (int k = 0; k < pairs.length; k++) c[k % alphabet] += pairs[k];
        return new Contexts(null, new int[][] {c}, null, 0);
    }

    /**
     * Previous-symbol model over the {@code contexts - 1} most frequent previous symbols (ties: the smaller value),
     * every other previous symbol sharing the last context.
     */
    public static Contexts previous(byte[] s, int n, int alphabet, int[] pairs, int contexts) {
        if (contexts < 1 || contexts > MAX_PREVIOUS_CONTEXTS) throw new IllegalArgumentException("contexts " + contexts);
        long[] byCount = new long[alphabet];
        for (int v = 0; v < alphabet; v++) {
            long total = 0;
            for (int k = 0; k < alphabet; k++) total += pairs[v * alphabet + k];
            byCount[v] = (total << 8) | (255 - v);
        }
        java.util.Arrays.sort(byCount);
        int own = 0;
        byte[] values = new byte[contexts - 1];
        for (int i = alphabet - 1; i >= 0 && own < contexts - 1 && (byCount[i] >>> 8) > 0; i--) values[own++] = (byte) (255 - (byCount[i] & 0xFF));
        values = java.util.Arrays.copyOf(values, own);
        int k = own + 1;
        byte[] ctxOf = contextOf(values, alphabet);
        int[][] counts = new int[k][alphabet];
        for (int v = 0; v < alphabet; v++) {
            int[] row = counts[ctxOf[v]];
            for (int sym = 0; sym < alphabet; sym++) row[sym] += pairs[v * alphabet + sym];
        }
        byte[] ctx = new byte[n];
        int lane = laneLength(n);
        for (int j = 0; j < LANES; j++) {
            int from = j * lane, to = j == LANES - 1 ? n : from + lane;
            int prev = 0;
            for (int p = from; p < to; p++) {
                ctx[p] = ctxOf[prev];
                prev = s[p] & 0xFF;
            }
        }
        return new Contexts(ctx, counts, values, 0);
    }

    private static byte[] contextOf(byte[] values, int alphabet) {
        byte[] ctxOf = new byte[Math.max(alphabet, 256)];
        java.util.Arrays.fill(ctxOf, (byte) values.length);
        for (int c = 0; c < values.length; c++) ctxOf[values[c] & 0xFF] = (byte) c;
        return ctxOf;
    }

    /** Encodes with the neighbour model or, when its estimated size is not smaller, order 0. */
    public static void encodeCheapest(byte[] s, int n, int alphabet, int row, BytesOut out) {
        Contexts neighbour = neighbour(s, n, alphabet, row);
        int[] flat = new int[alphabet];
        for (int[] c : neighbour.counts()) for (int k = 0; k < alphabet; k++) flat[k] += c[k];
        Contexts order0 = new Contexts(null, new int[][] {flat}, null, 0);
        encode(s, n, alphabet, order0.bits() <= neighbour.bits() ? order0 : neighbour, out);
    }

    /** Encodes {@code s[0..n)}, each in {@code [0, alphabet)}, under a model counted on the same symbols. */
    public static void encode(byte[] s, int n, int alphabet, Contexts model, BytesOut out) {
        int code = model.code();
        out.u8(code);
        if (code == CODE_NEIGHBOUR) out.varint(model.row());
        if (code == CODE_PREVIOUS) {
            out.u8(model.values().length + 1);
            for (byte v : model.values()) out.u8(v & 0xFF);
        }
        int[][] counts = model.counts();
        int shift = 32 - Integer.numberOfLeadingZeros(alphabet - 1);
        int[] fc = new int[counts.length << shift];
        long[] rcp = new long[counts.length << shift];
        for (int c = 0; c < counts.length; c++) {
            int[] f = ContextRans.normalise(counts[c], TOTAL);
            ContextRans.writeTable(out, f);
            int cum = 0;
            for (int k = 0; k < alphabet; k++) {
                fc[c << shift | k] = f[k] | cum << 16;
                if (f[k] > 0) rcp[c << shift | k] = Long.divideUnsigned(-1L >>> 2, f[k]) + 1;
                cum += f[k];
            }
        }
        byte[] ctx = model.context();
        int lane = laneLength(n);
        Sink s0 = new Sink(lane), s1 = new Sink(lane), s2 = new Sink(lane), s3 = new Sink(n - 3 * lane);
        int x0 = LOW, x1 = LOW, x2 = LOW, x3 = LOW;
        for (int p = n - 1; p >= 4 * lane; p--) {
            int k = (ctx == null ? 0 : ctx[p] << shift) | (s[p] & 0xFF);
            x3 = s3.put(x3, fc[k], rcp[k]);
        }
        int p1 = lane, p2 = 2 * lane, p3 = 3 * lane;
        if (ctx == null) {
            for (int i = lane - 1; i >= 0; i--) {
                int k3 = s[p3 + i] & 0xFF, k2 = s[p2 + i] & 0xFF, k1 = s[p1 + i] & 0xFF, k0 = s[i] & 0xFF;
                x3 = s3.put(x3, fc[k3], rcp[k3]);
                x2 = s2.put(x2, fc[k2], rcp[k2]);
                x1 = s1.put(x1, fc[k1], rcp[k1]);
                x0 = s0.put(x0, fc[k0], rcp[k0]);
            }
        } else {
            for (int i = lane - 1; i >= 0; i--) {
                int k3 = ctx[p3 + i] << shift | (s[p3 + i] & 0xFF), k2 = ctx[p2 + i] << shift | (s[p2 + i] & 0xFF);
                int k1 = ctx[p1 + i] << shift | (s[p1 + i] & 0xFF), k0 = ctx[i] << shift | (s[i] & 0xFF);
                x3 = s3.put(x3, fc[k3], rcp[k3]);
                x2 = s2.put(x2, fc[k2], rcp[k2]);
                x1 = s1.put(x1, fc[k1], rcp[k1]);
                x0 = s0.put(x0, fc[k0], rcp[k0]);
            }
        }
        BytesOut payload = new BytesOut(32 + s0.size() + s1.size() + s2.size() + s3.size());
        payload.u32(x0).u32(x1).u32(x2).u32(x3).varint(s0.size()).varint(s1.size()).varint(s2.size());
        for (Sink k : new Sink[] {s0, s1, s2, s3}) payload.bytes(k.buf, k.pos, k.size());
        out.varint(payload.size());
        out.bytes(payload.toByteArray());
    }

    /** The encoder's output, written backwards (the decoder reads forwards). */
    private static final class Sink {
        byte[] buf;
        int pos;

        Sink(int n) {
            buf = new byte[Math.max(64, n / 2 + 64)];
            pos = buf.length;
        }

        int size() { return buf.length - pos; }

        /**
         * Encodes one symbol, {@code e} = frequency | cumulative frequency << 16, {@code rcp} = ceil(2^62 / frequency),
         * into state {@code x}; returns the new state.
         */
        int put(int x, int e, long rcp) {
            int f = e & 0xFFFF;
            if (pos < 2) grow();
            // the low word is written either way and kept only when the state renormalises
            SHORT_LE.set(buf, pos - 2, (short) x);
            int r = (int) (((long) f << RENORM_SHIFT) - 1 - x >>> 63);
            pos -= r << 1;
            x >>>= r << 4;
            // q = x / f exactly: rcp = ceil(2^62 / f) and x < 2^31 leave an error below 2^-31 < 1/f
            int q = (int) Math.multiplyHigh((long) x << 2, rcp);
            return (q << PROB_BITS) + (x - q * f) + (e >>> 16);
        }

        private void grow() {
            byte[] bigger = new byte[Math.max(buf.length * 2, buf.length + 64)];
            System.arraycopy(buf, 0, bigger, bigger.length - buf.length, buf.length);
            pos += bigger.length - buf.length;
            buf = bigger;
        }
    }

    /** Reads the model of a stream whose model byte (already read) is {@code code}, up to its payload. */
    private static int[][] readModel(BytesIn in, int code, int alphabet, int[] rowOut, byte[][] valuesOut) throws CorruptObjectException {
        int contexts = 1;
        if (code == CODE_NEIGHBOUR) {
            rowOut[0] = in.count("context row length", Integer.MAX_VALUE);
            contexts = 4;
        } else if (code == CODE_PREVIOUS) {
            int at = in.position();
            contexts = in.u8("previous-symbol context count");
            if (contexts < 1 || contexts > MAX_PREVIOUS_CONTEXTS) throw in.corrupt("previous-symbol context count " + contexts, at);
            byte[] values = in.bytes(contexts - 1, "previous-symbol context values");
            boolean[] seen = new boolean[256];
            for (byte v : values) {
                if ((v & 0xFF) >= alphabet || seen[v & 0xFF]) throw in.corrupt("bad previous-symbol context value " + (v & 0xFF), at);
                seen[v & 0xFF] = true;
            }
            valuesOut[0] = values;
        }
        int[][] freq = new int[contexts][];
        for (int c = 0; c < contexts; c++) freq[c] = ContextRans.readTable(in, alphabet, TOTAL);
        return freq;
    }

    static void skip(BytesIn in, int code, int alphabet) throws CorruptObjectException {
        readModel(in, code, alphabet, new int[1], new byte[1][]);
        int len = in.count("entropy payload length", in.remaining());
        if (len < 16) throw in.corrupt("entropy payload shorter than its four states");
        in.skip(len, "entropy payload");
    }

    /** Decodes {@code n} symbols of a stream whose model byte (already read, at {@code modelAt}) is {@code code}. */
    static void decode(BytesIn in, int code, int modelAt, byte[] dst, int n, int alphabet) throws CorruptObjectException {
        int[] row = new int[1];
        byte[][] values = new byte[1][];
        int[][] freq = readModel(in, code, alphabet, row, values);
        int len = in.count("entropy payload length", in.remaining());
        if (len < 16) throw in.corrupt("entropy payload shorter than its four states");
        int start = in.skip(len, "entropy payload");
        int contexts = freq.length;
        int[] table = new int[contexts << PROB_BITS];
        boolean any = false;
        for (int c = 0; c < contexts; c++) {
            int[] f = freq[c];
            int cum = 0;
            for (int k = 0; k < alphabet; k++) {
                int fk = f[k];
                if (fk == 0) continue;
                any = true;
                int entry = k | (fk - 1) << 8;
                int from = c << PROB_BITS | cum;
                for (int slot = 0; slot < fk; slot++) table[from + slot] = entry | slot << 20;
                cum += fk;
            }
        }
        if (!any && n > 0) throw in.corrupt("entropy model has no symbols", modelAt);
        byte[] b = in.array();
        BytesIn p = new BytesIn(b, start + 16, start + len);
        int[] q = new int[LANES], ends = new int[LANES];
        long words = 0;
        for (int j = 0; j < LANES - 1; j++) {
            ends[j] = p.count("lane " + j + " word bytes", p.remaining());
            words += ends[j];
        }
        if (words > p.remaining()) throw in.corrupt("lane word bytes exceed the entropy payload", start + 16);
        q[0] = p.position();
        for (int j = 1; j < LANES; j++) q[j] = q[j - 1] + ends[j - 1];
        for (int j = 0; j < LANES - 1; j++) ends[j] = q[j + 1];
        ends[LANES - 1] = start + len;
        byte[] ctxOf = values[0] == null ? null : contextOf(values[0], alphabet);
        Lanes lanes = new Lanes(table, b, q, ends, dst, n, laneLength(n));
        int x0 = (int) INT_LE.get(b, start), x1 = (int) INT_LE.get(b, start + 4);
        int x2 = (int) INT_LE.get(b, start + 8), x3 = (int) INT_LE.get(b, start + 12);
        boolean ok = switch (code) {
            case CODE_ORDER0 -> lanes.order0(x0, x1, x2, x3);
            case CODE_NEIGHBOUR -> lanes.neighbour(row[0], x0, x1, x2, x3);
            default -> lanes.previous(ctxOf, x0, x1, x2, x3);
        };
        if (!ok) throw in.corrupt("entropy stream is corrupt or did not end where expected", start);
    }

    /**
     * The decode loops. Each lane reads its own words, so the four lanes are four independent dependency chains. A
     * loop runs the four lanes together in stretches as long as every lane can read a word per symbol without
     * leaving the array, reading each lane's next word before its state update and keeping it only where the state
     * fell below 2^15; then {@link #finish} decodes the rest one symbol at a time with every read checked against
     * the lane's end.
     */
    private static final class Lanes {
        final int[] table;
        final byte[] b, dst;
        final int[] q, ends;
        final int n, lane;

        Lanes(int[] table, byte[] b, int[] q, int[] ends, byte[] dst, int n, int lane) {
            this.table = table;
            this.b = b;
            this.q = q;
            this.ends = ends;
            this.dst = dst;
            this.n = n;
            this.lane = lane;
        }

        private static int step(int e, int x) { return ((e >>> 8 & 0xFFF) + 1) * (x >>> PROB_BITS) + (e >>> 20); }

        private static int word(byte[] b, int at) { return (short) SHORT_LE.get(b, at) & 0xFFFF; }

        /**
         * Symbols per lane the four lanes can decode from position {@code i} with every word read inside the array.
         * A lane may read past its own word stream (into the next lane's, or past the payload): only a corrupt
         * stream keeps such a word, and {@link #finish} then finds the lane's position past its end. Bounding by
         * the array and not by each lane's words keeps the stretches long where a lane has few words (a nearly
         * constant lane has almost none), so the loop runs in its unrolled form.
         */
        private int stretch(int i, int q0, int q1, int q2, int q3) {
            int far = Math.max(Math.max(q0, q1), Math.max(q2, q3));
            return Math.min(lane - i, (b.length - far) >> 1);
        }

        boolean order0(int x0, int x1, int x2, int x3) {
            int[] t = table;
            byte[] b = this.b, dst = this.dst;
            int q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3];
            int lane = this.lane, i = 0;
            int p1 = lane, p2 = 2 * lane, p3 = 3 * lane;
            for (int run; (run = stretch(i, q0, q1, q2, q3)) > 0; ) {
                for (int stop = i + run; i < stop; i++) {
                    int w0 = word(b, q0), w1 = word(b, q1), w2 = word(b, q2), w3 = word(b, q3);
                    int e0 = t[x0 & MASK], e1 = t[x1 & MASK], e2 = t[x2 & MASK], e3 = t[x3 & MASK];
                    dst[i] = (byte) e0;
                    dst[p1 + i] = (byte) e1;
                    dst[p2 + i] = (byte) e2;
                    dst[p3 + i] = (byte) e3;
                    x0 = step(e0, x0);
                    x1 = step(e1, x1);
                    x2 = step(e2, x2);
                    x3 = step(e3, x3);
                    int r0 = (x0 - LOW) >>> 31, r1 = (x1 - LOW) >>> 31, r2 = (x2 - LOW) >>> 31, r3 = (x3 - LOW) >>> 31;
                    x0 = x0 << (r0 << 4) | (w0 & -r0);
                    x1 = x1 << (r1 << 4) | (w1 & -r1);
                    x2 = x2 << (r2 << 4) | (w2 & -r2);
                    x3 = x3 << (r3 << 4) | (w3 & -r3);
                    q0 += r0 << 1;
                    q1 += r1 << 1;
                    q2 += r2 << 1;
                    q3 += r3 << 1;
                }
            }
            return finish(i, 0, 0, null, x0, x1, x2, x3, q0, q1, q2, q3);
        }

        boolean neighbour(int row, int x0, int x1, int x2, int x3) {
            int[] t = table;
            byte[] b = this.b, dst = this.dst;
            int q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3];
            int lane = this.lane, i = 0;
            int p1 = lane, p2 = 2 * lane, p3 = 3 * lane;
            int l0 = 0, l1 = 0, l2 = 0, l3 = 0;
            int upFrom = row > 0 ? row : Integer.MAX_VALUE;
            for (int run; (run = stretch(i, q0, q1, q2, q3)) > 0; ) {
                for (int stop = i + run; i < stop; i++) {
                    int w0 = word(b, q0), w1 = word(b, q1), w2 = word(b, q2), w3 = word(b, q3);
                    int u0 = 0, u1 = 0, u2 = 0, u3 = 0;
                    if (i >= upFrom) {
                        u0 = nonZero(dst[i - row]) << 1;
                        u1 = nonZero(dst[p1 + i - row]) << 1;
                        u2 = nonZero(dst[p2 + i - row]) << 1;
                        u3 = nonZero(dst[p3 + i - row]) << 1;
                    }
                    int e0 = t[(l0 | u0) << PROB_BITS | (x0 & MASK)];
                    int e1 = t[(l1 | u1) << PROB_BITS | (x1 & MASK)];
                    int e2 = t[(l2 | u2) << PROB_BITS | (x2 & MASK)];
                    int e3 = t[(l3 | u3) << PROB_BITS | (x3 & MASK)];
                    dst[i] = (byte) e0;
                    dst[p1 + i] = (byte) e1;
                    dst[p2 + i] = (byte) e2;
                    dst[p3 + i] = (byte) e3;
                    l0 = nonZero(e0 & 0xFF);
                    l1 = nonZero(e1 & 0xFF);
                    l2 = nonZero(e2 & 0xFF);
                    l3 = nonZero(e3 & 0xFF);
                    x0 = step(e0, x0);
                    x1 = step(e1, x1);
                    x2 = step(e2, x2);
                    x3 = step(e3, x3);
                    int r0 = (x0 - LOW) >>> 31, r1 = (x1 - LOW) >>> 31, r2 = (x2 - LOW) >>> 31, r3 = (x3 - LOW) >>> 31;
                    x0 = x0 << (r0 << 4) | (w0 & -r0);
                    x1 = x1 << (r1 << 4) | (w1 & -r1);
                    x2 = x2 << (r2 << 4) | (w2 & -r2);
                    x3 = x3 << (r3 << 4) | (w3 & -r3);
                    q0 += r0 << 1;
                    q1 += r1 << 1;
                    q2 += r2 << 1;
                    q3 += r3 << 1;
                }
            }
            return finish(i, 1, row, null, x0, x1, x2, x3, q0, q1, q2, q3);
        }

        boolean previous(byte[] ctxOf, int x0, int x1, int x2, int x3) {
            int[] t = table;
            byte[] b = this.b, dst = this.dst;
            int[] base = new int[256];
            for (int v = 0; v < 256; v++) base[v] = ctxOf[v] << PROB_BITS;
            int q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3];
            int lane = this.lane, i = 0;
            int p1 = lane, p2 = 2 * lane, p3 = 3 * lane;
            int c0 = base[0], c1 = c0, c2 = c0, c3 = c0;
            for (int run; (run = stretch(i, q0, q1, q2, q3)) > 0; ) {
                for (int stop = i + run; i < stop; i++) {
                    int w0 = word(b, q0), w1 = word(b, q1), w2 = word(b, q2), w3 = word(b, q3);
                    int e0 = t[c0 | (x0 & MASK)];
                    int e1 = t[c1 | (x1 & MASK)];
                    int e2 = t[c2 | (x2 & MASK)];
                    int e3 = t[c3 | (x3 & MASK)];
                    dst[i] = (byte) e0;
                    dst[p1 + i] = (byte) e1;
                    dst[p2 + i] = (byte) e2;
                    dst[p3 + i] = (byte) e3;
                    c0 = base[e0 & 0xFF];
                    c1 = base[e1 & 0xFF];
                    c2 = base[e2 & 0xFF];
                    c3 = base[e3 & 0xFF];
                    x0 = step(e0, x0);
                    x1 = step(e1, x1);
                    x2 = step(e2, x2);
                    x3 = step(e3, x3);
                    int r0 = (x0 - LOW) >>> 31, r1 = (x1 - LOW) >>> 31, r2 = (x2 - LOW) >>> 31, r3 = (x3 - LOW) >>> 31;
                    x0 = x0 << (r0 << 4) | (w0 & -r0);
                    x1 = x1 << (r1 << 4) | (w1 & -r1);
                    x2 = x2 << (r2 << 4) | (w2 & -r2);
                    x3 = x3 << (r3 << 4) | (w3 & -r3);
                    q0 += r0 << 1;
                    q1 += r1 << 1;
                    q2 += r2 << 1;
                    q3 += r3 << 1;
                }
            }
            return finish(i, 2, 0, ctxOf, x0, x1, x2, x3, q0, q1, q2, q3);
        }

        /**
         * Decodes from the {@code i}-th symbol of every lane on, in decode order, one symbol at a time; true when
         * every lane's words end exactly there with its state at 2^15 and no state ever left [2^15, 2^31).
         */
        private boolean finish(int i, int model, int row, byte[] ctxOf, int x0, int x1, int x2, int x3, int q0, int q1, int q2, int q3) {
            int[] x = {x0, x1, x2, x3};
            q[0] = q0;
            q[1] = q1;
            q[2] = q2;
            q[3] = q3;
            for (; i < lane; i++) {
                for (int j = 0; j < LANES; j++) if (!one(j, j * lane + i, i, model, row, ctxOf, x)) return false;
            }
            for (int p = 3 * lane + i; p < n; p++, i++) if (!one(3, p, i, model, row, ctxOf, x)) return false;
            for (int j = 0; j < LANES; j++) if (q[j] != ends[j] || x[j] != LOW) return false;
            return true;
        }

        private boolean one(int j, int p, int i, int model, int row, byte[] ctxOf, int[] x) {
            int c = switch (model) {
                case 0 -> 0;
                case 1 -> (i > 0 ? nonZero(dst[p - 1]) : 0) | (row > 0 && i >= row ? nonZero(dst[p - row]) << 1 : 0);
                default -> ctxOf[i > 0 ? dst[p - 1] & 0xFF : 0];
            };
            int s = x[j];
            if (s < LOW) return false;
            int e = table[c << PROB_BITS | (s & MASK)];
            dst[p] = (byte) e;
            s = step(e, s);
            if (s < LOW) {
                if (q[j] + 2 > ends[j]) return false;
                s = s << 16 | word(b, q[j]);
                q[j] += 2;
            }
            x[j] = s;
            return true;
        }
    }

    /** 1 when {@code v} is not zero, else 0. */
    private static int nonZero(int v) { return (v | -v) >>> 31; }
}
