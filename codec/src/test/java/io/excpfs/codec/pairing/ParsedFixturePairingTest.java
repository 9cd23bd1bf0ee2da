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
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

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
}
