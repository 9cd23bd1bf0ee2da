package io.excpfs.codec.excp;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class FloatWordsTest {
    @Test
    void everyHalfRoundTripsThroughFloat() {
        for (int h = 0; h < 65536; h++) {
            float f = FloatWords.halfToFloat(h);
            if (Float.isNaN(f)) assertEquals(h | 0x200, FloatWords.floatToHalf(f) | 0x200, "NaN " + h);
            else assertEquals(h, FloatWords.floatToHalf(f), "half " + Integer.toHexString(h));
        }
    }

    @Test
    void halfRoundsToNearestEven() {
        assertEquals(0x3C00, FloatWords.floatToHalf(1f + 0x1p-11f));
        assertEquals(0x3C02, FloatWords.floatToHalf(1f + 3 * 0x1p-11f));
        assertEquals(0x7BFF, FloatWords.floatToHalf(65519f));
        assertEquals(0x7C00, FloatWords.floatToHalf(65520f));
        assertEquals(0x0000, FloatWords.floatToHalf(0x1p-25f));
        assertEquals(0x0002, FloatWords.floatToHalf(3 * 0x1p-25f));
        assertEquals(0x8000, FloatWords.floatToHalf(-0f));
        assertEquals(0x0400, FloatWords.floatToHalf(0x1p-14f));
    }

    @Test
    void bf16RoundsToNearestEvenAndKeepsNaN() {
        assertEquals(0x3F80, FloatWords.floatToBf16(1f + 0x1p-8f));
        assertEquals(0x3F82, FloatWords.floatToBf16(1f + 3 * 0x1p-8f));
        assertEquals(0x7F80, FloatWords.floatToBf16(Float.POSITIVE_INFINITY));
        assertEquals(true, Float.isNaN(FloatWords.bf16ToFloat(FloatWords.floatToBf16(Float.intBitsToFloat(0x7F800001)))));
        for (int b = 0; b < 65536; b++) {
            float f = FloatWords.bf16ToFloat(b);
            if (!Float.isNaN(f)) assertEquals(b, FloatWords.floatToBf16(f));
        }
    }
}
