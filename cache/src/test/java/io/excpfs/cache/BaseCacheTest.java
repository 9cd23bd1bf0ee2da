package io.excpfs.cache;

import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.Reconstruction;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class BaseCacheTest {
    private static BaseCache.Builder builder(FakeChain chain) {
        return BaseCache.builder(chain).decoder(chain).executor(Runnable::run).maximumBytes(1L << 30);
    }

    static IntStream depths() { return IntStream.rangeClosed(1, 50); }

    @ParameterizedTest
    @MethodSource("depths")
    void resolvesChainsOfEveryDepthDecodingEachVersionOnce(int depth) throws Exception {
        FakeChain chain = new FakeChain(64).lineage(0, depth + 1);
        BaseCache cache = builder(chain).build();

        chain.assertIsVersion(cache.get(depth), depth);
        for (long v = 0; v <= depth; v++) assertEquals(1, chain.decodes(v), "decodes of version " + v);
        assertEquals(depth + 1, chain.totalDecodes());

        chain.assertIsVersion(cache.get(depth), depth);
        assertEquals(depth + 1, chain.totalDecodes(), "a cached version is not decoded again");
        assertTrue(cache.stats().hitCount() >= 1);

        chain.assertIsVersion(cache.get(depth + 1), depth + 1);
        assertEquals(depth + 2, chain.totalDecodes(), "the next version decodes against its cached base");
        chain.assertIsVersion(cache.get(depth / 2), depth / 2);
        assertEquals(depth + 2, chain.totalDecodes(), "intermediates are kept by default");
    }

    @Test
    void startsFromTheNearestCachedAncestor() throws Exception {
        FakeChain chain = new FakeChain(16).lineage(0, 30);
        Reconstruction ten = builder(chain).build().get(10);
        chain.decodeCount.clear();

        BaseCache cache = builder(chain).build();
        cache.put(10, ten);
        chain.assertIsVersion(cache.get(30), 30);
        for (long v = 0; v <= 10; v++) assertEquals(0, chain.decodes(v), "version " + v + " is behind the cached one");
        for (long v = 11; v <= 30; v++) assertEquals(1, chain.decodes(v));
    }

    @Test
    void encoderByProductIsTheNextBase() throws Exception {
        FakeChain chain = new FakeChain(16).lineage(0, 42);
        Reconstruction r41 = builder(chain).build().get(41);
        chain.decodeCount.clear();
        BaseCache cache = builder(chain).build();

        cache.put(41, r41);
        assertSame(r41, cache.get(41));
        chain.assertIsVersion(cache.get(42), 42);
        assertEquals(1, chain.totalDecodes());
    }

    @Test
    void keepEveryZeroCachesOnlyTheRequestedVersion() throws Exception {
        FakeChain chain = new FakeChain(16).lineage(0, 20);
        BaseCache cache = builder(chain).keepEvery(0).build();

        chain.assertIsVersion(cache.get(20), 20);
        assertEquals(1, cache.size());
        assertNotNull(cache.getIfPresent(20));
        chain.assertIsVersion(cache.get(19), 19);
        assertEquals(2, chain.decodes(0));
    }

    @Test
    void keepEveryNCachesIntermediatesAtMultiplesOfNFromTheTarget() throws Exception {
        FakeChain chain = new FakeChain(16).lineage(0, 22);
        BaseCache cache = builder(chain).keepEvery(5).build();

        cache.get(22);
        List<Long> cached = new ArrayList<>();
        for (long v = 0; v <= 22; v++) if (cache.getIfPresent(v) != null) cached.add(v);
        assertEquals(List.of(2L, 7L, 12L, 17L, 22L), cached);
        chain.decodeCount.clear();
        chain.assertIsVersion(cache.get(15), 15);
        assertEquals(3, chain.totalDecodes(), "13, 14, 15 from cached 12");
    }

    @Test
    void evictsByBytesAndReDecodesEvictedVersionsCorrectly() throws Exception {
        int payload = 10 * 1024;
        FakeChain chain = new FakeChain(payload).lineage(0, 40);
        BaseCache cache = builder(chain).maximumBytes(6L * (payload + 1024)).build();

        chain.assertIsVersion(cache.get(40), 40);
        assertTrue(cache.weightedBytes() <= 6L * (payload + 1024), "weighted " + cache.weightedBytes());
        assertTrue(cache.size() <= 6, "cached " + cache.size());
        assertTrue(cache.stats().evictionCount() > 0);

        List<Long> order = new ArrayList<>();
        for (long v = 0; v <= 40; v++) order.add(v);
        Collections.shuffle(order, new Random(7));
        for (long v : order) chain.assertIsVersion(cache.get(v), v);
        assertTrue(cache.weightedBytes() <= 6L * (payload + 1024));
    }

    @Test
    void weighsEntriesInBytes() throws Exception {
        FakeChain chain = new FakeChain(100_000).lineage(0, 3);
        BaseCache cache = builder(chain).build();
        cache.get(3);
        long one = cache.getIfPresent(3).weightBytes();
        assertTrue(cache.weightedBytes() >= 4 * one && cache.weightedBytes() <= 4 * (one + 1024), "weighted " + cache.weightedBytes());
    }

    @RepeatedTest(20)
    void concurrentRequestsDecodeEachVersionOnce() throws Exception {
        FakeChain chain = new FakeChain(256).lineage(0, 40);
        BaseCache cache = BaseCache.builder(chain).decoder(chain).build();
        int threads = 12;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        Random random = new Random();
        List<Future<?>> results = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long target = 20 + random.nextInt(21);
            results.add(pool.submit(() -> {
                start.await();
                chain.assertIsVersion(cache.get(target), target);
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : results) f.get(30, TimeUnit.SECONDS);
        pool.shutdown();
        for (long v = 0; v <= 40; v++) assertTrue(chain.decodes(v) <= 1, "version " + v + " decoded " + chain.decodes(v) + " times");
    }

    @Test
    void waitersBlockOnTheOneDecodeInFlight() throws Exception {
        FakeChain chain = new FakeChain(64).lineage(0, 10);
        BaseCache cache = BaseCache.builder(chain).decoder(chain).build();
        int threads = 8;
        List<Thread> workers = new ArrayList<>();
        List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
        chain.onDecode = () -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (workers.stream().anyMatch(w -> w != Thread.currentThread() && w.getState() != Thread.State.WAITING)) {
                if (System.nanoTime() > deadline) throw new IllegalStateException("other readers never waited");
                Thread.onSpinWait();
            }
            chain.onDecode = () -> {};
        };
        for (int t = 0; t < threads; t++) {
            workers.add(new Thread(() -> {
                try {
                    chain.assertIsVersion(cache.get(10), 10);
                } catch (Throwable e) {
                    errors.add(e);
                }
            }));
        }
        workers.forEach(Thread::start);
        for (Thread w : workers) w.join(30_000);
        assertEquals(List.of(), errors);
        for (long v = 0; v <= 10; v++) assertEquals(1, chain.decodes(v), "version " + v);
    }

    @Test
    void corruptAncestorIsNamedAndNothingAfterItIsCached() throws Exception {
        FakeChain chain = new FakeChain(32).lineage(0, 10);
        chain.corrupt.add(7L);
        BaseCache cache = builder(chain).build();

        CorruptVersionException e = assertThrows(CorruptVersionException.class, () -> cache.get(10));
        assertEquals(7, e.versionId());
        assertEquals(CorruptObjectException.Reason.CORRUPT, e.reason());
        assertTrue(e.getMessage().contains("version 7 (ancestor of version 10)"), e.getMessage());
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        for (long v = 7; v <= 10; v++) assertNull(cache.getIfPresent(v));
        for (long v = 0; v < 7; v++) assertNotNull(cache.getIfPresent(v));

        chain.corrupt.clear();
        chain.decodeCount.clear();
        chain.assertIsVersion(cache.get(10), 10);
        assertEquals(4, chain.totalDecodes(), "retry decodes 7..10 only");
    }

    @Test
    void corruptRequestedVersionIsNamed() throws Exception {
        FakeChain chain = new FakeChain(32).lineage(0, 3);
        chain.corrupt.add(3L);
        BaseCache cache = builder(chain).build();
        CorruptVersionException e = assertThrows(CorruptVersionException.class, () -> cache.get(3));
        assertEquals(3, e.versionId());
        assertTrue(e.getMessage().startsWith("version 3: "), e.getMessage());
        assertInstanceOf(CorruptObjectException.class, e.getCause());
    }

    @Test
    void everyConcurrentReaderSeesTheFailure() throws Exception {
        FakeChain chain = new FakeChain(32).lineage(0, 12);
        chain.corrupt.add(0L);
        BaseCache cache = BaseCache.builder(chain).decoder(chain).build();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<Throwable>> results = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            long target = 5 + t;
            results.add(pool.submit(() -> {
                try {
                    cache.get(target);
                    return null;
                } catch (Throwable e) {
                    return e;
                }
            }));
        }
        for (Future<Throwable> f : results) {
            Throwable e = f.get(30, TimeUnit.SECONDS);
            CorruptVersionException cv = assertInstanceOf(CorruptVersionException.class, e);
            assertEquals(0, cv.versionId());
        }
        pool.shutdown();
        assertEquals(0, cache.size());
    }

    @Test
    void failingDecoderPropagatesAndCachesNothing() throws Exception {
        FakeChain chain = new FakeChain(32).lineage(0, 5);
        chain.failWith = new IllegalStateException("decoder bug");
        BaseCache cache = builder(chain).build();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> cache.get(5));
        assertEquals("decoder bug", e.getMessage());
        assertEquals(0, cache.size());

        chain.failWith = null;
        chain.assertIsVersion(cache.get(5), 5);
    }

    @Test
    void missingObjectOrUnknownVersionIsAnIOException() throws Exception {
        FakeChain chain = new FakeChain(32).lineage(0, 5);
        chain.missingObjects.add(2L);
        BaseCache cache = builder(chain).build();
        IOException e = assertThrows(IOException.class, () -> cache.get(5));
        assertTrue(e.getMessage().contains("version 2"), e.getMessage());
        assertNotNull(cache.getIfPresent(1));
        assertNull(cache.getIfPresent(2));

        assertThrows(IOException.class, () -> cache.get(99));
    }

    @Test
    void loopingChainIsReportedNotFollowedForever() {
        FakeChain chain = new FakeChain(8);
        chain.bases.put(5L, 6L);
        chain.bases.put(6L, 7L);
        chain.bases.put(7L, 5L);
        BaseCache cache = builder(chain).build();
        CorruptVersionException e = assertThrows(CorruptVersionException.class, () -> cache.get(5));
        assertTrue(e.getMessage().contains("loops"), e.getMessage());
        assertEquals(0, chain.totalDecodes());
    }

    @Test
    void concurrentReadersOfALoopAllFailInsteadOfWaitingOnEachOther() throws Exception {
        FakeChain chain = new FakeChain(8);
        chain.bases.put(5L, 6L);
        chain.bases.put(6L, 7L);
        chain.bases.put(7L, 5L);
        BaseCache cache = BaseCache.builder(chain).decoder(chain).build();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        List<Future<Throwable>> results = new ArrayList<>();
        for (long v = 5; v <= 7; v++) {
            long target = v;
            results.add(pool.submit(() -> {
                try {
                    cache.get(target);
                    return null;
                } catch (Throwable e) {
                    return e;
                }
            }));
        }
        for (Future<Throwable> f : results) assertInstanceOf(CorruptVersionException.class, f.get(30, TimeUnit.SECONDS));
        pool.shutdown();
    }

    @Test
    void keepEveryZeroStillDecodesOnceForConcurrentReadersOfOneVersion() throws Exception {
        FakeChain chain = new FakeChain(64).lineage(0, 30);
        BaseCache cache = BaseCache.builder(chain).decoder(chain).keepEvery(0).build();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> results = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            results.add(pool.submit(() -> {
                start.await();
                chain.assertIsVersion(cache.get(30), 30);
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : results) f.get(30, TimeUnit.SECONDS);
        pool.shutdown();
        for (long v = 0; v <= 30; v++) assertEquals(1, chain.decodes(v), "version " + v);
    }

    @Test
    void selfBaseIsALoop() {
        FakeChain chain = new FakeChain(8);
        chain.bases.put(4L, 4L);
        assertThrows(CorruptVersionException.class, () -> builder(chain).build().get(4));
    }

    @Test
    void expiresAfterAccessOnTheInjectedTicker() throws Exception {
        FakeChain chain = new FakeChain(8).lineage(0, 3);
        AtomicLong nanos = new AtomicLong();
        BaseCache cache = builder(chain).ticker(nanos::get).expireAfterAccess(Duration.ofMinutes(10)).build();
        cache.get(3);
        nanos.addAndGet(Duration.ofMinutes(9).toNanos());
        assertNotNull(cache.getIfPresent(3));
        nanos.addAndGet(Duration.ofMinutes(11).toNanos());
        cache.cleanUp();
        assertNull(cache.getIfPresent(3));
        assertEquals(0, cache.size());
    }

    @Test
    void invalidateDropsAVersion() throws Exception {
        FakeChain chain = new FakeChain(8).lineage(0, 3);
        BaseCache cache = builder(chain).build();
        cache.get(3);
        cache.invalidate(3);
        assertNull(cache.getIfPresent(3));
        chain.decodeCount.clear();
        cache.get(3);
        assertEquals(1, chain.totalDecodes());
        cache.invalidateAll();
        assertEquals(0, cache.size());
    }

    @Test
    void statsCountHitsAndLoads() throws Exception {
        FakeChain chain = new FakeChain(8).lineage(0, 4);
        BaseCache cache = builder(chain).build();
        cache.get(4);
        cache.get(4);
        cache.get(2);
        assertEquals(2, cache.stats().hitCount());
        assertEquals(1, cache.stats().missCount());
        assertEquals(5, cache.decodes());
    }

    @Test
    void rejectsBadSettings() {
        FakeChain chain = new FakeChain(8);
        assertThrows(IllegalArgumentException.class, () -> BaseCache.builder(chain).maximumBytes(-1));
        assertThrows(IllegalArgumentException.class, () -> BaseCache.builder(chain).keepEvery(-2));
        if (chain.totalDecodes() != 0) fail();
    }
}
