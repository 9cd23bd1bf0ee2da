package io.excpfs.cache;

import io.excpfs.codec.CheckpointCodec;
import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.Reconstruction;

/** Decodes one stored object against the reconstruction of its base; {@link CheckpointCodec#decode} in production. */
@FunctionalInterface
public interface ObjectDecoder {
    /**
     * @param object the stored object
     * @param base   the base version's reconstruction, or null when {@link ChainSource#baseOf} said there is none
     */
    Reconstruction decode(byte[] object, Reconstruction base) throws CorruptObjectException;

    static ObjectDecoder checkpointCodec() { return CheckpointCodec::decode; }
}
