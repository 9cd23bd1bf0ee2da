package io.excpfs.codec.envelope;

import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.CorruptObjectException.Reason;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;

/**
 * A bounds-checked little-endian reader over part of a stored object. Every failure is a
 * {@link CorruptObjectException} naming the object offset, never an unchecked exception.
 */
public final class BytesIn {
    private final byte[] buf;
    private final int end;
    private int pos;

    public BytesIn(byte[] buf, int from, int end) {
        this.buf = buf;
        this.pos = from;
        this.end = end;
    }

    public int position() { return pos; }

    public int remaining() { return end - pos; }

    public byte[] array() { return buf; }

    private void need(int n, String what) throws CorruptObjectException {
        if (n < 0 || n > end - pos) {
            throw new CorruptObjectException(Reason.TRUNCATED, what + " runs past the end of its section at offset " + pos);
        }
    }

    public int u8(String what) throws CorruptObjectException {
        need(1, what);
        return buf[pos++] & 0xFF;
    }

    public int u32(String what) throws CorruptObjectException {
        need(4, what);
        int v = 0;
        for (int i = 0; i < 4; i++) v |= (buf[pos++] & 0xFF) << (8 * i);
        return v;
    }

    public long u64(String what) throws CorruptObjectException {
        need(8, what);
        long v = 0;
        for (int i = 0; i < 8; i++) v |= (buf[pos++] & 0xFFL) << (8 * i);
        return v;
    }

    public float f32(String what) throws CorruptObjectException { return Float.intBitsToFloat(u32(what)); }

    public long varint(String what) throws CorruptObjectException {
        long v = 0;
        int at = pos;
        for (int shift = 0; shift < 64; shift += 7) {
            int b = u8(what);
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) return v;
        }
        throw corrupt(what + " is a malformed varint", at);
    }

    /** A varint that must lie in {@code [0, max]}. */
    public int count(String what, long max) throws CorruptObjectException {
        int at = pos;
        long v = varint(what);
        if (v < 0 || v > max) throw corrupt(what + " = " + v + " is out of range [0, " + max + "]", at);
        return (int) v;
    }

    public byte[] bytes(int n, String what) throws CorruptObjectException {
        need(n, what);
        byte[] b = new byte[n];
        System.arraycopy(buf, pos, b, 0, n);
        pos += n;
        return b;
    }

    /** Skips {@code n} bytes and returns the offset where they start. */
    public int skip(int n, String what) throws CorruptObjectException {
        need(n, what);
        int at = pos;
        pos += n;
        return at;
    }

    public byte[] block(String what) throws CorruptObjectException { return bytes(count(what + " length", remaining()), what); }

    public String string(String what) throws CorruptObjectException {
        int at = pos;
        byte[] b = block(what);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw corrupt(what + " is not valid UTF-8", at);
        }
    }

    public CorruptObjectException corrupt(String message, int at) {
        return new CorruptObjectException(Reason.CORRUPT, message + " (offset " + at + ")");
    }

    public CorruptObjectException corrupt(String message) { return corrupt(message, pos); }
}
