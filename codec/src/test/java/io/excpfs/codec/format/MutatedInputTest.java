package io.excpfs.codec.format;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.Formats;
import io.excpfs.codec.Layout;
import io.excpfs.codec.Reconstruction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Seeded mutations of every real fixture (bit flips, overwritten bytes, truncations, inserted bytes, header-area
 * hits) never make the parser throw, and whatever layout comes back reconstructs the mutated file exactly.
 */
class MutatedInputTest {
    static final int MUTANTS_PER_FIXTURE = 300;

    static Stream<String> fixtures() { return FixtureLayoutTest.fixtures(); }

    @ParameterizedTest
    @MethodSource("fixtures")
    void mutantsParseWithoutExceptionAndRoundTrip(String name) throws IOException {
        byte[] original = Fixtures.format(name);
        SplittableRandom rnd = new SplittableRandom(name.hashCode());
        int recognised = 0;
        for (int m = 0; m < MUTANTS_PER_FIXTURE; m++) {
            byte[] mutant = mutate(original, rnd);
            Layout layout = Formats.parse(ByteSource.of(mutant));
            assertEquals(mutant.length, layout.size());
            if (!layout.isOpaque()) recognised++;
            byte[] back = Reconstruction.exact(layout, ByteSource.of(mutant)).toByteArray();
            assertArrayEquals(mutant, back, () -> name + " mutant does not round-trip: " + layout.note());
        }
        System.out.println(name + ": " + recognised + "/" + MUTANTS_PER_FIXTURE + " mutants still recognised");
    }

    static byte[] mutate(byte[] in, SplittableRandom rnd) {
        byte[] b = in.clone();
        int kind = rnd.nextInt(5);
        int near = rnd.nextBoolean() ? Math.min(b.length, 512) : b.length;
        switch (kind) {
            case 0 -> { for (int i = rnd.nextInt(1, 4); i > 0; i--) { int p = rnd.nextInt(near); b[p] ^= (byte) (1 << rnd.nextInt(8)); } }
            case 1 -> { int p = rnd.nextInt(near); b[p] = (byte) rnd.nextInt(256); }
            case 2 -> b = Arrays.copyOf(b, rnd.nextInt(b.length));
            case 3 -> {
                int p = rnd.nextInt(b.length);
                byte[] c = new byte[b.length + 1];
                System.arraycopy(b, 0, c, 0, p);
                c[p] = (byte) rnd.nextInt(256);
                System.arraycopy(b, p, c, p + 1, b.length - p);
                b = c;
            }
            default -> { int p = rnd.nextInt(Math.max(1, b.length - 8)); for (int i = 0; i < 8 && p + i < b.length; i++) b[p + i] = (byte) 0xff; }
        }
        return b;
    }
}
