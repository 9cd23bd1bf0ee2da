package io.excpfs.codec;

import java.util.List;

/**
 * Finds which parameter each Adam {@code exp_avg}/{@code exp_avg_sq} belongs to inside one checkpoint set, whatever
 * the trainer's layout. When pairing is not certain it says so, and the encoder compresses unpaired.
 */
public final class Pairer {
    private Pairer() {}

    public static Pairing pair(List<SetMember> members) {
        return Pairing.none("pairing not implemented yet");
    }
}
