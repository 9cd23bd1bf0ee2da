package io.excpfs.cache;

import io.excpfs.codec.ObjectStream;

import java.io.IOException;
import java.util.OptionalLong;

/**
 * Where the chain of a stored version comes from: the store's metadata (which version a residual is taken against)
 * and its object files. {@link BaseCache} walks the chain back through {@link #baseOf} alone, then reads only the
 * objects it has to decode, oldest first.
 *
 * <p>Implementations must be thread-safe; they are called from every thread that reads through the cache, never
 * while the cache holds a lock.
 */
public interface ChainSource {
    /**
     * The version whose reconstruction {@code versionId}'s object is decoded against, or empty when the object needs
     * no base (a seed, or a file stored opaque or lossless).
     *
     * @throws IOException when the version is unknown or the metadata cannot be read
     */
    OptionalLong baseOf(long versionId) throws IOException;

    /**
     * The complete stored object of {@code versionId}, envelope included, as {@code CheckpointCodec.decode} takes it.
     *
     * @throws IOException when the object is missing or cannot be read
     */
    byte[] object(long versionId) throws IOException;

    /**
     * The stored object of {@code versionId} to read front to back while it decodes; its
     * {@link ObjectStream#verify} refuses an object whose bytes differ from what was stored. By default, the bytes
     * of {@link #object}, already checked.
     *
     * @throws IOException when the object is missing or cannot be opened
     */
    default ObjectStream open(long versionId) throws IOException { return ObjectStream.of(object(versionId)); }
}
