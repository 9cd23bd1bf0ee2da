package io.excpfs.codec.pairing;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.DType;
import io.excpfs.codec.Format;
import io.excpfs.codec.Layout;
import io.excpfs.codec.Reconstruction;
import io.excpfs.codec.Role;
import io.excpfs.codec.SetMember;
import io.excpfs.codec.TensorRegion;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint file built by hand the way the formats parser models it: fp32 regions in the order added, 16 bytes
 * of skeleton before each, roles from key paths (COMMON.md), aliases and metadata as given. Payload values are zero
 * unless set.
 */
final class Ckpt {
    final String name;
    final Format format;
    private final List<String> keys = new ArrayList<>();
    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final Map<String, float[]> values = new LinkedHashMap<>();
    private final Map<String, String> aliases = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    Ckpt(String name, Format format) {
        this.name = name;
        this.format = format;
    }

    Ckpt tensor(String key, long... shape) {
        if (shapes.containsKey(key)) throw new IllegalArgumentException("duplicate " + key);
        keys.add(key);
        shapes.put(key, shape.clone());
        return this;
    }

    Ckpt values(String key, float[] v) {
        if (v.length != elements(shapes.get(key))) throw new IllegalArgumentException("wrong count for " + key);
        values.put(key, v);
        return this;
    }

    Ckpt alias(String alias, String target) {
        aliases.put(alias, target);
        return this;
    }

    Ckpt meta(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    boolean has(String key) { return shapes.containsKey(key); }

    long[] shape(String key) { return shapes.get(key); }

    List<String> keys() { return keys; }

    static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    static Role role(String key, long elements) {
        String[] seg = key.split("/");
        String last = seg[seg.length - 1];
        if (last.equals("exp_avg")) return Role.EXP_AVG;
        if (last.equals("exp_avg_sq")) return Role.EXP_AVG_SQ;
        for (int i = 0; i + 2 < seg.length; i++) if (seg[i].equals("state")) return Role.OTHER_FLOAT;
        return elements >= 2 ? Role.PARAM : Role.OTHER_FLOAT;
    }

    Layout layout() {
        List<TensorRegion> regions = new ArrayList<>();
        long pos = 0;
        for (String k : keys) {
            long n = elements(shapes.get(k));
            pos += 16;
            regions.add(new TensorRegion(k, DType.F32, shapes.get(k), pos, n * 4, role(k, n)));
            pos += n * 4;
        }
        return new Layout(format, pos + 16, regions, List.of(), "hand-built", aliases, metadata);
    }

    byte[] bytes() {
        Layout l = layout();
        ByteBuffer b = ByteBuffer.allocate((int) l.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (TensorRegion r : l.regions()) {
            float[] v = values.get(r.key());
            b.position((int) r.offset());
            if (v != null) for (float f : v) b.putFloat(f);
        }
        return b.array();
    }

    SetMember member(Reconstruction base) { return new SetMember(name, ByteSource.of(bytes()), layout(), base); }

    Reconstruction reconstruction() {
        try {
            return Reconstruction.exact(layout(), ByteSource.of(bytes()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
