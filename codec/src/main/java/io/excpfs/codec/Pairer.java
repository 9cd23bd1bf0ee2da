package io.excpfs.codec;

import io.excpfs.codec.pairing.MomentMatcher;

import java.util.List;

/**
 * Finds which parameter each Adam {@code exp_avg}/{@code exp_avg_sq} belongs to inside one checkpoint set, whatever
 * the trainer's layout. When pairing is not certain it says so, and the encoder compresses unpaired.
 *
 * <p>Structure first (the optimizer's param groups against the orders trainers build them in, checked against every
 * moment's shape), then content when the set has bases (a weight moves against its {@code exp_avg}). Pairs that
 * stay ambiguous are left out rather than guessed, so a pairing may cover only part of the moments; the notes say
 * which and why. See {@link MomentMatcher} for the method.
 */
public final class Pairer {
    private Pairer() {}

    public static Pairing pair(List<SetMember> members) {
        return MomentMatcher.pair(members);
    }
}
