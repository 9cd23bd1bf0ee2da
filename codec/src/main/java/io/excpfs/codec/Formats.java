package io.excpfs.codec;

import java.io.IOException;

/**
 * Entry point of format detection. Detects by content (magic bytes and structure), never by file name, and models
 * the file as skeleton + tensor regions with provisional roles taken from key paths.
 */
public final class Formats {
    private Formats() {}

    /**
     * Parses {@code file}. Never throws for bad content: anything that does not parse completely within the limits
     * comes back as {@link Layout#opaque} with a note naming the problem.
     *
     * @throws IOException only when reading the source itself fails
     */
    public static Layout parse(ByteSource file) throws IOException {
        return io.excpfs.codec.format.CheckpointParser.parse(file);
    }
}
