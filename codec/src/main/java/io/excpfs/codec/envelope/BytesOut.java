package io.excpfs.codec.envelope;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A growable little-endian byte buffer with LEB128 varints, used to write every stored object. */
public final class BytesOut {
    private byte[] buf;
    private int len;

    public BytesOut(int initialCapacity) { buf = new byte[Math.max(16, initialCapacity)]; }

    public int size() { return len; }

    private void ensure(int extra) {
        if (len + extra > buf.length) {
            long want = Math.max((long) buf.length * 2, (long) len + extra);
            if (want > Integer.MAX_VALUE - 16) throw new IllegalStateException("stored object larger than 2 GiB");
            buf = Arrays.copyOf(buf, (int) want);
        }
    }

    public BytesOut u8(int v) {
        ensure(1);
        buf[len++] = (byte) v;
        return this;
    }

    public BytesOut u32(int v) {
        ensure(4);
        for (int i = 0; i < 4; i++) buf[len++] = (byte) (v >>> (8 * i));
        return this;
    }

    public BytesOut u64(long v) {
        ensure(8);
        for (int i = 0; i < 8; i++) buf[len++] = (byte) (v >>> (8 * i));
        return this;
    }

    public BytesOut f32(float v) { return u32(Float.floatToRawIntBits(v)); }

    /** Unsigned LEB128. */
    public BytesOut varint(long v) {
        ensure(10);
        while ((v & ~0x7FL) != 0) {
            buf[len++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[len++] = (byte) v;
        return this;
    }

    public BytesOut bytes(byte[] b) { return bytes(b, 0, b.length); }

    public BytesOut bytes(byte[] b, int off, int n) {
        ensure(n);
        System.arraycopy(b, off, buf, len, n);
        len += n;
        return this;
    }

    /** Varint length then the bytes. */
    public BytesOut block(byte[] b) { return varint(b.length).bytes(b); }

    public BytesOut string(String s) { return block(s.getBytes(StandardCharsets.UTF_8)); }

    /** The internal array (valid up to {@link #size()}); do not keep it across further writes. */
    byte[] array() { return buf; }

    public byte[] toByteArray() { return Arrays.copyOf(buf, len); }
}
