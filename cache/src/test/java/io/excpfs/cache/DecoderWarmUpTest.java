package io.excpfs.cache;

import io.excpfs.codec.Kind;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DecoderWarmUpTest {
    /** The warm-up runs the real codec end to end, seed then residuals, and checks each decode against its encoder. */
    @Test
    void encodesASeedAndResidualsAndDecodesThem() throws Exception {
        assertEquals(List.of(Kind.SEED, Kind.RESIDUAL, Kind.RESIDUAL), DecoderWarmUp.run(3));
    }
}
