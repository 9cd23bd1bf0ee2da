package io.excpfs.codec.pairing;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.Certainty;
import io.excpfs.codec.Formats;
import io.excpfs.codec.Layout;
import io.excpfs.codec.MomentPair;
import io.excpfs.codec.Pairer;
import io.excpfs.codec.Pairing;
import io.excpfs.codec.Role;
import io.excpfs.codec.SetMember;
import io.excpfs.codec.TensorRegion;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pairing on files as the formats parser models them (real torch.save output from make_fixtures.py), not on
 * hand-built layouts: torch writes storages sorted by key as text, so offset order is not state_dict order and
 * pairing must follow the object order the parser reports.
 */
class ParsedFixturePairingTest {
    private static final Path FIXTURES = Path.of("src/test/resources/formats");

    private static SetMember member(String name) throws Exception {
        byte[] bytes = Files.readAllBytes(FIXTURES.resolve(name));
        Layout layout = Formats.parse(ByteSource.of(bytes));
        return new SetMember(name, ByteSource.of(bytes), layout, null);
    }

    private static void assertEveryMomentPaired(List<SetMember> set) {
        Pairing p = Pairer.pair(set);
        long moments = 0;
        for (SetMember m : set) {
            for (TensorRegion r : m.layout().regions()) if (r.role() == Role.EXP_AVG) moments++;
        }
        assertEquals(Certainty.CERTAIN, p.certainty(), String.join("\n", p.notes()));
        List<MomentPair> complete = new ArrayList<>();
        for (MomentPair mp : p.pairs()) if (mp.expAvg() != null && mp.expAvgSq() != null) complete.add(mp);
        assertEquals(moments, complete.size(), "every exp_avg paired: " + p.pairs() + "\n" + String.join("\n", p.notes()));
        for (MomentPair mp : complete) {
            // a moment sits at state/<i>/ and its parameter has the same element count
            TensorRegion param = region(set, mp.param().file(), mp.param().key());
            TensorRegion avg = region(set, mp.expAvg().file(), mp.expAvg().key());
            assertEquals(param.elements(), avg.elements(), mp.toString());
        }
    }

    private static TensorRegion region(List<SetMember> set, String file, String key) {
        for (SetMember m : set) {
            if (!m.name().equals(file)) continue;
            for (TensorRegion r : m.layout().regions()) if (r.key().equals(key)) return r;
        }
        assertNotNull(null, "no region " + file + ":" + key);
        return null;
    }

    @Test
    void nanoGptCheckpoint() throws Exception {
        assertEveryMomentPaired(List.of(member("nanogpt_ckpt.pt")));
    }

    @Test
    void lightningCheckpoint() throws Exception {
        assertEveryMomentPaired(List.of(member("lightning.ckpt")));
    }

    @Test
    void stateDictWithSeparateOptimizerFile() throws Exception {
        assertEveryMomentPaired(List.of(member("state_dict.pt"), member("optimizer.pt")));
    }

    /**
     * A Hugging Face Trainer checkpoint of a 12-layer GPT-2 shape ({@code pairing/make_hf12.py}): model.safetensors
     * sorted by name as written, optimizer.pt from torch.save with the decay / no-decay groups. Every tensor of a
     * single-pattern shape pairs by layer order, each with its true optimizer index; the width-8 vectors (layer norms,
     * c_proj biases) stay unpaired.
     */
    @Test
    void hfSafetensorsWithTwelveLayersPairsByLayerOrder() throws Exception {
        Path dir = Path.of("src/test/resources/pairing/hf12");
        List<SetMember> set = new ArrayList<>();
        for (String f : List.of("model.safetensors", "optimizer.pt")) {
            byte[] bytes = Files.readAllBytes(dir.resolve(f));
            set.add(new SetMember(f, ByteSource.of(bytes), Formats.parse(ByteSource.of(bytes)), null));
        }
        Map<String, Integer> truth = new HashMap<>();
        for (String line : Files.readAllLines(dir.resolve("truth.txt"))) {
            String[] f = line.split(" ");
            truth.put(f[1], Integer.parseInt(f[0]));
        }
        Pairing p = Pairer.pair(set);
        String notes = String.join("\n", p.notes());
        assertEquals(Certainty.CONVENTION, p.certainty(), notes);
        Set<String> paired = new HashSet<>();
        for (MomentPair mp : p.pairs()) {
            int index = truth.get(mp.param().key());
            assertEquals("state/" + index + "/exp_avg", mp.expAvg().key(), mp + "\n" + notes);
            assertEquals("state/" + index + "/exp_avg_sq", mp.expAvgSq().key(), mp + "\n" + notes);
            paired.add(mp.param().key());
        }
        Set<String> want = new HashSet<>(Set.of("transformer.wte.weight", "transformer.wpe.weight"));
        for (int l = 0; l < 12; l++) {
            for (String t : List.of("attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight")) {
                want.add("transformer.h." + l + "." + t);
            }
        }
        assertEquals(want, paired, notes);
        assertTrue(notes.contains("sorted by name"), notes);
    }
}
