package io.excpfs.codec.pairing;

import io.excpfs.codec.Certainty;
import io.excpfs.codec.Format;
import io.excpfs.codec.MomentPair;
import io.excpfs.codec.Pairer;
import io.excpfs.codec.Pairing;
import io.excpfs.codec.SetMember;
import io.excpfs.codec.pairing.Run.Family;
import io.excpfs.codec.pairing.Run.Tensor;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PairerTest {
    private static final Function<Tensor, Tensor> AS_IS = t -> t;

    /** Every pair returned is a right one. */
    static void assertNoWrongPair(Pairing p, Set<MomentPair> expected) {
        for (MomentPair pair : p.pairs()) assertTrue(expected.contains(pair), "wrong pair " + pair + "\n" + String.join("\n", p.notes()));
        assertEquals(p.pairs().size(), new HashSet<>(p.pairs()).size(), "duplicate pairs");
    }

    static void assertComplete(Pairing p, Set<MomentPair> expected, Certainty certainty) {
        assertNoWrongPair(p, expected);
        assertEquals(expected, new HashSet<>(p.pairs()), String.join("\n", p.notes()));
        assertEquals(certainty, p.certainty(), String.join("\n", p.notes()));
    }

    record Case(Run run, Family family, boolean base, boolean groups, Certainty certainty, String method) {}

    static Stream<Arguments> completeCases() {
        return Stream.of(
                c("nanoGPT, dim split, exact", Run.gpt(1, 2, 16, false, AS_IS).nanoGptGroups().train(), Family.NANOGPT, false, true, Certainty.CERTAIN, "dim >= 2"),
                c("nanoGPT with biases", Run.gpt(2, 3, 16, true, AS_IS).nanoGptGroups().train(), Family.NANOGPT, false, true, Certainty.CERTAIN, "exact"),
                c("nanoGPT with base: content confirms", Run.gpt(3, 2, 32, true, AS_IS).nanoGptGroups().train(), Family.NANOGPT, true, true, Certainty.CERTAIN, "dim >= 2"),
                c("nanoGPT, no param_groups metadata", Run.gpt(4, 2, 16, true, AS_IS).nanoGptGroups().train(), Family.NANOGPT, false, false, Certainty.CERTAIN, "dim >= 2"),
                c("nanoGPT, float causal-mask buffers", Run.gpt(5, 2, 16, true, AS_IS)
                        .insertAfter("transformer.h.0.attn.c_proj.bias", new Tensor("transformer.h.0.attn.bias", 1, 1, 24, 24).asBuffer())
                        .insertAfter("transformer.h.1.attn.c_proj.bias", new Tensor("transformer.h.1.attn.bias", 1, 1, 24, 24).asBuffer())
                        .nanoGptGroups().train(), Family.NANOGPT, false, true, Certainty.CERTAIN, "skipping"),
                c("nanoGPT, frozen position embedding", Run.gpt(6, 2, 16, true, t -> t.name().contains("wpe") ? t.asFrozen() : t).nanoGptGroups().train(), Family.NANOGPT, false, true, Certainty.CERTAIN, "skipping"),
                c("Lightning, one group", Run.gpt(7, 2, 16, true, AS_IS).plainGroup().train(), Family.LIGHTNING, false, true, Certainty.CERTAIN, "named_parameters order"),
                c("Lightning, nanoGPT groups", Run.gpt(8, 2, 16, true, AS_IS).nanoGptGroups().train(), Family.LIGHTNING, false, true, Certainty.CERTAIN, "dim >= 2"),
                c("HF pytorch_model.bin, name split", Run.gpt(9, 2, 16, true, AS_IS).hfGroups().train(), Family.HF_BIN, false, true, Certainty.CERTAIN, "agreeing"),
                c("HF pytorch_model.bin with base", Run.gpt(10, 2, 32, true, AS_IS).hfGroups().train(), Family.HF_BIN, true, true, Certainty.CERTAIN, "agreeing"),
                c("HF name split differing from dim split", hfOnly(), Family.HF_BIN, false, true, Certainty.CERTAIN, "no bias, no norm"),
                c("DeepSpeed-like module/ + optimizer_state_dict/", Run.gpt(11, 2, 16, true, AS_IS).plainGroup().train(), Family.DEEPSPEED, false, true, Certainty.CERTAIN, "named_parameters"),
                c("HF safetensors (sorted) with base", Run.gpt(12, 2, 32, false, AS_IS).hfGroups().train(), Family.HF_SAFETENSORS, true, true, null, "content"));
    }

    /** A learned 1-D scale (decay for HF, no-decay for nanoGPT) makes the two splits differ. */
    private static Run hfOnly() {
        return Run.gpt(13, 2, 16, true, AS_IS)
                .insertAfter("transformer.h.0.attn.c_proj.bias", new Tensor("transformer.h.0.attn.scale", 16))
                .hfGroups().train();
    }

    private static Arguments c(String name, Run run, Family family, boolean base, boolean groups, Certainty certainty, String method) {
        return Arguments.of(Named.of(name, new Case(run, family, base, groups, certainty, method)));
    }

    @ParameterizedTest
    @MethodSource("completeCases")
    void pairsEveryLayout(Case c) {
        Pairing p = Pairer.pair(c.family.members(c.run, c.base, c.groups));
        Set<MomentPair> expected = c.family.expected(c.run);
        if (c.certainty == null) {
            assertNoWrongPair(p, expected);
            assertEquals(Certainty.LIKELY, p.certainty());
        } else {
            assertComplete(p, expected, c.certainty);
        }
        assertTrue(p.method().contains(c.method), p.method());
    }

    @Test
    void tiedHeadIsAnAliasNotAParameter() {
        Run run = Run.gpt(20, 1, 16, false, AS_IS).nanoGptGroups().train();
        List<SetMember> set = Family.NANOGPT.members(run, false, true);
        assertEquals("model/transformer.wte.weight", set.get(0).layout().aliases().get("model/lm_head.weight"));
        Pairing p = Pairer.pair(set);
        assertComplete(p, Family.NANOGPT.expected(run), Certainty.CERTAIN);
        assertTrue(p.pairs().stream().noneMatch(x -> x.param().key().contains("lm_head")));
    }

    @Test
    void floatBuffersOfAParameterShapeAreSkippedOnlyWhenUnambiguous() {
        Run run = new Run(21)
                .add(new Tensor("bn.weight", 8, 8))
                .add(new Tensor("bn.running_mean", 8).asBuffer())
                .add(new Tensor("bn.bias", 8))
                .plainGroup().train();
        Pairing noBase = Pairer.pair(Family.LIGHTNING.members(run, false, true));
        assertNoWrongPair(noBase, Family.LIGHTNING.expected(run));
        assertEquals(1, noBase.pairs().size(), "only the [8, 8] weight is certain: the [8] moment fits the buffer and the bias");
        assertTrue(String.join("\n", noBase.notes()).contains("unpaired"), String.join("\n", noBase.notes()));

        Run big = new Run(22)
                .add(new Tensor("bn.weight", 64, 64))
                .add(new Tensor("bn.running_mean", 512).asBuffer())
                .add(new Tensor("bn.bias", 512))
                .add(new Tensor("fc.weight", 64, 64))
                .add(new Tensor("fc.stat", 64, 64).asBuffer())
                .plainGroup().train();
        Pairing withBase = Pairer.pair(Family.LIGHTNING.members(big, true, true));
        assertNoWrongPair(withBase, Family.LIGHTNING.expected(big));
        Set<String> paired = new HashSet<>();
        withBase.pairs().forEach(x -> paired.add(x.param().key()));
        assertEquals(Set.of("state_dict/bn.weight", "state_dict/fc.weight"), paired,
                "matrices are told from a same-shape buffer by content; vectors are not scored\n" + String.join("\n", withBase.notes()));
        assertEquals(Certainty.LIKELY, withBase.certainty());
    }

    @Test
    void parametersWithoutStateStillAnchorTheOrder() {
        Run run = Run.gpt(23, 2, 16, true, t -> t.name().contains("h.1.attn.c_proj") ? t.asStateless() : t).nanoGptGroups().train();
        Pairing p = Pairer.pair(Family.NANOGPT.members(run, false, true));
        assertComplete(p, Family.NANOGPT.expected(run), Certainty.CERTAIN);
        assertTrue(p.method().contains("exact"), p.method());
    }

    @Test
    void sameShapeSwapInTheOptimizerOrderIsCaughtByContent() {
        Run run = Run.gpt(24, 3, 32, true, AS_IS);
        List<String> decay = new ArrayList<>(), noDecay = new ArrayList<>();
        for (Tensor t : run.namedParameters()) (t.dim() >= 2 ? decay : noDecay).add(t.name());
        int a = decay.indexOf("transformer.h.0.attn.c_proj.weight"), b = decay.indexOf("transformer.h.2.attn.c_proj.weight");
        decay.set(a, "transformer.h.2.attn.c_proj.weight");
        decay.set(b, "transformer.h.0.attn.c_proj.weight");
        run.explicitGroups(List.of(decay, noDecay), List.of(0.1, 0.0)).train();

        Pairing p = Pairer.pair(Family.NANOGPT.members(run, true, true));
        assertNoWrongPair(p, Family.NANOGPT.expected(run));
        assertEquals(Certainty.LIKELY, p.certainty());
        assertTrue(String.join("\n", p.notes()).contains("contradicts the parameter order"), String.join("\n", p.notes()));
        for (MomentPair x : p.pairs()) assertTrue(x.param() != null);
        assertTrue(p.pairs().stream().anyMatch(x -> x.param().key().equals("model/transformer.h.2.attn.c_proj.weight")));
    }

    /** Without a base: unique shapes, then every shape class of one name pattern in layer order; vectors stay. */
    @Test
    void sortedSafetensorsWithoutBasePairsUniqueShapesAndLayerOrder() {
        Run run = Run.gpt(25, 3, 16, true, AS_IS).hfGroups().train();
        Pairing p = Pairer.pair(Family.HF_SAFETENSORS.members(run, false, true));
        assertNoWrongPair(p, Family.HF_SAFETENSORS.expected(run));
        Set<String> paired = new HashSet<>();
        p.pairs().forEach(x -> paired.add(x.param().key()));
        Set<String> want = new HashSet<>(Set.of("transformer.wte.weight", "transformer.wpe.weight"));
        for (int l = 0; l < 3; l++) {
            for (String t : List.of("attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight")) {
                want.add("transformer.h." + l + "." + t);
            }
        }
        assertEquals(want, paired, String.join("\n", p.notes()));
        assertEquals(Certainty.CONVENTION, p.certainty());
        String notes = String.join("\n", p.notes());
        assertTrue(notes.contains("sorted by name") && notes.contains("layer order pairs transformer.h.*.mlp.c_fc.weight"), notes);
        assertTrue(notes.contains("[16] (") && notes.contains("name patterns"), notes);
        assertTrue(p.method().contains("layer order per name pattern for 18"), p.method());
    }

    @Test
    void sortedSafetensorsWithBasePairsMatricesByContent() {
        Run run = Run.gpt(26, 4, 32, true, AS_IS).hfGroups().train();
        Pairing p = Pairer.pair(Family.HF_SAFETENSORS.members(run, true, true));
        assertNoWrongPair(p, Family.HF_SAFETENSORS.expected(run));
        assertEquals(Certainty.CONVENTION, p.certainty(), "bias vectors rest on layer order alone");
        long matrices = p.pairs().stream().filter(x -> x.param().key().endsWith("weight") && !x.param().key().contains("ln_")).count();
        assertEquals(2 + 4 * 4, matrices, String.join("\n", p.notes()));
        assertTrue(String.join("\n", p.notes()).contains("content confirms 4 of 4"), String.join("\n", p.notes()));
    }

    @Test
    void scalarParametersAnchorTheOrderButAreNotReturned() {
        Run run = new Run(34)
                .add(new Tensor("temperature"))
                .add(new Tensor("proj.weight", 16, 16))
                .add(new Tensor("gate"))
                .add(new Tensor("out.weight", 16, 16))
                .plainGroup().train();
        Pairing p = Pairer.pair(Family.HF_BIN.members(run, false, true));
        Set<MomentPair> expected = Family.HF_BIN.expected(run);
        assertNoWrongPair(p, expected);
        Set<String> paired = new HashSet<>();
        p.pairs().forEach(x -> paired.add(x.param().key()));
        assertEquals(Set.of("proj.weight", "out.weight"), paired, String.join("\n", p.notes()));
        assertEquals(Certainty.CERTAIN, p.certainty());
        assertTrue(String.join("\n", p.notes()).contains("2 pair(s) left out"), String.join("\n", p.notes()));
    }

    @Test
    void noOptimizerMeansNone() {
        Run run = Run.gpt(27, 1, 8, false, AS_IS).plainGroup().train();
        Ckpt model = new Ckpt("model.safetensors", Format.SAFETENSORS);
        run.writeModel(model, "", true, true);
        Pairing p = Pairer.pair(List.of(model.member(null)));
        assertEquals(Certainty.NONE, p.certainty());
        assertFalse(p.usable());
        assertTrue(p.notes().get(0).contains("no Adam"), p.notes().toString());
    }

    @Test
    void optimizerWithoutItsModelIsNone() {
        Run run = Run.gpt(28, 1, 8, false, AS_IS).nanoGptGroups().train();
        Ckpt opt = new Ckpt("optimizer.pt", Format.TORCH_ZIP);
        run.writeOptimizer(opt, "", true);
        Pairing p = Pairer.pair(List.of(opt.member(null)));
        assertEquals(Certainty.NONE, p.certainty());
        assertTrue(p.pairs().isEmpty());
    }

    @Test
    void momentsOfAnotherModelAreNone() {
        Run model = Run.gpt(29, 2, 16, false, AS_IS).nanoGptGroups().train();
        Run other = Run.gpt(30, 2, 24, false, AS_IS).nanoGptGroups().train();
        Ckpt m = new Ckpt("pytorch_model.bin", Format.TORCH_ZIP);
        model.writeModel(m, "", false, true);
        Ckpt o = new Ckpt("optimizer.pt", Format.TORCH_ZIP);
        other.writeOptimizer(o, "", true);
        Pairing p = Pairer.pair(List.of(m.member(null), o.member(null)));
        assertEquals(Certainty.NONE, p.certainty(), String.join("\n", p.notes()));
    }

    @Test
    void stateKeyedByParameterName() {
        Ckpt c = new Ckpt("ckpt.pt", Format.TORCH_ZIP)
                .tensor("model/a.weight", 4, 4).tensor("model/b.weight", 4, 4)
                .tensor("optimizer/state/a.weight/exp_avg", 4, 4).tensor("optimizer/state/a.weight/exp_avg_sq", 4, 4)
                .tensor("optimizer/state/b.weight/exp_avg", 4, 4).tensor("optimizer/state/b.weight/exp_avg_sq", 4, 4);
        Pairing p = Pairer.pair(List.of(c.member(null)));
        assertEquals(Certainty.CERTAIN, p.certainty());
        assertEquals(2, p.pairs().size());
        for (MomentPair x : p.pairs()) assertTrue(x.expAvg().key().contains(x.param().key().substring("model/".length())), x.toString());
    }

    @Test
    void unreadableGroupsFallBackToTheUngroupedOrder() {
        Run run = Run.gpt(31, 2, 16, true, AS_IS).nanoGptGroups().train();
        List<SetMember> set = Family.NANOGPT.members(run, false, true);
        Ckpt broken = new Ckpt("ckpt.pt", Format.TORCH_ZIP);
        run.writeModel(broken, "model/", false, true);
        run.writeOptimizer(broken, "optimizer/", false);
        broken.meta("optimizer/param_groups/0/params", "[0, 1, 2, ...]");
        Pairing p = Pairer.pair(List.of(broken.member(null)));
        assertComplete(p, Family.NANOGPT.expected(run), Certainty.CERTAIN);
        assertTrue(String.join("\n", p.notes()).contains("unreadable"), String.join("\n", p.notes()));
        assertEquals(1, set.size());
    }

    @Test
    void twoOptimizersOverDisjointParameters() {
        Run gen = new Run(32).add(new Tensor("gen.fc.weight", 32, 16)).add(new Tensor("gen.fc.bias", 32)).plainGroup().train();
        Run disc = new Run(33).add(new Tensor("disc.fc.weight", 2, 32)).add(new Tensor("disc.fc.bias", 2)).plainGroup().train();
        Ckpt c = new Ckpt("gan.ckpt", Format.TORCH_ZIP);
        gen.writeModel(c, "state_dict/", false, true);
        disc.writeModel(c, "state_dict/", false, true);
        gen.writeOptimizer(c, "optimizer_states/0/", true);
        disc.writeOptimizer(c, "optimizer_states/1/", true);
        Pairing p = Pairer.pair(List.of(c.member(null)));
        Set<MomentPair> expected = new HashSet<>(gen.expected("gan.ckpt", "state_dict/", "gan.ckpt", "optimizer_states/0/"));
        expected.addAll(disc.expected("gan.ckpt", "state_dict/", "gan.ckpt", "optimizer_states/1/"));
        assertComplete(p, expected, Certainty.CERTAIN);
    }
}
