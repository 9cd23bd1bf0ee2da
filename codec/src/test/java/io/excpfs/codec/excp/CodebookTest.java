package io.excpfs.codec.excp;

import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.BytesOut;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CodebookTest {
    private static Codebook roundTrip(Codebook c) throws CorruptObjectException {
        BytesOut out = new BytesOut(64);
        c.write(out);
        byte[] b = out.toByteArray();
        BytesIn in = new BytesIn(b, 0, b.length);
        Codebook got = Codebook.read(in);
        assertEquals(0, in.remaining());
        return got;
    }

    @Test
    void linearOverBaseKeepsItsCentresAndScale() throws Exception {
        float[] centres = {-3e-7f, -1e-7f, 2e-7f, 5e-7f};
        Codebook c = Codebook.linearOverBase(centres, 0.4375f);
        Codebook got = roundTrip(c);
        assertEquals(Codebook.LINEAR_OVER_BASE, got.kind());
        assertEquals(0.4375f, got.baseScale());
        assertArrayEquals(c.table(), got.table());
        assertEquals(0f, got.table()[0]);
        assertArrayEquals(Codebook.linear(centres).table(), got.table(), "the same centres as a LINEAR codebook");
    }

    @Test
    void badBaseScaleOrKindIsCorrupt() {
        BytesOut out = new BytesOut(64);
        Codebook.linearOverBase(new float[] {1f}, Float.NaN).write(out);
        byte[] b = out.toByteArray();
        CorruptObjectException e = assertThrows(CorruptObjectException.class, () -> Codebook.read(new BytesIn(b, 0, b.length)));
        assertTrue(e.getMessage().contains("base scale"), e.getMessage());
        byte[] unknown = {3, 1, 0, 0, 0, 0};
        e = assertThrows(CorruptObjectException.class, () -> Codebook.read(new BytesIn(unknown, 0, unknown.length)));
        assertTrue(e.getMessage().contains("unknown codebook kind 3"), e.getMessage());
    }
}
