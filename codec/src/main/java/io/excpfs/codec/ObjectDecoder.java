package io.excpfs.codec;

import io.excpfs.codec.CorruptObjectException.Reason;
import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.LayoutRecord;
import io.excpfs.codec.envelope.ObjectEnvelope;
import io.excpfs.codec.excp.ExcpRegionCoder;
import io.excpfs.codec.lossless.BytePlaneCoder;
import io.excpfs.codec.lossless.SkeletonCoder;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Reads the body of a stored object (grammar in docs/format.md) back into a {@link Reconstruction}. */
final class ObjectDecoder {
    /** Region coding: lossless byte planes (optionally XORed with the base region). */
    static final int PLANES = 0;

    private ObjectDecoder() {}

    static Reconstruction decode(byte[] object, Reconstruction base) throws CorruptObjectException {
        ObjectEnvelope.Header h = ObjectEnvelope.open(object, CheckpointCodec.MIN_FORMAT_VERSION, CheckpointCodec.FORMAT_VERSION);
        BytesIn in = new BytesIn(object, h.bodyStart(), h.bodyEnd());
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
        List<TensorRegion> layoutRegions = layout.regions();
        int count = layoutRegions.size();
        int[] coding = new int[count], start = new int[count + 1];
        BytePlaneCoder.Planes[] planes = new BytePlaneCoder.Planes[count];
        for (int i = 0; i < count; i++) {
            TensorRegion r = layoutRegions.get(i);
            int at = in.position();
            start[i] = at;
            coding[i] = in.u8("region coding");
            if (r.length() > Integer.MAX_VALUE - 16) throw in.corrupt("region " + r.key() + " larger than 2 GiB", at);
            switch (coding[i]) {
                case PLANES -> {
                    planes[i] = BytePlaneCoder.read(in, r.length());
                    if (planes[i].needsBase() && (b == null || b.region(r.key()) == null || b.region(r.key()).length != r.length())) {
                        throw in.corrupt("payload is XORed with a base that is missing", at + 1);
                    }
                }
                case ExcpRegionCoder.WEIGHT, ExcpRegionCoder.MOMENT, ExcpRegionCoder.LOG_MOMENT, ExcpRegionCoder.LOG_RATIO_MOMENT -> {
                    if (!r.dtype().isFloat()) throw in.corrupt("lossy coding of non-float region " + r.key(), at);
                    if (coding[i] == ExcpRegionCoder.WEIGHT || coding[i] == ExcpRegionCoder.LOG_RATIO_MOMENT) {
                        TensorRegion br = baseRegions.get(r.key());
                        if (br == null || br.dtype() != r.dtype() || br.length() != r.length()) {
                            throw new CorruptObjectException(Reason.WRONG_BASE, "base has no region " + r.key() + " of the same dtype and length (offset " + at + ")");
                        }
                    }
                    ExcpRegionCoder.skip(coding[i], in);
                }
                default -> throw in.corrupt("unknown region coding " + coding[i] + " for " + r.key(), at);
            }
        }
        start[count] = in.position();
        if (in.remaining() != 0) throw in.corrupt(in.remaining() + " unread bytes after the last region");
        byte[][] payload = new byte[count][];
        Reconstruction base0 = b;
        DecodeThreads.run(count, i -> {
            TensorRegion r = layoutRegions.get(i);
            byte[] dst = new byte[(int) r.length()];
            byte[] baseRegion = base0 == null ? null : base0.region(r.key());
            if (coding[i] == PLANES) {
                planes[i].decode(dst, baseRegion);
            } else {
                BytesIn rin = new BytesIn(object, start[i] + 1, start[i + 1]);
                ExcpRegionCoder.decode(coding[i], rin, r.dtype(), baseRegion, dst);
                if (rin.remaining() != 0) throw rin.corrupt("region " + r.key() + " decoded before the end of its stream");
            }
            payload[i] = dst;
        });
        Map<String, byte[]> regions = new HashMap<>(count * 2);
        for (int i = 0; i < count; i++) regions.put(layoutRegions.get(i).key(), payload[i]);
        try {
            return new Reconstruction(layout, skeleton, regions);
        } catch (RuntimeException e) {
            throw in.corrupt("object does not rebuild a file: " + e.getMessage(), layoutAt);
        }
    }
}
