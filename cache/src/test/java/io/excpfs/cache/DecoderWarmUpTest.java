package io.excpfs.cache;

import io.excpfs.codec.Kind;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DecoderWarmUpTest {
    /**
     * The warm-up runs the real codec end to end, seed then residuals, each decoded as a COLD read streams it and
     * checked byte for byte against its encoder.
     */
    @Test
    void encodesASeedAndResidualsAndDecodesThem() throws Exception {
        assertEquals(List.of(Kind.SEED, Kind.RESIDUAL, Kind.RESIDUAL), DecoderWarmUp.run(3, 2, () -> false));
    }

    /** A read that starts meanwhile ends the warm-up at its next step. */
    @Test
    void stopsWhenAskedBetweenSteps() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        List<Kind> kinds = DecoderWarmUp.run(3, 2, () -> asked.incrementAndGet() > 2);
        assertEquals(List.of(Kind.SEED), kinds);
    }
}
