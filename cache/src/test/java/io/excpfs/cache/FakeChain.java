package io.excpfs.cache;

import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.DType;
import io.excpfs.codec.Format;
import io.excpfs.codec.Layout;
import io.excpfs.codec.Reconstruction;
import io.excpfs.codec.Role;
import io.excpfs.codec.TensorRegion;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A store of versions in memory with a decoder that works like a residual codec: each object carries its version
 * id and a delta; decoding adds the delta to every payload byte of the base. The payload of version v is thus the
 * sum of the deltas along its chain, and its skeleton is v's id, so a wrong base or a wrong object shows.
 */
final class FakeChain implements ChainSource, ObjectDecoder {
    final Map<Long, Long> bases = new ConcurrentHashMap<>();
    final Set<Long> seeds = ConcurrentHashMap.newKeySet();
    final Map<Long, AtomicInteger> decodeCount = new ConcurrentHashMap<>();
    final Set<Long> corrupt = ConcurrentHashMap.newKeySet();
    final Set<Long> missingObjects = ConcurrentHashMap.newKeySet();
    volatile RuntimeException failWith;
    volatile Runnable onDecode = () -> {};
    final int payloadBytes;

    FakeChain(int payloadBytes) { this.payloadBytes = payloadBytes; }

    /** Versions first..last in one lineage: first is a seed, every other one's base is its predecessor. */
    FakeChain lineage(long first, long last) {
        seeds.add(first);
        for (long v = first + 1; v <= last; v++) bases.put(v, v - 1);
        return this;
    }

    static int delta(long v) { return (int) ((v * 7 + 1) & 0xff); }

    byte expectedPayloadByte(long v) {
        int sum = 0;
        for (long cur = v; ; cur = bases.get(cur)) {
            sum += delta(cur);
            if (!bases.containsKey(cur)) break;
        }
        return (byte) sum;
    }

    void assertIsVersion(Reconstruction r, long v) {
        long id = ByteBuffer.wrap(r.skeleton()).getLong();
        if (id != v) throw new AssertionError("reconstruction of version " + id + " returned for " + v);
        byte[] p = r.region("w");
        for (byte b : p) {
            if (b != expectedPayloadByte(v)) throw new AssertionError("wrong payload for version " + v);
        }
    }

    int decodes(long v) {
        AtomicInteger n = decodeCount.get(v);
        return n == null ? 0 : n.get();
    }

    int totalDecodes() { return decodeCount.values().stream().mapToInt(AtomicInteger::get).sum(); }

    @Override public OptionalLong baseOf(long versionId) throws IOException {
        if (seeds.contains(versionId)) return OptionalLong.empty();
        Long b = bases.get(versionId);
        if (b == null) throw new FileNotFoundException("no version " + versionId);
        return OptionalLong.of(b);
    }

    @Override public byte[] object(long versionId) throws IOException {
        if (missingObjects.contains(versionId)) throw new FileNotFoundException("object of version " + versionId + " is missing");
        return ByteBuffer.allocate(9).putLong(versionId).put((byte) delta(versionId)).array();
    }

    @Override public Reconstruction decode(byte[] object, Reconstruction base) throws CorruptObjectException {
        ByteBuffer in = ByteBuffer.wrap(object);
        long v = in.getLong();
        byte d = in.get();
        decodeCount.computeIfAbsent(v, k -> new AtomicInteger()).incrementAndGet();
        onDecode.run();
        if (failWith != null) throw failWith;
        if (corrupt.contains(v)) throw new CorruptObjectException(CorruptObjectException.Reason.CORRUPT, "checksum mismatch at offset 12");
        boolean seed = seeds.contains(v);
        if (seed != (base == null)) throw new AssertionError("version " + v + (seed ? " is a seed but got a base" : " needs a base"));
        if (!seed) assertIsVersion(base, bases.get(v));
        byte[] payload = new byte[payloadBytes];
        for (int i = 0; i < payload.length; i++) payload[i] = (byte) ((seed ? 0 : base.region("w")[i]) + d);
        Layout layout = new Layout(Format.SAFETENSORS, 8 + payloadBytes,
                List.of(new TensorRegion("w", DType.U8, new long[] {payloadBytes}, 8, payloadBytes, Role.NON_FLOAT)),
                List.of(), "fake", Map.of(), Map.of());
        return new Reconstruction(layout, ByteBuffer.allocate(8).putLong(v).array(), Map.of("w", payload));
    }
}
