package io.excpfs.fs.store;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.CodecParams;
import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.EncodeStats;
import io.excpfs.codec.EncodedFile;
import io.excpfs.codec.Kind;
import io.excpfs.codec.Layout;
import io.excpfs.codec.Pairing;
import io.excpfs.codec.Reconstruction;
import io.excpfs.codec.SetMember;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.CRC32;

/**
 * A deliberately lossy stand-in codec: every 10th byte of a file is rounded down to even; residuals are XOR against
 * the base's reconstruction. Reading a residual back gives {@link #lossy} of the file only if it was encoded against
 * exactly what a read of its base returns (closed loop), so the store's ordering is observable.
 */
final class LossyTestCodec implements Codec {
    final List<List<String>> sets = new CopyOnWriteArrayList<>();
    volatile boolean fail;

    static byte[] lossy(byte[] b) {
        byte[] out = b.clone();
        for (int i = 0; i < out.length; i += 10) out[i] &= (byte) 0xFE;
        return out;
    }

    @Override public Layout parse(ByteSource file) { return Layout.opaque(file.size(), "test codec"); }

    @Override public Pairing pair(List<SetMember> members) { return Pairing.none("test codec"); }

    @Override public List<EncodedFile> encodeSet(List<SetMember> members, Pairing pairing, CodecParams params) throws IOException {
        if (fail) throw new IOException("test codec told to fail");
        sets.add(members.stream().map(SetMember::name).toList());
        List<EncodedFile> out = new ArrayList<>();
        for (SetMember m : members) {
            byte[] raw = m.bytes().read(0, (int) m.bytes().size());
            byte[] target = lossy(raw);
            boolean residual = m.base() != null && m.base().size() == raw.length;
            byte[] payload = target.clone();
            if (residual) {
                byte[] base = m.base().toByteArray();
                for (int i = 0; i < payload.length; i++) payload[i] ^= base[i];
            }
            CRC32 crc = new CRC32();
            crc.update(payload);
            byte[] object = ByteBuffer.allocate(5 + 8 + payload.length).put("FAKE".getBytes()).put((byte) (residual ? 1 : 0))
                    .putLong(crc.getValue()).put(payload).array();
            Reconstruction r = new Reconstruction(Layout.opaque(raw.length, "test"), target, Map.of());
            out.add(new EncodedFile(m.name(), object, r, residual ? Kind.RESIDUAL : Kind.SEED, EncodeStats.lossless(raw.length, object.length)));
        }
        return out;
    }

    @Override public Reconstruction decode(byte[] object, Reconstruction base) throws CorruptObjectException {
        ByteBuffer b = ByteBuffer.wrap(object);
        if (object.length < 13 || b.get() != 'F') throw new CorruptObjectException(CorruptObjectException.Reason.CORRUPT, "not a test object");
        b.position(4);
        boolean residual = b.get() == 1;
        long crc = b.getLong();
        byte[] payload = new byte[b.remaining()];
        b.get(payload);
        CRC32 c = new CRC32();
        c.update(payload);
        if (c.getValue() != crc) throw new CorruptObjectException(CorruptObjectException.Reason.CORRUPT, "test object checksum");
        if (residual) {
            if (base == null) throw new CorruptObjectException(CorruptObjectException.Reason.CORRUPT, "residual without base");
            byte[] bb = base.toByteArray();
            for (int i = 0; i < payload.length; i++) payload[i] ^= bb[i];
        }
        return new Reconstruction(Layout.opaque(payload.length, "test"), payload, Map.of());
    }
}
