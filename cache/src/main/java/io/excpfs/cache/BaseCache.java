package io.excpfs.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.ObjectStream;
import io.excpfs.codec.PendingReconstruction;
import io.excpfs.codec.Reconstruction;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The cache of reconstructed bases: what a read of a stored version returns, keyed by version id, weighed in bytes.
 *
 * <p>{@link #get} resolves a version's chain iteratively: it walks {@link ChainSource#baseOf} back to the nearest
 * version that is cached or being decoded (or to the seed), then decodes forward, oldest first, each object against
 * the reconstruction of its base. The requested version is registered as in flight before the walk, and each
 * ancestor before it is decoded, so concurrent requests that need the same version wait for that one decode instead
 * of repeating it; a request only ever waits for an ancestor of what it holds, so waits cannot form a cycle. Decoding runs on the
 * requesting thread ({@link #get}) or on a chain thread ({@link #open}, whose reads are served as regions are
 * decoded), outside any cache computation, and nothing calls back into the cache from one.
 *
 * <p>Which intermediates stay cached is the {@linkplain Builder#keepEvery keep-every} policy; the requested version
 * always does, as do reconstructions given to {@link #put} (the encoder's by-product, the next version's base).
 * Admission and eviction are Caffeine's (W-TinyLFU), bounded by {@linkplain Builder#maximumBytes total bytes}, except
 * that a reconstruction given to {@link #put} is kept until it is first read: W-TinyLFU admits by how often a key
 * was read, so in a full cache it would turn the never-read base of the next demotion away at once.
 * Version ids are never reused: a reconstruction is valid for its id forever (invariant 4).
 *
 * <p>Thread-safe.
 */
public final class BaseCache {
    private static final long UNIT = 1024;

    private final Cache<Long, Reconstruction> cache;
    private final ConcurrentMap<Long, CompletableFuture<Reconstruction>> inFlight = new ConcurrentHashMap<>();
    /** Versions whose {@link #open} runs a decode now. */
    private final ConcurrentMap<Long, PendingReconstruction> opening = new ConcurrentHashMap<>();
    private final Executor chains;
    /**
     * Reconstructions given to {@link #put} and not read since, oldest first, held outside Caffeine (see
     * {@link #put}); guarded by itself.
     */
    private final LinkedHashMap<Long, Reconstruction> kept = new LinkedHashMap<>();
    private long keptUnits;
    private final long maximumUnits;
    private final ChainSource source;
    private final ObjectDecoder decoder;
    private final int keepEvery;
    private final LongAdder decodes = new LongAdder();

    private BaseCache(Builder b) {
        this.source = b.source;
        this.decoder = b.decoder;
        this.keepEvery = b.keepEvery;
        this.chains = b.chains;
        Caffeine<Object, Object> c = Caffeine.newBuilder()
                .maximumWeight(Math.max(1, b.maximumBytes / UNIT))
                .executor(b.executor)
                .ticker(b.ticker)
                .recordStats();
        if (b.expireAfterAccess != null) c.expireAfterAccess(b.expireAfterAccess);
        this.maximumUnits = Math.max(1, b.maximumBytes / UNIT);
        this.cache = c.<Long, Reconstruction>weigher((Long id, Reconstruction r) -> weight(r)).build();
    }

    /** Weight in KiB so that a multi-GiB reconstruction still fits Caffeine's int weights. */
    private static int weight(Reconstruction r) {
        long units = (r.weightBytes() + UNIT - 1) / UNIT;
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1, units));
    }

    public static Builder builder(ChainSource source) { return new Builder(source); }

    /**
     * What a read of {@code versionId} returns: from the cache, or decoded forward from the nearest cached ancestor.
     *
     * @throws CorruptVersionException when the object of the version or of an ancestor fails to decode, or the chain
     *                                 loops; {@link CorruptVersionException#versionId()} names the bad version
     * @throws IOException             when the chain source fails (unknown version, missing object)
     */
    public Reconstruction get(long versionId) throws IOException, CorruptVersionException {
        Reconstruction cached = firstRead(versionId);
        if (cached != null) return cached;
        return resolve(versionId, new PendingReconstruction());
    }

    /**
     * What a read of {@code versionId} returns, as it is reconstructed: a finished reconstruction when cached, else
     * one being decoded on a background thread, whose reads wait only for the regions they cover (see
     * {@link PendingReconstruction}). The chain is resolved as by {@link #get}, which the decode runs; concurrent
     * opens of one version share one decode. A failure (as {@link #get} throws it) is thrown by the reads it
     * affects; the finished reconstruction is cached as by {@link #get}. Returns at once.
     */
    public PendingReconstruction open(long versionId) {
        Reconstruction cached = firstRead(versionId);
        if (cached != null) return PendingReconstruction.of(cached);
        PendingReconstruction mine = new PendingReconstruction();
        PendingReconstruction other = opening.putIfAbsent(versionId, mine);
        if (other != null) return other;
        Runnable decode = () -> {
            try {
                mine.complete(resolve(versionId, mine));
            } catch (IOException | CorruptVersionException e) {
                mine.fail(e);
            } catch (RuntimeException | Error e) {
                mine.fail(new IOException("reconstructing version " + versionId + " failed: " + e, e));
                if (e instanceof Error err) throw err;
            } finally {
                opening.remove(versionId, mine);
            }
        };
        try {
            chains.execute(decode);
        } catch (RejectedExecutionException e) {
            opening.remove(versionId, mine);
            mine.fail(new IOException("no thread to reconstruct version " + versionId + ": " + e.getMessage(), e));
        }
        return mine;
    }

    /** {@link #get} past the cache lookup; the decode of {@code versionId} itself publishes to {@code progress}. */
    private Reconstruction resolve(long versionId, PendingReconstruction progress) throws IOException, CorruptVersionException {
        CompletableFuture<Reconstruction> mine = new CompletableFuture<>();
        CompletableFuture<Reconstruction> other = inFlight.putIfAbsent(versionId, mine);
        if (other != null) return join(other, versionId);
        Reconstruction r;
        try {
            r = lookup(versionId);
            if (r == null) {
                Chain chain = walk(versionId);
                if (chain.missing.size() > 1) prefetch(List.copyOf(chain.missing).subList(1, chain.missing.size()));
                Reconstruction base = chain.start != null ? join(chain.start, versionId) : chain.startValue;
                base = decodeAncestors(chain.missing, base, versionId);
                r = decodeOne(versionId, base, versionId, progress);
                cache.put(versionId, r);
            }
        } catch (IOException | CorruptVersionException | RuntimeException | Error e) {
            inFlight.remove(versionId, mine);
            mine.completeExceptionally(e);
            throw e;
        }
        inFlight.remove(versionId, mine);
        mine.complete(r);
        return r;
    }

    /** The cached reconstruction of {@code versionId}, or null; never decodes, never waits for a decode. */
    public Reconstruction getIfPresent(long versionId) {
        synchronized (kept) {
            Reconstruction r = kept.get(versionId);
            if (r != null) return r;
        }
        return cache.getIfPresent(versionId);
    }

    /** Caches {@code reconstruction} as what a read of {@code versionId} returns (the encoder's by-product). */
    public void put(long versionId, Reconstruction reconstruction) {
        Objects.requireNonNull(reconstruction);
        long w = weight(reconstruction);
        List<Map.Entry<Long, Reconstruction>> released = new ArrayList<>();
        synchronized (kept) {
            Reconstruction before = kept.remove(versionId);
            if (before != null) keptUnits -= weight(before);
            if (w <= maximumUnits) {
                for (var it = kept.entrySet().iterator(); keptUnits + w > maximumUnits && it.hasNext(); ) {
                    var oldest = it.next();
                    it.remove();
                    keptUnits -= weight(oldest.getValue());
                    released.add(oldest);
                }
                kept.put(versionId, reconstruction);
                keptUnits += w;
            }
            resize();
        }
        if (w > maximumUnits) {
            cache.put(versionId, reconstruction);
        } else {
            cache.invalidate(versionId);
        }
        for (var e : released) cache.put(e.getKey(), e.getValue());
    }

    /**
     * What {@link #get} or {@link #open} finds without decoding. A reconstruction given to {@link #put} is held
     * outside Caffeine until it is first read this way, and Caffeine's maximum is lowered by its weight meanwhile:
     * W-TinyLFU admits by how often a key was read, so in a full cache it would turn the never-read base of the next
     * demotion away at once. After that first read it is Caffeine's like any other entry. When the reconstructions
     * held this way would exceed the bound, the oldest go to Caffeine.
     */
    private Reconstruction firstRead(long versionId) {
        Reconstruction r;
        synchronized (kept) {
            r = kept.remove(versionId);
            if (r != null) {
                keptUnits -= weight(r);
                resize();
            }
        }
        if (r == null) return cache.getIfPresent(versionId);
        cache.put(versionId, r);
        return r;
    }

    /** A reconstruction cached or held since {@link #put}, without recording a read. */
    private Reconstruction lookup(long versionId) {
        synchronized (kept) {
            Reconstruction r = kept.get(versionId);
            if (r != null) return r;
        }
        return cache.asMap().get(versionId);
    }

    private void resize() {
        cache.policy().eviction().orElseThrow().setMaximum(Math.max(1, maximumUnits - keptUnits));
    }

    /** Drops {@code versionId}, e.g. when its version is deleted. A decode already in flight still answers its waiters. */
    public void invalidate(long versionId) {
        synchronized (kept) {
            Reconstruction r = kept.remove(versionId);
            if (r != null) {
                keptUnits -= weight(r);
                resize();
            }
        }
        cache.invalidate(versionId);
    }

    public void invalidateAll() {
        synchronized (kept) {
            kept.clear();
            keptUnits = 0;
            resize();
        }
        cache.invalidateAll();
    }

    /** Caffeine's statistics: a hit is a {@link #get} or {@link #getIfPresent} answered from the cache. */
    public CacheStats stats() { return cache.stats(); }

    /** Objects decoded since this cache was built. */
    public long decodes() { return decodes.sum(); }

    /** Bytes held by cached reconstructions (rounded up to KiB per entry), after pending maintenance. */
    public long weightedBytes() {
        cache.cleanUp();
        long held = cache.policy().eviction().orElseThrow().weightedSize().orElse(0);
        synchronized (kept) {
            held += keptUnits;
        }
        return held * UNIT;
    }

    /** Versions currently cached, after pending maintenance. */
    public long size() {
        cache.cleanUp();
        synchronized (kept) {
            return cache.estimatedSize() + kept.size();
        }
    }

    /** Runs Caffeine's pending maintenance (evictions, expiry) now. */
    public void cleanUp() { cache.cleanUp(); }

    /** Versions to decode, oldest first (the target last), and where to start: a cached base, a decode in flight, or a seed (both null). */
    private record Chain(Deque<Long> missing, Reconstruction startValue, CompletableFuture<Reconstruction> start) {}

    /**
     * Walks back from {@code versionId} through metadata until a cached version or a seed. The versions to decode
     * stop at the first ancestor in flight (its decode is awaited instead), but the walk goes on to prove the chain
     * does not loop: a request waits only for an ancestor, so waits cannot form a cycle.
     */
    private Chain walk(long versionId) throws IOException, CorruptVersionException {
        Deque<Long> missing = new ArrayDeque<>();
        Set<Long> seen = new HashSet<>();
        Chain inFlightStart = null;
        long cur = versionId;
        while (true) {
            if (inFlightStart == null) missing.addFirst(cur);
            seen.add(cur);
            OptionalLong base = source.baseOf(cur);
            if (base.isEmpty()) return inFlightStart != null ? inFlightStart : new Chain(missing, null, null);
            long b = base.getAsLong();
            if (seen.contains(b)) {
                throw new CorruptVersionException(cur, CorruptObjectException.Reason.CORRUPT,
                        "chain of version " + versionId + " loops: version " + cur + " has base " + b
                                + ", which is already on the chain", null);
            }
            Reconstruction r = lookup(b);
            if (r != null) return inFlightStart != null ? inFlightStart : new Chain(missing, r, null);
            if (inFlightStart == null) {
                CompletableFuture<Reconstruction> f = inFlight.get(b);
                if (f != null) inFlightStart = new Chain(missing, null, f);
            }
            cur = b;
        }
    }

    /** Brings every ancestor on {@code chain} (all but its last element, the target) forward from {@code base}. */
    private Reconstruction decodeAncestors(Deque<Long> chain, Reconstruction base, long target)
            throws IOException, CorruptVersionException {
        int distance = chain.size() - 1;
        for (long id : chain) {
            if (distance == 0) break;
            base = obtain(id, base, target, keepEvery > 0 && distance % keepEvery == 0);
            distance--;
        }
        return base;
    }

    /** The reconstruction of {@code id}: cached, decoded by another request, or decoded here against {@code base}. */
    private Reconstruction obtain(long id, Reconstruction base, long target, boolean keep)
            throws IOException, CorruptVersionException {
        Reconstruction r = lookup(id);
        if (r != null) return r;
        CompletableFuture<Reconstruction> mine = new CompletableFuture<>();
        CompletableFuture<Reconstruction> other = inFlight.putIfAbsent(id, mine);
        if (other != null) return join(other, target);
        try {
            r = lookup(id);
            if (r == null) {
                r = decodeOne(id, base, target, new PendingReconstruction());
                if (keep) cache.put(id, r);
            }
        } catch (IOException | CorruptVersionException | RuntimeException | Error e) {
            inFlight.remove(id, mine);
            mine.completeExceptionally(e);
            throw e;
        }
        inFlight.remove(id, mine);
        mine.complete(r);
        return r;
    }

    private Reconstruction decodeOne(long id, Reconstruction base, long target, PendingReconstruction progress)
            throws IOException, CorruptVersionException {
        decodes.increment();
        DecoderWarmUp.yieldToReads();
        try (ObjectStream object = source.open(id)) {
            return Objects.requireNonNull(decoder.decode(object, base, progress), "decoder returned null");
        } catch (CorruptObjectException e) {
            String what = id == target ? "version " + id : "version " + id + " (ancestor of version " + target + ")";
            throw new CorruptVersionException(id, e.reason(), what + ": " + e.getMessage(), e);
        }
    }

    /** Waits for a decode another request is running and rethrows its failure as this thread's exception. */
    private static Reconstruction join(CompletableFuture<Reconstruction> f, long target)
            throws IOException, CorruptVersionException {
        try {
            return f.join();
        } catch (CompletionException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            if (c instanceof CorruptVersionException cv) {
                throw new CorruptVersionException(cv.versionId(), cv.reason(), cv.getMessage(), cv);
            }
            if (c instanceof IOException io) {
                throw new IOException("reading the chain of version " + target + ": " + io.getMessage(), io);
            }
            if (c instanceof RuntimeException r) throw r;
            if (c instanceof Error err) throw err;
            throw new IllegalStateException("decoding the chain of version " + target + " failed", c);
        }
    }

    /**
     * Reads the objects of {@code later} (versions decoded after the first one of a chain, in order) once through, on
     * a background thread and into nothing, while the first one decodes: their decodes then read them from the
     * operating system's page cache instead of waiting for the disk. Advisory: a failure here is ignored, the
     * decode reads (and checks) every object itself.
     */
    private void prefetch(List<Long> later) {
        Runnable read = () -> {
            byte[] buf = new byte[1 << 20];
            for (long id : later) {
                try (ObjectStream object = source.open(id)) {
                    long size = object.size();
                    for (long pos = 0; pos < size; pos += buf.length) object.read(pos, buf, 0, (int) Math.min(buf.length, size - pos));
                } catch (IOException | RuntimeException e) {
                    return;
                }
            }
        };
        try {
            Prefetch.EXECUTOR.execute(read);
        } catch (RejectedExecutionException e) {
            // advisory
        }
    }

    /** The thread of {@link #prefetch}es: one, so that they read the disk in chain order. */
    private static final class Prefetch {
        static final ExecutorService EXECUTOR = new java.util.concurrent.ThreadPoolExecutor(0, 1, 30, java.util.concurrent.TimeUnit.SECONDS,
                new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "excpfs-prefetch");
                    t.setDaemon(true);
                    return t;
                });
    }

    /** Threads for the decodes of {@link #open}, created on demand and dropped after a minute idle. */
    private static final class ChainThreads {
        static final ExecutorService EXECUTOR = Executors.newCachedThreadPool(new ThreadFactory() {
            private final AtomicInteger count = new AtomicInteger();

            @Override public Thread newThread(Runnable r) {
                Thread t = new Thread(r, "excpfs-chain-" + count.incrementAndGet());
                t.setDaemon(true);
                return t;
            }
        });
    }

    /** Settings of a {@link BaseCache}. */
    public static final class Builder {
        private final ChainSource source;
        private ObjectDecoder decoder = ObjectDecoder.checkpointCodec();
        private long maximumBytes = 1L << 30;
        private int keepEvery = 1;
        private Ticker ticker = Ticker.systemTicker();
        private Executor executor = ForkJoinPool.commonPool();
        private Duration expireAfterAccess;
        private Executor chains = ChainThreads.EXECUTOR;

        private Builder(ChainSource source) { this.source = Objects.requireNonNull(source); }

        /** Total bytes of reconstructions to hold (the {@code cache=} mount option); default 1 GiB. */
        public Builder maximumBytes(long bytes) {
            if (bytes < 0) throw new IllegalArgumentException("cache size must be >= 0 bytes, got " + bytes);
            this.maximumBytes = bytes;
            return this;
        }

        /**
         * Which intermediates decoded on the way to a requested version stay cached: those whose distance to the
         * requested version is a multiple of {@code n}. 1 (default) keeps all, 0 keeps none; the requested version
         * is always kept.
         */
        public Builder keepEvery(int n) {
            if (n < 0) throw new IllegalArgumentException("keepEvery must be >= 0, got " + n);
            this.keepEvery = n;
            return this;
        }

        public Builder decoder(ObjectDecoder decoder) {
            this.decoder = Objects.requireNonNull(decoder);
            return this;
        }

        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker);
            return this;
        }

        /** Runs Caffeine's maintenance and removal work; {@code Runnable::run} in tests. */
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor);
            return this;
        }

        /** Runs the decodes {@link #open} starts; default a shared pool of daemon threads, one per open decode. */
        public Builder chainExecutor(Executor executor) {
            this.chains = Objects.requireNonNull(executor);
            return this;
        }

        /** Drops reconstructions not read for this long; default never. */
        public Builder expireAfterAccess(Duration d) {
            this.expireAfterAccess = Objects.requireNonNull(d);
            return this;
        }

        public BaseCache build() { return new BaseCache(this); }
    }
}
