package io.excpfs.codec.pairing;

import io.excpfs.codec.Certainty;
import io.excpfs.codec.MomentPair;
import io.excpfs.codec.Pairer;
import io.excpfs.codec.Pairing;
import io.excpfs.codec.pairing.Run.Family;
import io.excpfs.codec.pairing.Run.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

import static io.excpfs.codec.pairing.PairerTest.assertNoWrongPair;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The layer-order convention on Hugging Face style checkpoints: {@code model.safetensors} sorted by name (so
 * {@code h.10} comes before {@code h.2}), {@code optimizer.pt} indexed in module order with the Trainer's decay /
 * no-decay groups, and the cases where it must not fire.
 */
class LayerOrderTest {
    private static final List<String> SINGLE_PATTERN = List.of("attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
            "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight");

    private static Set<String> keys(Pairing p) {
        Set<String> out = new HashSet<>();
        p.pairs().forEach(x -> out.add(x.param().key()));
        return out;
    }

    private static String notes(Pairing p) { return String.join("\n", p.notes()); }

    private static Set<String> singlePatternTensors(int layers, Predicate<String> keep) {
        Set<String> want = new HashSet<>(Set.of("transformer.wte.weight", "transformer.wpe.weight"));
        for (int l = 0; l < layers; l++) {
            for (String t : SINGLE_PATTERN) if (keep.test("transformer.h." + l + "." + t)) want.add("transformer.h." + l + "." + t);
        }
        return want;
    }

    @Test
    void patternAbstractsWholeDecimalSegmentsOnly() {
        assertEquals("transformer.h.*.mlp.c_fc.weight", LayerOrder.pattern("transformer.h.11.mlp.c_fc.weight"));
        assertEquals("blocks.*.experts.*.w1", LayerOrder.pattern("blocks.3.experts.0.w1"));
        assertEquals("conv1.weight", LayerOrder.pattern("conv1.weight"));
        assertEquals("h.01.w", LayerOrder.pattern("h.01.w"), "a zero-padded segment is not a ModuleList index");
    }

    @Test
    void numericOrderSortsLayersAsNumbers() {
        List<String> names = new ArrayList<>(List.of("h.10.w", "h.2.w", "h.1.w", "h.0.w", "h.11.w", "h.3.w"));
        names.sort(LayerOrder::numericOrder);
        assertEquals(List.of("h.0.w", "h.1.w", "h.2.w", "h.3.w", "h.10.w", "h.11.w"), names);
        List<String> nested = new ArrayList<>(List.of("b.1.e.10.w", "b.1.e.2.w", "b.0.e.3.w"));
        nested.sort(Comparator.comparing(s -> s, LayerOrder::numericOrder));
        assertEquals(List.of("b.0.e.3.w", "b.1.e.2.w", "b.1.e.10.w"), nested);
    }

    /** Twelve layers: name order puts h.10 and h.11 before h.2, index order does not; every matrix pairs right. */
    @Test
    void twelveLayersWithHfGroupsPairEverySinglePatternClassInNumericOrder() {
        Run run = Run.gpt(40, 12, 16, true, t -> t).hfGroups().train();
        assertEquals(2, run.groups.size());
        Set<MomentPair> expected = Family.HF_SAFETENSORS.expected(run);

        Pairing noBase = Pairer.pair(Family.HF_SAFETENSORS.members(run, false, true));
        assertNoWrongPair(noBase, expected);
        assertEquals(singlePatternTensors(12, n -> true), keys(noBase), notes(noBase));
        assertEquals(Certainty.CONVENTION, noBase.certainty());
        assertTrue(notes(noBase).contains("transformer.h.*.attn.c_attn.bias [48] x12 (group 1"), notes(noBase));
        assertTrue(notes(noBase).contains("transformer.h.*.mlp.c_fc.weight [64, 16] x12 (group 0"), notes(noBase));

        Pairing withBase = Pairer.pair(Family.HF_SAFETENSORS.members(run, true, true));
        assertNoWrongPair(withBase, expected);
        assertTrue(keys(withBase).containsAll(keys(noBase)), notes(withBase));
        assertTrue(notes(withBase).contains("content confirms 12 of 12"), notes(withBase));
    }

    /**
     * A sharded save ({@code model-00001-of-00002.safetensors} with layers 0-5, the second shard with 6-11 and the
     * rest, each sorted by name): the shards pool together and layer order runs over the union.
     */
    @Test
    void shardedSafetensorsPairAcrossShards() {
        Run run = Run.gpt(47, 12, 16, true, t -> t).hfGroups().train();
        Predicate<String> first = n -> n.matches("transformer\\.h\\.[0-5]\\..*");
        Ckpt a = new Ckpt("model-00001-of-00002.safetensors", io.excpfs.codec.Format.SAFETENSORS);
        Ckpt b = new Ckpt("model-00002-of-00002.safetensors", io.excpfs.codec.Format.SAFETENSORS);
        run.writeModel(a, "", true, true, first);
        run.writeModel(b, "", true, true, first.negate());
        Ckpt opt = new Ckpt("optimizer.pt", io.excpfs.codec.Format.TORCH_ZIP);
        run.writeOptimizer(opt, "", true);
        Pairing p = Pairer.pair(List.of(a.member(null), b.member(null), opt.member(null)));
        Set<MomentPair> expected = new HashSet<>();
        for (MomentPair x : run.expected("*", "", "optimizer.pt", "")) {
            String file = first.test(x.param().key()) ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
            expected.add(new MomentPair(new io.excpfs.codec.TensorRef(file, x.param().key()), x.expAvg(), x.expAvgSq()));
        }
        assertNoWrongPair(p, expected);
        assertEquals(singlePatternTensors(12, n -> true), keys(p), notes(p));
        assertEquals(Certainty.CONVENTION, p.certainty());
    }

    /** The same run written as a torch file keeps state dict order: structure pairs it all, no convention. */
    @Test
    void torchFileInStateDictOrderNeverNeedsTheConvention() {
        Run run = Run.gpt(41, 12, 16, true, t -> t).hfGroups().train();
        Pairing p = Pairer.pair(Family.HF_BIN.members(run, false, true));
        PairerTest.assertComplete(p, Family.HF_BIN.expected(run), Certainty.CERTAIN);
        assertFalse(p.method().contains("layer order"), p.method());
    }

    /** q, k, v, o of one shape in every layer: the period is known, the phase is not; unpaired without a base. */
    @Test
    void twoPatternsOfOneShapeStayUnpaired() {
        Run run = new Run(42);
        for (int l = 0; l < 10; l++) {
            for (String t : List.of("q", "k", "v", "o")) run.add(new Tensor("layers." + l + ".attn." + t + ".weight", 16, 16));
            run.add(new Tensor("layers." + l + ".mlp.up.weight", 64, 16));
        }
        run.hfGroups().train();
        Set<MomentPair> expected = Family.HF_SAFETENSORS.expected(run);
        Pairing noBase = Pairer.pair(Family.HF_SAFETENSORS.members(run, false, true));
        assertNoWrongPair(noBase, expected);
        assertTrue(keys(noBase).stream().allMatch(k -> k.contains("mlp.up")), keys(noBase).toString());
        assertEquals(10, noBase.pairs().size(), notes(noBase));
        assertTrue(notes(noBase).contains("[16, 16] (4 name patterns"), notes(noBase));

        Pairing withBase = Pairer.pair(Family.HF_SAFETENSORS.members(run, true, true));
        assertNoWrongPair(withBase, expected);
        assertEquals(50, withBase.pairs().size(), "content pairs the projections\n" + notes(withBase));
    }

    /** A frozen c_fc in one layer: 12 tensors, 11 moment sets; that class is left alone, the others pair. */
    @Test
    void countsThatDifferStopTheClass() {
        Run run = Run.gpt(43, 12, 16, true, t -> t.name().equals("transformer.h.7.mlp.c_fc.weight") ? t.asFrozen() : t).hfGroups().train();
        Pairing p = Pairer.pair(Family.HF_SAFETENSORS.members(run, false, true));
        assertNoWrongPair(p, Family.HF_SAFETENSORS.expected(run));
        assertEquals(singlePatternTensors(12, n -> !n.endsWith("mlp.c_fc.weight")), keys(p), notes(p));
        assertTrue(notes(p).contains("[64, 16] (11 moment sets, 12 tensors)"), notes(p));
    }

    /** A parameter the optimizer indexes but holds no state for (never stepped) breaks the count the same way. */
    @Test
    void anIndexWithoutStateStopsItsClass() {
        Run run = Run.gpt(44, 10, 16, true, t -> t.name().equals("transformer.h.4.attn.c_proj.weight") ? t.asStateless() : t).hfGroups().train();
        Pairing p = Pairer.pair(Family.HF_SAFETENSORS.members(run, false, true));
        assertNoWrongPair(p, Family.HF_SAFETENSORS.expected(run));
        assertTrue(keys(p).stream().noneMatch(k -> k.endsWith("attn.c_proj.weight")), notes(p));
        assertTrue(keys(p).containsAll(singlePatternTensors(10, n -> !n.endsWith("attn.c_proj.weight"))), notes(p));
    }

    /**
     * An optimizer built over the layers in reverse (not what named_parameters gives): without a base the convention
     * pairs it wrongly and says so by its certainty; with a base content contradicts a matrix class and the
     * convention is dropped for the whole optimizer, vector classes included, so no pair is wrong.
     */
    @Test
    void layersEnumeratedOutOfOrderAreCaughtByContent() {
        int layers = 10;
        Run run = Run.gpt(45, layers, 16, true, t -> t);
        List<String> decay = new ArrayList<>(), noDecay = new ArrayList<>();
        for (String global : List.of("transformer.wte.weight", "transformer.wpe.weight")) decay.add(global);
        for (int l = layers - 1; l >= 0; l--) {
            for (Tensor t : run.namedParameters()) {
                if (!t.name().startsWith("transformer.h." + l + ".")) continue;
                (ParamOrder.hfDecay(new ParamPool.Candidate("", t.name(), null, 0, false)) ? decay : noDecay).add(t.name());
            }
        }
        noDecay.add("transformer.ln_f.weight");
        noDecay.add("transformer.ln_f.bias");
        run.explicitGroups(List.of(decay, noDecay), List.of(0.01, 0.0)).train();
        Set<MomentPair> expected = Family.HF_SAFETENSORS.expected(run);

        Pairing noBase = Pairer.pair(Family.HF_SAFETENSORS.members(run, false, true));
        assertEquals(Certainty.CONVENTION, noBase.certainty(), "a convention, not a certainty\n" + notes(noBase));
        assertFalse(expected.containsAll(noBase.pairs()), "reversed layers are exactly what the convention cannot see without content");

        Pairing withBase = Pairer.pair(Family.HF_SAFETENSORS.members(run, true, true));
        assertNoWrongPair(withBase, expected);
        assertTrue(notes(withBase).contains("content contradicts layer order"), notes(withBase));
        assertTrue(keys(withBase).stream().noneMatch(k -> k.endsWith("bias")), "vectors are not left to the refuted convention");
        assertEquals(2 + 4 * layers, withBase.pairs().size(), "matrices by content\n" + notes(withBase));
        assertEquals(Certainty.LIKELY, withBase.certainty());
    }

    /** One param group per layer (layer-wise learning-rate decay): a class spans groups, the convention stays out. */
    @Test
    void perLayerGroupsStopTheConvention() {
        int layers = 10;
        Run run = Run.gpt(46, layers, 16, true, t -> t);
        List<List<String>> groups = new ArrayList<>();
        List<Double> decays = new ArrayList<>();
        List<String> rest = new ArrayList<>();
        for (Tensor t : run.namedParameters()) if (!t.name().startsWith("transformer.h.")) rest.add(t.name());
        for (int l = layers - 1; l >= 0; l--) {
            List<String> g = new ArrayList<>();
            for (Tensor t : run.namedParameters()) if (t.name().startsWith("transformer.h." + l + ".")) g.add(t.name());
            groups.add(g);
            decays.add(0.01);
        }
        groups.add(rest);
        decays.add(0.0);
        run.explicitGroups(groups, decays).train();
        Pairing p = Pairer.pair(Family.HF_SAFETENSORS.members(run, false, true));
        assertNoWrongPair(p, Family.HF_SAFETENSORS.expected(run));
        assertEquals(Set.of("transformer.wte.weight", "transformer.wpe.weight"), keys(p), notes(p));
        assertTrue(notes(p).contains("several param groups"), notes(p));
    }
}
