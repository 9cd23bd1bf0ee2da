package io.excpfs.codec.pairing;

import io.excpfs.codec.Certainty;
import io.excpfs.codec.MomentPair;
import io.excpfs.codec.Pairer;
import io.excpfs.codec.Pairing;
import io.excpfs.codec.pairing.Run.Family;
import io.excpfs.codec.pairing.Run.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.LongStream;

import static io.excpfs.codec.pairing.PairerTest.assertNoWrongPair;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Randomised adversaries: whatever the layout, a returned pair is never a wrong one. */
class PairerRandomTest {
    static LongStream seeds() { return LongStream.range(0, 60); }

    /**
     * Trainer-built optimizers (plain, nanoGPT, HF groups) over models with float buffers shaped like parameters,
     * frozen parameters and parameters without state, in every family, without a base: structure alone (and, for the
 * sorted safetensors file, the layer-order convention, which these trainers all follow).
     */
    @ParameterizedTest
    @MethodSource("seeds")
    void structureAloneNeverPairsWrongly(long seed) {
        Random r = new Random(seed);
        int d = r.nextBoolean() ? 8 : 16;
        Run run = Run.gpt(seed, 1 + r.nextInt(3), d, r.nextBoolean(), t -> {
            int roll = r.nextInt(20);
            return roll == 0 ? t.asFrozen() : roll == 1 ? t.asStateless() : t;
        });
        List<Tensor> params = run.namedParameters();
        for (int k = r.nextInt(3); k > 0; k--) {
            Tensor like = params.get(r.nextInt(params.size()));
            run.insertAfter(like.name(), new Tensor(like.name() + "_buffer" + k, like.shape()).asBuffer());
        }
        switch (r.nextInt(3)) {
            case 0 -> run.plainGroup();
            case 1 -> run.nanoGptGroups();
            default -> run.hfGroups();
        }
        run.train();
        Family family = Family.values()[r.nextInt(Family.values().length)];
        Pairing p = Pairer.pair(family.members(run, false, r.nextBoolean()));
        assertNoWrongPair(p, family.expected(run));
        if (p.usable()) {
            Certainty allowed = family == Family.HF_SAFETENSORS ? Certainty.CONVENTION : Certainty.CERTAIN;
            assertTrue(p.certainty().compareTo(allowed) <= 0, p.certainty() + " for " + family + "\n" + String.join("\n", p.notes()));
        }
    }

    /**
     * Any order at all (a custom optimizer over a shuffled list of matrices), with a base: content must catch a
     * structural hypothesis that fits by shape but not by content. Vectors are out of scope: content does not score
     * them (see {@link ContentEvidence}), so a vector swap that still fits an order is not detectable.
     */
    @ParameterizedTest
    @MethodSource("seeds")
    void contentNeverPairsWronglyUnderArbitraryOrders(long seed) {
        Random r = new Random(seed);
        long[][] shapes = {{32, 32}, {64, 16}, {8, 128}, {16, 64}};
        Run run = new Run(seed);
        int n = 4 + r.nextInt(10);
        for (int i = 0; i < n; i++) run.add(new Tensor("layers." + i + ".w", shapes[r.nextInt(shapes.length)]));
        List<String> order = new ArrayList<>();
        run.namedParameters().forEach(t -> order.add(t.name()));
        if (r.nextBoolean()) Collections.shuffle(order, r);
        else if (order.size() > 3) Collections.swap(order, r.nextInt(order.size()), r.nextInt(order.size()));
        run.explicitGroups(List.of(order), List.of(0.0)).train();
        Family family = r.nextBoolean() ? Family.LIGHTNING : Family.HF_BIN;
        Pairing p = Pairer.pair(family.members(run, true, true));
        Set<MomentPair> expected = family.expected(run);
        assertNoWrongPair(p, expected);
        assertTrue(p.pairs().size() * 4 >= expected.size() * 3, p.pairs().size() + " of " + expected.size() + " paired\n" + String.join("\n", p.notes()));
    }
}
