package io.excpfs.cache;

import io.excpfs.codec.CheckpointCodec;
import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.ObjectStream;
import io.excpfs.codec.PendingReconstruction;
import io.excpfs.codec.Reconstruction;

import java.io.IOException;

/** Decodes one stored object against the reconstruction of its base; {@link CheckpointCodec#decode} in production. */
@FunctionalInterface
public interface ObjectDecoder {
    /**
     * @param object the stored object
     * @param base   the base version's reconstruction, or null when {@link ChainSource#baseOf} said there is none
     */
    Reconstruction decode(byte[] object, Reconstruction base) throws CorruptObjectException;

    /**
     * Decodes an object as it is read, publishing what is decoded to {@code progress} (which the caller ends). By
     * default, reads and verifies the whole object first and publishes nothing before the end.
     */
    default Reconstruction decode(ObjectStream object, Reconstruction base, PendingReconstruction progress)
            throws IOException, CorruptObjectException {
        return decode(object.readAll(), base);
    }

    /** The checkpoint codec, decoding region by region as the object arrives. */
    static ObjectDecoder checkpointCodec() {
        return new ObjectDecoder() {
            @Override public Reconstruction decode(byte[] object, Reconstruction base) throws CorruptObjectException {
                return CheckpointCodec.decode(object, base);
            }

            @Override public Reconstruction decode(ObjectStream object, Reconstruction base, PendingReconstruction progress)
                    throws IOException, CorruptObjectException {
                return progress.decode(object, base);
            }
        };
    }
}
