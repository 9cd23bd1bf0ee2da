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

    /** The heap touch allocates what it is asked for, in pieces, and stops between pieces when asked. */
    @Test
    void touchesTheHeapItIsAskedForAndStopsWhenAsked() {
        assertEquals(40L << 20, DecoderWarmUp.touchHeap(40L << 20, () -> false));
        AtomicInteger asked = new AtomicInteger();
        assertEquals(32L << 20, DecoderWarmUp.touchHeap(1L << 30, () -> asked.incrementAndGet() > 1));
        assertEquals(0, DecoderWarmUp.touchHeap(0, () -> false));
    }

    @Test
    void heapToTouchIsOffByDefaultAndBoundedByTheHeap() {
        String before = System.getProperty("excpfs.warmHeap");
        try {
            System.clearProperty("excpfs.warmHeap");
            assertEquals(0, DecoderWarmUp.heapToTouch());
            System.setProperty("excpfs.warmHeap", "64m");
            assertEquals(Math.min(64L << 20, Runtime.getRuntime().maxMemory() / 4), DecoderWarmUp.heapToTouch());
            System.setProperty("excpfs.warmHeap", "1000g");
            assertEquals(Runtime.getRuntime().maxMemory() / 4, DecoderWarmUp.heapToTouch());
            System.setProperty("excpfs.warmHeap", "lots");
            assertEquals(0, DecoderWarmUp.heapToTouch());
        } finally {
            if (before == null) System.clearProperty("excpfs.warmHeap"); else System.setProperty("excpfs.warmHeap", before);
        }
    }
}
