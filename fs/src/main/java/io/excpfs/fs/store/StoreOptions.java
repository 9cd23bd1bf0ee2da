package io.excpfs.fs.store;

import io.excpfs.codec.CodecParams;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Settings of one open store, with the mount option names of DESIGN.md. Every value is validated on construction;
 * an error names the bad option and what it accepts.
 *
 * @param mode          {@code excp} (lossy float payload) or {@code lossless}
 * @param hot           newest versions per lineage kept exact (HOT); 0 encodes every version, the newest too
 * @param alpha         ExCP α
 * @param beta          ExCP β
 * @param bits          quantization bits of weight residuals, 1..8
 * @param optBits       quantization bits of optimizer moments, 1..8
 * @param keep          how much of each weight residual is kept: {@code published} (ExCP's α rule, the default) or
 *                      {@code budget} (scale-free: residuals above {@code budget}·RMS; see docs/format.md)
 * @param budget        the {@code budget} rule's multiple of the residual RMS, &gt; 0
 * @param keepLast      history versions kept per lineage besides the live ones; 0 keeps all history
 * @param keepEvery     also keep versions whose step is a multiple of this; 0 = off
 * @param seedEvery     start a new seed after this many residuals in a chain; 0 = only when forced
 * @param cacheBytes    memory for reconstructed bases, bytes
 * @param encodeThreads background encoder threads, at least 1
 * @param idleNanos     a lineage none of whose versions was sealed or opened for this long has its HOT versions
 *                      demoted too, the newest included (option {@code idle=DURATION}: {@code 0}/{@code off}, or a
 *                      number with {@code ms}, {@code s}, {@code m}, {@code h} or {@code d}; plain numbers are
 *                      seconds); -1 (option not given) = the default, see {@link #effectiveIdleNanos()}
 */
public record StoreOptions(CodecParams.Mode mode, int hot, double alpha, double beta, int bits, int optBits,
                           CodecParams.Keep keep, double budget, int keepLast, long keepEvery, int seedEvery, long cacheBytes, int encodeThreads,
                           long idleNanos) {
    /** Option names this record understands; everything else in a mount option string belongs to FUSE. */
    public static final Set<String> NAMES = Set.of("mode", "hot", "alpha", "beta", "bits", "opt_bits", "keep", "budget", "keep_last",
            "keep_every", "seed_every", "cache", "encode_threads", "idle");

    /** Default idle time with {@code hot=0}: the other files of a checkpoint set are sealed before it ends. */
    public static final long HOT_ZERO_IDLE_NANOS = 60_000_000_000L;

    /** The options with the default {@code idle} (as before {@code idle} existed). */
    public StoreOptions(CodecParams.Mode mode, int hot, double alpha, double beta, int bits, int optBits, CodecParams.Keep keep,
                        double budget, int keepLast, long keepEvery, int seedEvery, long cacheBytes, int encodeThreads) {
        this(mode, hot, alpha, beta, bits, optBits, keep, budget, keepLast, keepEvery, seedEvery, cacheBytes, encodeThreads, -1);
    }

    public StoreOptions {
        if (mode == null) throw bad("mode", "excp or lossless", "null");
        if (hot < 0) throw bad("hot", "a whole number >= 0", hot);
        if (!(alpha > 0) || Double.isInfinite(alpha)) throw bad("alpha", "a number > 0", alpha);
        if (!(beta >= 0) || Double.isInfinite(beta)) throw bad("beta", "a number >= 0", beta);
        if (bits < 1 || bits > 8) throw bad("bits", "a whole number from 1 to 8", bits);
        if (optBits < 1 || optBits > 8) throw bad("opt_bits", "a whole number from 1 to 8", optBits);
        if (keep == null) throw bad("keep", "published or budget", "null");
        if (!(budget > 0) || Double.isInfinite(budget)) throw bad("budget", "a number > 0", budget);
        if (keepLast < 0) throw bad("keep_last", "a whole number >= 0", keepLast);
        if (keepEvery < 0) throw bad("keep_every", "a whole number >= 0", keepEvery);
        if (seedEvery < 0) throw bad("seed_every", "a whole number >= 0", seedEvery);
        if (cacheBytes < 0) throw bad("cache", "a size such as 512M or 2G", cacheBytes);
        if (encodeThreads < 1 || encodeThreads > 256) throw bad("encode_threads", "a whole number from 1 to 256", encodeThreads);
        if (idleNanos < -1) throw bad("idle", "0, off, or a duration such as 90s, 30m, 2h", idleNanos);
    }

    /**
     * The idle time in force: {@code idle} when given; otherwise 60 s with {@code hot=0} (the newest version waits
     * that long, or for a flush, so that a checkpoint set is encoded whole) and off with {@code hot >= 1} (the
     * newest {@code hot} versions stay exact until newer ones exist). 0 = off.
     */
    public long effectiveIdleNanos() {
        return idleNanos >= 0 ? idleNanos : hot == 0 ? HOT_ZERO_IDLE_NANOS : 0;
    }

    public static StoreOptions defaults() {
        CodecParams d = CodecParams.defaults();
        return new StoreOptions(d.mode(), 1, d.alpha(), d.beta(), d.bits(), d.optBits(), d.keep(), d.budget(), 0, 0, 0,
                1L << 30, 1);
    }

    /** The codec settings these options select. */
    public CodecParams codecParams() {
        return new CodecParams(mode, keep, alpha, beta, bits, optBits, budget);
    }

    /**
     * Parses a mount-style option string {@code a=1,b=2} over the defaults.
     *
     * @throws IllegalArgumentException naming the option when a name is unknown or a value is invalid
     */
    public static StoreOptions parse(String spec) {
        return parse(spec, null);
    }

    /**
     * Like {@link #parse(String)}, but options not in {@link #NAMES} are put into {@code others} (name → value, or
     * "" for a bare flag such as {@code allow_other}) instead of being refused, when {@code others} is not null.
     */
    public static StoreOptions parse(String spec, Map<String, String> others) {
        Map<String, String> given = new LinkedHashMap<>();
        if (spec != null && !spec.isBlank()) {
            for (String part : spec.split(",")) {
                String p = part.strip();
                if (p.isEmpty()) continue;
                int eq = p.indexOf('=');
                String name = (eq < 0 ? p : p.substring(0, eq)).strip().toLowerCase(Locale.ROOT);
                String value = eq < 0 ? "" : p.substring(eq + 1).strip();
                if (!NAMES.contains(name)) {
                    if (others == null) throw new IllegalArgumentException("unknown option '" + name + "' (known: " + String.join(", ", new java.util.TreeSet<>(NAMES)) + ")");
                    others.put(name, value);
                    continue;
                }
                if (given.put(name, value) != null) throw new IllegalArgumentException("option '" + name + "' given twice");
            }
        }
        return defaults().with(given);
    }

    /** These options with some replaced by name ({@link #NAMES}), values as text. */
    public StoreOptions with(Map<String, String> values) {
        CodecParams.Mode m = mode;
        int h = hot, b = bits, ob = optBits, kl = keepLast, se = seedEvery, et = encodeThreads;
        double a = alpha, be = beta, bu = budget;
        CodecParams.Keep k = keep;
        long ke = keepEvery, c = cacheBytes, idle = idleNanos;
        for (Map.Entry<String, String> e : values.entrySet()) {
            String v = e.getValue();
            switch (e.getKey()) {
                case "mode" -> m = switch (v.toLowerCase(Locale.ROOT)) {
                    case "excp" -> CodecParams.Mode.EXCP;
                    case "lossless" -> CodecParams.Mode.LOSSLESS;
                    default -> throw bad("mode", "excp or lossless", v);
                };
                case "hot" -> h = intOf("hot", v);
                case "alpha" -> a = doubleOf("alpha", v);
                case "beta" -> be = doubleOf("beta", v);
                case "bits" -> b = intOf("bits", v);
                case "opt_bits" -> ob = intOf("opt_bits", v);
                case "keep" -> k = switch (v.toLowerCase(Locale.ROOT)) {
                    case "published" -> CodecParams.Keep.PUBLISHED;
                    case "budget" -> CodecParams.Keep.BUDGET;
                    default -> throw bad("keep", "published or budget", v);
                };
                case "budget" -> bu = doubleOf("budget", v);
                case "keep_last" -> kl = intOf("keep_last", v);
                case "keep_every" -> ke = longOf("keep_every", v);
                case "seed_every" -> se = intOf("seed_every", v);
                case "cache" -> c = sizeOf("cache", v);
                case "encode_threads" -> et = intOf("encode_threads", v);
                case "idle" -> idle = durationOf("idle", v);
                default -> throw new IllegalArgumentException("unknown option '" + e.getKey() + "'");
            }
        }
        return new StoreOptions(m, h, a, be, b, ob, k, bu, kl, ke, se, c, et, idle);
    }

    /** The options as a mount option string that {@link #parse} reads back to an equal record. */
    public String toOptionString() {
        return "mode=" + mode.name().toLowerCase(Locale.ROOT) + ",hot=" + hot + ",alpha=" + alpha + ",beta=" + beta
                + ",bits=" + bits + ",opt_bits=" + optBits + ",keep=" + keep.name().toLowerCase(Locale.ROOT) + ",budget=" + budget
                + ",keep_last=" + keepLast + ",keep_every=" + keepEvery
                + ",seed_every=" + seedEvery + ",cache=" + cacheBytes + ",encode_threads=" + encodeThreads
                + (idleNanos < 0 ? "" : ",idle=" + (idleNanos % 1_000_000_000L == 0 ? idleNanos / 1_000_000_000L + "s" : idleNanos + "ns"));
    }

    /**
     * Durations: {@code 0} or {@code off}, or a whole number of seconds, optionally with a unit {@code ns},
     * {@code ms}, {@code s}, {@code m}, {@code h} or {@code d}.
     */
    static long durationOf(String name, String v) {
        String s = v.strip().toLowerCase(Locale.ROOT);
        if (s.equals("off")) return 0;
        int i = 0;
        while (i < s.length() && Character.isDigit(s.charAt(i))) i++;
        if (i == 0) throw bad(name, "0, off, or a duration such as 90s, 30m, 2h", v);
        long unit = switch (s.substring(i).strip()) {
            case "ns" -> 1L;
            case "ms" -> 1_000_000L;
            case "", "s" -> 1_000_000_000L;
            case "m" -> 60_000_000_000L;
            case "h" -> 3_600_000_000_000L;
            case "d" -> 86_400_000_000_000L;
            default -> throw bad(name, "0, off, or a duration such as 90s, 30m, 2h", v);
        };
        try {
            long n = Long.parseLong(s.substring(0, i));
            if (n > Long.MAX_VALUE / unit) throw bad(name, "a duration under 290 years", v);
            return n * unit;
        } catch (NumberFormatException e) {
            throw bad(name, "0, off, or a duration such as 90s, 30m, 2h", v);
        }
    }

    private static int intOf(String name, String v) {
        long l = longOf(name, v);
        if (l > Integer.MAX_VALUE || l < Integer.MIN_VALUE) throw bad(name, "a whole number", v);
        return (int) l;
    }

    private static long longOf(String name, String v) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw bad(name, "a whole number", v);
        }
    }

    private static double doubleOf(String name, String v) {
        try {
            double d = Double.parseDouble(v);
            if (Double.isNaN(d) || Double.isInfinite(d)) throw bad(name, "a finite number", v);
            return d;
        } catch (NumberFormatException e) {
            throw bad(name, "a number", v);
        }
    }

    /** Sizes: plain bytes or with a K, M, G or T suffix (powers of 1024), optionally followed by B or iB. */
    static long sizeOf(String name, String v) {
        String s = v.strip().toUpperCase(Locale.ROOT);
        if (s.endsWith("IB")) s = s.substring(0, s.length() - 2);
        else if (s.endsWith("B")) s = s.substring(0, s.length() - 1);
        long mul = 1;
        if (!s.isEmpty()) {
            switch (s.charAt(s.length() - 1)) {
                case 'K' -> mul = 1L << 10;
                case 'M' -> mul = 1L << 20;
                case 'G' -> mul = 1L << 30;
                case 'T' -> mul = 1L << 40;
                default -> { }
            }
            if (mul > 1) s = s.substring(0, s.length() - 1);
        }
        try {
            long n = Long.parseLong(s.strip());
            if (n < 0 || n > Long.MAX_VALUE / mul) throw bad(name, "a size such as 512M or 2G", v);
            return n * mul;
        } catch (NumberFormatException e) {
            throw bad(name, "a size such as 512M or 2G", v);
        }
    }

    private static IllegalArgumentException bad(String name, String expected, Object got) {
        return new IllegalArgumentException("option '" + name + "': expected " + expected + ", got '" + got + "'");
    }
}
