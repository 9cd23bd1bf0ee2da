package io.excpfs.codec;

/**
 * What the envelope of a stored object says.
 *
 * @param formatVersion object format version
 * @param id            the object's 16-byte id as 32 lowercase hex digits
 * @param kind          seed, residual or opaque
 * @param format        container format of the file it encodes
 * @param rawBytes      size of the file it decodes to
 * @param needsBase     true when decoding needs the base version's reconstruction
 */
public record ObjectInfo(int formatVersion, String id, Kind kind, Format format, long rawBytes, boolean needsBase) {}
