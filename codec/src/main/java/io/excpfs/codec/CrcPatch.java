package io.excpfs.codec;

import java.util.List;

/**
 * A checksum the container keeps over bytes that may change on reconstruction: the CRC-32 of one zip entry.
 * After regions are written back, the CRC-32 of {@code [dataOffset, dataOffset+dataLength)} is written
 * little-endian at every offset in {@code fieldOffsets} (local header, data descriptor, central directory).
 */
public record CrcPatch(long dataOffset, long dataLength, List<Long> fieldOffsets) {
    public CrcPatch { fieldOffsets = List.copyOf(fieldOffsets); }
}
