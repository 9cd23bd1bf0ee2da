package io.excpfs.codec;

import java.util.List;

/**
 * The parameter ↔ moment pairs found in one checkpoint set.
 *
 * @param pairs     the pairs (empty when {@code certainty == NONE})
 * @param certainty how sure the whole pairing is
 * @param method    how it was found, e.g. {@code "torch param_groups order, decay/no-decay split"}
 * @param notes     human-readable evidence and doubts, shown by {@code inspect}
 */
public record Pairing(List<MomentPair> pairs, Certainty certainty, String method, List<String> notes) {
    public Pairing {
        pairs = List.copyOf(pairs);
        notes = List.copyOf(notes);
    }

    public static Pairing none(String why) { return new Pairing(List.of(), Certainty.NONE, "none", List.of(why)); }

    public boolean usable() { return certainty != Certainty.NONE; }
}
