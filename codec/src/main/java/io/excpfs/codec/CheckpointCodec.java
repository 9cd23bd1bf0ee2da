package io.excpfs.codec;

import java.io.IOException;
import java.util.List;

/**
 * Entry point of the codec: encodes the files of one checkpoint set into stored objects and decodes an object back
 * into what a read returns. Closed loop: every residual is taken against {@link SetMember#base()}, which must be
 * what a read of the previous version returns; the returned {@link EncodedFile#reconstruction()} is bit-identical
 * to what {@link #decode} will return for the object, forever.
 */
public final class CheckpointCodec {
    private CheckpointCodec() {}

    /**
     * Encodes every member of one checkpoint set.
     *
     * @param members the set's files; a member with a null base (or whose tensors changed) becomes a seed
     * @param pairing parameter ↔ moment pairs across the members (use {@link Pairing#none} when unsure)
     * @param params  codec settings
     */
    public static List<EncodedFile> encodeSet(List<SetMember> members, Pairing pairing, CodecParams params) throws IOException {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** Reads the envelope of a stored object without decoding its payload. */
    public static ObjectInfo peek(byte[] object) throws CorruptObjectException {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /**
     * Decodes a stored object.
     *
     * @param base the reconstruction of the base version when {@link ObjectInfo#needsBase()}, else ignored
     * @throws CorruptObjectException when the checksum, structure or version of the object is wrong
     */
    public static Reconstruction decode(byte[] object, Reconstruction base) throws CorruptObjectException {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
