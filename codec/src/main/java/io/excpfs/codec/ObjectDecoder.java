package io.excpfs.codec;

import io.excpfs.codec.CorruptObjectException.Reason;
import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.LayoutRecord;
import io.excpfs.codec.envelope.ObjectEnvelope;
import io.excpfs.codec.excp.ExcpRegionCoder;
import io.excpfs.codec.lossless.BytePlaneCoder;
import io.excpfs.codec.lossless.SkeletonCoder;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Reads the body of a stored object (grammar in docs/format.md) back into a {@link Reconstruction}, region by region
 * as the object's bytes arrive: the calling thread reads the envelope and what precedes the regions, then a reader
 * thread reads the rest front to back and locates each region's stream while the calling thread and the pool
 * ({@link DecodeThreads}) decode the regions already located, each publishing its payload to the
 * {@link PendingReconstruction} it decodes into. A stream is located by parsing it within the bytes arrived so far;
 * a parse that fails is tried again on more bytes, and counts only once every byte is there. Nothing decoded is readable before the whole object passed its
 * checks; errors of a damaged object name its checksum first, as a decode of the whole array would.
 */
final class ObjectDecoder {
    /** Region coding: lossless byte planes (optionally XORed with the base region). */
    static final int PLANES = 0;
    /** Bytes read from the object per step. */
    private static final int CHUNK = 2 << 20;

    private ObjectDecoder() {}

    static Reconstruction decode(byte[] object, Reconstruction base) throws CorruptObjectException {
        try {
            return decode(ObjectStream.of(object), base, new PendingReconstruction());
        } catch (IOException e) {
            throw new CorruptObjectException(Reason.TRUNCATED, "object of " + object.length + " bytes cannot be read: " + e.getMessage());
        }
    }

    static Reconstruction decode(ObjectStream object, Reconstruction base, PendingReconstruction into)
            throws IOException, CorruptObjectException {
        Arrival in = Arrival.open(object);
        ObjectEnvelope.Header h;
        if (in.inMemory) {
            h = ObjectEnvelope.open(in.buf, CheckpointCodec.MIN_FORMAT_VERSION, CheckpointCodec.FORMAT_VERSION);
        } else {
            try {
                h = ObjectEnvelope.peek(in.buf, CheckpointCodec.MIN_FORMAT_VERSION, CheckpointCodec.FORMAT_VERSION);
            } catch (CorruptObjectException e) {
                in.verify();
                throw e;
            }
        }
        Head head;
        while (true) {
            try {
                head = Head.read(in.buf, h, Math.min(in.avail, h.bodyEnd()), base);
                break;
            } catch (CorruptObjectException e) {
                if (in.avail < h.bodyEnd()) { // parsed within what has arrived: any error may be a missing byte
                    int tried = in.avail;
                    while (in.avail < h.bodyEnd() && in.avail < 2L * tried) in.more();
                    continue;
                }
                in.verify();
                throw e;
            }
        }
        try {
            into.begin(head.layout, head.skeleton);
        } catch (IllegalArgumentException e) {
            in.verify();
            throw new CorruptObjectException(Reason.CORRUPT, "object does not rebuild a file: " + e.getMessage() + " (offset " + head.layoutAt + ")");
        }
        Regions regions = new Regions(in, h, head, into);
        try {
            DecodeThreads.run(regions.count, regions::decode, regions::scanAndVerify);
        } catch (CorruptObjectException | RuntimeException e) {
            CorruptObjectException verdict = regions.verdict();
            if (verdict != null) throw verdict;
            if (e instanceof RuntimeException r && !(r instanceof IllegalStateException)) {
                throw new CorruptObjectException(Reason.CORRUPT, "object does not decode: " + r);
            }
            throw e;
        }
        into.regionsDone();
        Map<String, byte[]> payload = new HashMap<>(regions.count * 2);
        for (int i = 0; i < regions.count; i++) payload.put(head.layout.regions().get(i).key(), regions.payload[i]);
        try {
            return new Reconstruction(head.layout, into.skeleton(), payload, true);
        } catch (RuntimeException e) {
            throw new CorruptObjectException(Reason.CORRUPT, "object does not rebuild a file: " + e.getMessage() + " (offset " + head.layoutAt + ")");
        }
    }

    /** The object's bytes as they arrive: a prefix {@code [0, avail)} read in order, plus the footer read first. */
    private static final class Arrival {
        final ObjectStream stream;
        final byte[] buf;
        final boolean inMemory;
        final CRC32C crc = new CRC32C();
        int avail;
        boolean checked;

        private Arrival(ObjectStream stream, byte[] buf, boolean inMemory) {
            this.stream = stream;
            this.buf = buf;
            this.inMemory = inMemory;
            this.avail = inMemory ? buf.length : 0;
            this.checked = inMemory;
        }

        static Arrival open(ObjectStream stream) throws IOException {
            if (stream instanceof ObjectInMemory m) return new Arrival(stream, m.object(), true);
            long size = stream.size();
            if (size > Integer.MAX_VALUE - 16) throw new IOException("object of " + size + " bytes is too large to decode");
            Arrival a = new Arrival(stream, new byte[(int) size], false);
            int tail = Math.min(ObjectEnvelope.FOOTER_BYTES, (int) size);
            stream.read(size - tail, a.buf, (int) size - tail, tail);
            a.more();
            return a;
        }

        boolean complete() { return avail == buf.length; }

        void more() throws IOException {
            int n = Math.min(CHUNK, buf.length - avail);
            stream.read(avail, buf, avail, n);
            crc.update(buf, avail, n);
            avail += n;
        }

        /**
         * Reads the rest and checks the whole object: the store's record of it, then the envelope checksum. Throws
         * the first that fails; returns normally when the object's bytes are intact.
         */
        void verify() throws IOException, CorruptObjectException {
            if (checked) return;
            while (!complete()) more();
            stream.verify((int) crc.getValue());
            ObjectEnvelope.open(buf, CheckpointCodec.MIN_FORMAT_VERSION, CheckpointCodec.FORMAT_VERSION);
            checked = true;
        }
    }

    /** What precedes the regions: base check, layout, skeleton. */
    private record Head(Reconstruction base, Layout layout, byte[] skeleton, int layoutAt, int regionsAt,
                        Map<String, TensorRegion> baseRegions) {
        static Head read(byte[] object, ObjectEnvelope.Header h, int end, Reconstruction base) throws CorruptObjectException {
            BytesIn in = new BytesIn(object, h.bodyStart(), end);
            Reconstruction b = null;
            if (h.needsBase()) {
                int at = in.position();
                int expected = in.u32("base fingerprint");
                if (base == null) throw new CorruptObjectException(Reason.WRONG_BASE, "object " + h.idHex() + " is a residual and needs its base (offset " + at + ")");
                int actual = BaseFingerprint.of(base);
                if (actual != expected) {
                    throw new CorruptObjectException(Reason.WRONG_BASE, String.format(
                            "object %s was encoded against base 0x%08x, given 0x%08x (offset %d)", h.idHex(), expected, actual, at));
                }
                b = base;
            }
            int layoutAt = in.position();
            Layout layout = LayoutRecord.read(in);
            if (layout.size() != h.rawSize() || layout.format() != h.format()) {
                throw in.corrupt("layout (" + layout.format() + ", " + layout.size() + " bytes) disagrees with the header", layoutAt);
            }
            long skeletonBytes = layout.skeletonBytes();
            if (skeletonBytes > Integer.MAX_VALUE - 16) throw in.corrupt("skeleton larger than 2 GiB", layoutAt);
            byte[] skeleton = SkeletonCoder.decode(in, b == null ? null : b.skeleton(), (int) skeletonBytes);
            if (skeleton.length != skeletonBytes) throw in.corrupt("skeleton is " + skeleton.length + " bytes, layout needs " + skeletonBytes, layoutAt);
            Map<String, TensorRegion> baseRegions = new HashMap<>();
            if (b != null) for (TensorRegion r : b.layout().regions()) baseRegions.put(r.key(), r);
            return new Head(b, layout, skeleton, layoutAt, in.position(), baseRegions);
        }
    }

    /**
     * The region streams: located in order by the calling thread as the object arrives ({@link #scanAndVerify}),
     * decoded by any thread once located ({@link #decode}).
     */
    private static final class Regions {
        final Arrival in;
        final ObjectEnvelope.Header h;
        final Head head;
        final PendingReconstruction into;
        final List<TensorRegion> layoutRegions;
        final int count;
        final int[] coding, start, end;
        final BytePlaneCoder.Planes[] planes;
        final byte[][] payload;
        /** Regions {@code [0, located)} have their streams located; guarded by this. */
        private int located;
        /** Why region {@code located} cannot be located; guarded by this. */
        private CorruptObjectException scanError;
        /** The object failed its checks: nothing of it may be used. Guarded by this. */
        private CorruptObjectException damaged;
        private IOException readFailure;

        Regions(Arrival in, ObjectEnvelope.Header h, Head head, PendingReconstruction into) {
            this.in = in;
            this.h = h;
            this.head = head;
            this.into = into;
            this.layoutRegions = head.layout.regions();
            this.count = layoutRegions.size();
            this.coding = new int[count];
            this.start = new int[count];
            this.end = new int[count];
            this.planes = new BytePlaneCoder.Planes[count];
            this.payload = new byte[count][];
        }

        /** Reads the object to its end, locating region streams as they arrive, then checks it whole. */
        void scanAndVerify() throws IOException, CorruptObjectException {
            try {
                int pos = head.regionsAt;
                int i = 0;
                long retryAt = 0;
                while (true) {
                    while (i < count && scanError() == null && (in.avail >= retryAt || in.complete())) {
                        try {
                            pos = locate(i, pos, Math.min(in.avail, h.bodyEnd()));
                            i++;
                            retryAt = 0;
                        } catch (CorruptObjectException e) {
                            if (in.avail < h.bodyEnd()) { // parsed within what has arrived: any error may be a missing byte
                                retryAt = pos + 2L * (in.avail - pos); // tried again once twice as much of it is there
                                break;
                            }
                            setScanError(e);
                        }
                    }
                    if (in.complete()) break;
                    in.more();
                }
                in.verify();
                if (scanError() == null && pos != h.bodyEnd()) {
                    throw new CorruptObjectException(Reason.CORRUPT, (h.bodyEnd() - pos) + " unread bytes after the last region at offset " + pos);
                }
                into.verified();
            } catch (CorruptObjectException e) {
                synchronized (this) {
                    damaged = e;
                    notifyAll();
                }
                throw e;
            } catch (IOException | RuntimeException e) {
                synchronized (this) {
                    readFailure = e instanceof IOException io ? io : new IOException(e.toString(), e);
                    notifyAll();
                }
                throw e;
            }
        }

        /** Locates region {@code i}'s stream at {@code pos} within {@code [pos, limit)}; returns where the next one starts. */
        private int locate(int i, int pos, int limit) throws CorruptObjectException {
            BytesIn b = new BytesIn(in.buf, pos, limit);
            TensorRegion r = layoutRegions.get(i);
            int c = b.u8("region coding");
            if (r.length() > Integer.MAX_VALUE - 16) throw b.corrupt("region " + r.key() + " larger than 2 GiB", pos);
            BytePlaneCoder.Planes p = null;
            switch (c) {
                case PLANES -> {
                    p = BytePlaneCoder.read(b, r.length());
                    Reconstruction base = head.base;
                    if (p.needsBase() && (base == null || base.region(r.key()) == null || base.region(r.key()).length != r.length())) {
                        throw b.corrupt("payload is XORed with a base that is missing", pos + 1);
                    }
                }
                case ExcpRegionCoder.WEIGHT, ExcpRegionCoder.MOMENT, ExcpRegionCoder.LOG_MOMENT, ExcpRegionCoder.LOG_RATIO_MOMENT -> {
                    if (!r.dtype().isFloat()) throw b.corrupt("lossy coding of non-float region " + r.key(), pos);
                    if (c == ExcpRegionCoder.WEIGHT || c == ExcpRegionCoder.LOG_RATIO_MOMENT) {
                        TensorRegion br = head.baseRegions.get(r.key());
                        if (br == null || br.dtype() != r.dtype() || br.length() != r.length()) {
                            throw new CorruptObjectException(Reason.WRONG_BASE, "base has no region " + r.key() + " of the same dtype and length (offset " + pos + ")");
                        }
                    }
                    ExcpRegionCoder.skip(c, b);
                }
                default -> throw b.corrupt("unknown region coding " + c + " for " + r.key(), pos);
            }
            synchronized (this) {
                coding[i] = c;
                start[i] = pos;
                end[i] = b.position();
                planes[i] = p;
                located = i + 1;
                notifyAll();
            }
            return b.position();
        }

        private synchronized CorruptObjectException scanError() { return scanError; }

        private synchronized void setScanError(CorruptObjectException e) {
            scanError = e;
            notifyAll();
        }

        /** The object's own verdict, when it failed its checks or could not be read; null while it stands. */
        synchronized CorruptObjectException verdict() throws IOException {
            if (readFailure != null) throw readFailure;
            return damaged;
        }

        /** Decodes region {@code i} once its stream is located, and publishes it. */
        void decode(int i) throws CorruptObjectException {
            synchronized (this) {
                while (located <= i) {
                    if (damaged != null) throw damaged;
                    if (readFailure != null) throw new CorruptObjectException(Reason.TRUNCATED, "object unreadable: " + readFailure.getMessage());
                    if (scanError != null) throw scanError;
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new CorruptObjectException(Reason.CORRUPT, "decode interrupted at region " + i);
                    }
                }
            }
            into.beforeRegion(i);
            TensorRegion r = layoutRegions.get(i);
            byte[] dst = new byte[(int) r.length()];
            byte[] baseRegion = head.base == null ? null : head.base.region(r.key());
            if (coding[i] == PLANES) {
                planes[i].decode(dst, baseRegion);
            } else {
                BytesIn rin = new BytesIn(in.buf, start[i] + 1, end[i]);
                ExcpRegionCoder.decode(coding[i], rin, r.dtype(), baseRegion, dst);
                if (rin.remaining() != 0) throw rin.corrupt("region " + r.key() + " decoded before the end of its stream");
            }
            payload[i] = dst;
            into.regionDone(i, dst);
        }
    }
}
