package io.excpfs.cache;

import io.excpfs.codec.ObjectStream;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A chain decode reads the later objects of the chain ahead, on another thread, while the first one decodes. */
class BaseCachePrefetchTest {
    /** Records every object read to its end (and on which thread), and can fail the first read-ahead open of a version. */
    private static final class Recording implements ChainSource {
        final FakeChain chain;
        final List<String> reads = new CopyOnWriteArrayList<>();
        volatile long failFirstOpenOf = -1;

        Recording(FakeChain chain) { this.chain = chain; }

        @Override public OptionalLong baseOf(long versionId) throws IOException { return chain.baseOf(versionId); }

        @Override public byte[] object(long versionId) throws IOException { return chain.object(versionId); }

        @Override public ObjectStream open(long versionId) throws IOException {
            if (failFirstOpenOf == versionId && Thread.currentThread().getName().startsWith("excpfs-prefetch")) {
                failFirstOpenOf = -1;
                throw new IOException("disk went away for a moment");
            }
            byte[] object = object(versionId);
            String thread = Thread.currentThread().getName();
            return new ObjectStream() {
                @Override public long size() { return object.length; }

                @Override public void read(long pos, byte[] dst, int off, int len) {
                    System.arraycopy(object, (int) pos, dst, off, len);
                    if (pos + len == object.length) reads.add(versionId + (thread.startsWith("excpfs-prefetch") ? " ahead" : ""));
                }
            };
        }
    }

    private static BaseCache cache(Recording source) {
        return BaseCache.builder(source).decoder(source.chain).executor(Runnable::run).build();
    }

    @Test
    void readsTheLaterObjectsOfAChainAheadInChainOrder() throws Exception {
        Recording source = new Recording(new FakeChain(64).lineage(0, 3));
        BaseCache cache = cache(source);
        source.chain.assertIsVersion(cache.get(3), 3);
        assertTrue(awaitReads(source, 7), "reads: " + source.reads);
        assertEquals(List.of("1 ahead", "2 ahead", "3 ahead"), source.reads.stream().filter(r -> r.endsWith("ahead")).toList());
        assertEquals(1, source.chain.decodes(3));
    }

    @Test
    void nothingIsReadAheadForASingleObject() throws Exception {
        Recording source = new Recording(new FakeChain(64).lineage(0, 3));
        BaseCache cache = cache(source);
        cache.get(2);
        assertTrue(awaitReads(source, 5), "reads: " + source.reads); // 0, 1, 2 and 1, 2 ahead
        source.reads.clear();
        cache.get(3); // its base is cached: one object to decode
        Thread.sleep(100);
        assertEquals(List.of("3"), source.reads);
    }

    /** Reading ahead is advisory: when it fails, the decode opens and reads the object itself. */
    @Test
    void aFailedReadAheadChangesNothing() throws Exception {
        Recording source = new Recording(new FakeChain(64).lineage(0, 2));
        source.failFirstOpenOf = 1;
        BaseCache cache = cache(source);
        source.chain.assertIsVersion(cache.get(2), 2);
        assertEquals(source.chain.expectedPayloadByte(2), cache.get(2).region("w")[0]);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (source.failFirstOpenOf != -1 && System.nanoTime() < deadline) Thread.sleep(10);
        assertEquals(-1, source.failFirstOpenOf, "the read-ahead was tried");
    }

    private static boolean awaitReads(Recording source, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (source.reads.size() < n && System.nanoTime() < deadline) Thread.sleep(10);
        return source.reads.size() >= n;
    }
}
