package io.excpfs.codec;

/**
 * The result of encoding one member of a checkpoint set.
 *
 * @param name           member name
 * @param object         the complete stored object (envelope included), see docs/format.md
 * @param reconstruction exactly what {@link CheckpointCodec#decode} of {@code object} returns: the next base
 * @param kind           seed, residual or opaque
 * @param stats          figures for stats, inspect and the report
 */
public record EncodedFile(String name, byte[] object, Reconstruction reconstruction, Kind kind, EncodeStats stats) {}
