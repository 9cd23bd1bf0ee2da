package io.excpfs.codec;

import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.LayoutRecord;
import io.excpfs.codec.envelope.ObjectEnvelope;
import io.excpfs.codec.excp.ExcpRegionCoder;
import io.excpfs.codec.lossless.BytePlaneCoder;
import io.excpfs.codec.lossless.SkeletonCoder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Decoding an object as it is read ({@link PendingReconstruction}): the bytes are those of a decode of the whole
 * array; early regions are served while a later one is still decoding; nothing is served from an object that fails
 * its checksum; a region that cannot be decoded fails only the reads that cover it.
 */
class StreamingDecodeTest {
    private static final ExecutorService THREADS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "streaming-decode-test");
        t.setDaemon(true);
        return t;
    });
    /** Bytes of header before each region (a CRC field at +4) and of trailer per region (a CRC field each). */
    private static final int HEADER = 32, TRAILER_ENTRY = 8;

    @AfterAll static void stop() { THREADS.shutdownNow(); }

    /** A checkpoint file and its layout: header, region, ..., then a trailer holding every region's CRC again. */
    private record File(byte[] bytes, Layout layout) {}

    /**
     * {@code values[i]} is region i; with {@code nested}, one more checksum covers the file from its start to the
     * second region, over the first two CRC fields (so checksums are computed in layout order at the end).
     */
    private static File file(float[][] values, boolean nested) {
        FakeCheckpoint f = new FakeCheckpoint(1);
        List<long[]> regions = new ArrayList<>();
        for (int i = 0; i < values.length; i++) {
            byte[] header = new byte[HEADER];
            byte[] name = ("entry " + i).getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(name, 0, header, 8, name.length);
            f.skeleton(header);
            long at = f.size();
            f.floats("model/layer" + i + ".weight", DType.F32, Role.PARAM, values[i]);
            regions.add(new long[]{at, 4L * values[i].length});
        }
        long trailer = f.size();
        f.skeleton(new byte[TRAILER_ENTRY * (values.length + 1)]);
        for (int i = 0; i < values.length; i++) {
            long[] r = regions.get(i);
            f.crcPatch(new CrcPatch(r[0], r[1], List.of(r[0] - HEADER + 4, trailer + (long) TRAILER_ENTRY * i)));
        }
        if (nested && values.length > 1) f.crcPatch(new CrcPatch(0, regions.get(1)[0], List.of(trailer + (long) TRAILER_ENTRY * values.length)));
        return new File(f.bytes(), f.layout());
    }

    private static float[][] weights(Random r, int regions, int maxFloats) {
        float[][] v = new float[regions][];
        for (int i = 0; i < regions; i++) v[i] = FakeCheckpoint.gaussian(r, 64 + r.nextInt(maxFloats), 0.02);
        return v;
    }

    private static float[][] step(Random r, float[][] w) {
        float[][] v = new float[w.length][];
        for (int i = 0; i < w.length; i++) {
            v[i] = w[i].clone();
            for (int j = 0; j < v[i].length; j++) v[i][j] += (float) (1e-4 * r.nextGaussian());
        }
        return v;
    }

    private static EncodedFile encode(File f, Reconstruction base) throws IOException {
        SetMember m = new SetMember("ckpt.pt", ByteSource.of(f.bytes()), f.layout(), base);
        return CheckpointCodec.encodeSet(List.of(m), Pairing.none("test"), CodecParams.defaults()).get(0);
    }

    /** An object read from "disk": not in memory, so it arrives chunk by chunk; reads from {@code holdFrom} on wait. */
    private static final class Stored implements ObjectStream {
        final byte[] object;
        final long holdFrom;
        final CountDownLatch release = new CountDownLatch(1);

        Stored(byte[] object, long holdFrom) {
            this.object = object;
            this.holdFrom = holdFrom;
        }

        Stored(byte[] object) { this(object, Long.MAX_VALUE); }

        @Override public long size() { return object.length; }

        @Override public void read(long pos, byte[] dst, int off, int len) throws IOException {
            if (pos + len > holdFrom && pos < object.length - ObjectEnvelope.FOOTER_BYTES) { // the footer is read first, never held
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
            if (pos < 0 || pos + len > object.length) throw new EOFException("past the end");
            System.arraycopy(object, (int) pos, dst, off, len);
        }
    }

    private static byte[] readRange(PendingReconstruction p, long from, long to) throws Exception {
        byte[] out = new byte[(int) (to - from)];
        int done = 0;
        while (done < out.length) {
            int n = p.read(from + done, out, done, Math.min(65536, out.length - done));
            if (n <= 0) throw new EOFException("read returned " + n + " at " + (from + done));
            done += n;
        }
        return out;
    }

    @Test
    void streamedBytesAreTheBytesOfAWholeDecode() throws Exception {
        for (long seed = 1; seed <= 8; seed++) {
            Random r = new Random(seed);
            boolean big = seed % 2 == 0, nested = seed % 3 == 0;
            float[][] w = weights(r, 2 + r.nextInt(5), big ? 900_000 : 3000);
            Reconstruction base = null;
            try {
                for (int v = 0; v < 3; v++) {
                    File f = file(w, nested);
                    EncodedFile e = encode(f, base);
                    byte[] expected = CheckpointCodec.decode(e.object(), base).toByteArray();
                    assertArrayEquals(e.reconstruction().toByteArray(), expected, "seed " + seed + " v" + v + ": encoder and decoder agree");
                    PendingReconstruction p = new PendingReconstruction();
                    Reconstruction got = p.decode(new Stored(e.object()), base);
                    assertArrayEquals(expected, got.toByteArray(), "seed " + seed + " v" + v + " (" + e.kind() + ", " + e.object().length + " bytes)");
                    assertArrayEquals(expected, readRange(p, 0, expected.length), "reads before complete()");
                    p.complete(got);
                    base = got;
                    w = step(r, w);
                }
            } catch (AssertionError | Exception x) {
                throw new AssertionError("seed " + seed + ": " + x, x);
            }
        }
    }

    @Test
    void theFirstRegionsAreServedWhileALaterOneIsHeldBack() throws Exception {
        Random r = new Random(11);
        float[][] w = weights(r, 6, 200_000);
        File seedFile = file(w, false);
        EncodedFile seed = encode(seedFile, null);
        EncodedFile residual = encode(file(step(r, w), false), seed.reconstruction());
        assertEquals(Kind.RESIDUAL, residual.kind());
        for (EncodedFile e : List.of(seed, residual)) {
            Reconstruction base = e == seed ? null : seed.reconstruction();
            byte[] expected = e.reconstruction().toByteArray();
            List<TensorRegion> regions = e.reconstruction().layout().regions();
            int held = regions.size() - 1;
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch reached = new CountDownLatch(1);
            PendingReconstruction p = new PendingReconstruction(i -> {
                if (i == held) {
                    reached.countDown();
                    release.await();
                }
            });
            Future<Reconstruction> decode = THREADS.submit(() -> p.decode(new Stored(e.object()), base));
            try {
                long servable = regions.get(held - 1).end();
                assertArrayEquals(Arrays.copyOf(expected, (int) servable), readRange(p, 0, servable),
                        e.kind() + ": bytes up to the held region");
                assertTrue(reached.await(60, TimeUnit.SECONDS), "the decode reached the held region");
                assertFalse(decode.isDone(), e.kind() + ": the held region is still not decoded");
                Future<byte[]> rest = THREADS.submit(() -> readRange(p, servable, expected.length));
                Thread.sleep(200);
                assertFalse(rest.isDone(), e.kind() + ": a read covering the held region waits for it");
                release.countDown();
                Reconstruction done = decode.get(60, TimeUnit.SECONDS);
                assertArrayEquals(Arrays.copyOfRange(expected, (int) servable, expected.length), rest.get(60, TimeUnit.SECONDS));
                p.complete(done);
                assertArrayEquals(expected, done.toByteArray());
            } finally {
                release.countDown();
            }
        }
    }

    @Test
    void aDamagedObjectServesNothing() throws Exception {
        Random r = new Random(12);
        EncodedFile seed = encode(file(weights(r, 4, 300_000), false), null);
        byte[] object = seed.object().clone();
        object[object.length / 3] ^= 0x10;
        Stored stored = new Stored(object, object.length - 100);
        PendingReconstruction p = new PendingReconstruction();
        Future<Reconstruction> decode = THREADS.submit(() -> p.decode(stored, null));
        Future<byte[]> first = THREADS.submit(() -> readRange(p, 0, 100));
        Thread.sleep(300);
        assertFalse(first.isDone(), "nothing is served before the whole object was checked");
        stored.release.countDown();
        ExecutionException failed = assertThrows(ExecutionException.class, () -> decode.get(60, TimeUnit.SECONDS));
        CorruptObjectException c = assertInstanceOf(CorruptObjectException.class, failed.getCause());
        assertTrue(c.getMessage().contains("checksum mismatch"), c.getMessage());
        p.fail(c);
        ExecutionException readFailed = assertThrows(ExecutionException.class, () -> first.get(60, TimeUnit.SECONDS));
        assertEquals(c, readFailed.getCause(), "the read fails with the decode's failure");
        assertThrows(CorruptObjectException.class, () -> CheckpointCodec.decode(object, null), "as a whole decode does");
    }

    @Test
    void aRegionThatCannotBeDecodedFailsOnlyTheReadsCoveringIt() throws Exception {
        Random r = new Random(13);
        EncodedFile seed = encode(file(weights(r, 5, 100_000), false), null);
        byte[] expected = seed.reconstruction().toByteArray();
        List<TensorRegion> regions = seed.reconstruction().layout().regions();
        byte[] object = seed.object().clone();
        object[codingByteOfLastRegion(object)] = 99;
        CRC32C crc = new CRC32C();
        crc.update(object, 0, object.length - 8);
        for (int k = 0; k < 8; k++) object[object.length - 8 + k] = (byte) (crc.getValue() >>> (8 * k));

        PendingReconstruction p = new PendingReconstruction();
        CorruptObjectException c = assertThrows(CorruptObjectException.class, () -> p.decode(new Stored(object), null));
        assertTrue(c.getMessage().contains("unknown region coding 99"), c.getMessage());
        p.fail(c);
        long good = regions.get(regions.size() - 2).end();
        assertArrayEquals(Arrays.copyOf(expected, (int) good), readRange(p, 0, good), "regions before the bad one are served");
        CorruptObjectException readFailure = assertThrows(CorruptObjectException.class, () -> readRange(p, good, expected.length));
        assertEquals(c, readFailure);
        CorruptObjectException whole = assertThrows(CorruptObjectException.class, () -> CheckpointCodec.decode(object, null));
        assertTrue(whole.getMessage().contains("unknown region coding 99"), whole.getMessage());
    }

    @Test
    void aFinishedReconstructionReadsAtOnce() throws Exception {
        EncodedFile seed = encode(file(weights(new Random(14), 3, 1000), false), null);
        PendingReconstruction p = PendingReconstruction.of(seed.reconstruction());
        assertTrue(p.isDone());
        assertArrayEquals(seed.reconstruction().toByteArray(), readRange(p, 0, seed.reconstruction().size()));
        assertEquals(0, p.read(seed.reconstruction().size(), new byte[10], 0, 10));
    }

    /** Offset in a seed object of the coding byte of its last region (a walk of the body as docs/format.md gives it). */
    private static int codingByteOfLastRegion(byte[] object) throws CorruptObjectException {
        ObjectEnvelope.Header h = ObjectEnvelope.open(object, CheckpointCodec.MIN_FORMAT_VERSION, CheckpointCodec.FORMAT_VERSION);
        BytesIn in = new BytesIn(object, h.bodyStart(), h.bodyEnd());
        Layout layout = LayoutRecord.read(in);
        SkeletonCoder.decode(in, null, (int) layout.skeletonBytes());
        int last = -1;
        for (TensorRegion r : layout.regions()) {
            last = in.position();
            int coding = in.u8("coding");
            if (coding == ObjectDecoder.PLANES) BytePlaneCoder.read(in, r.length());
            else ExcpRegionCoder.skip(coding, in);
        }
        if (last < 0) fail("no region");
        return last;
    }
}
