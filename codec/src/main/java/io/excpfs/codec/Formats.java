package io.excpfs.codec;

import java.io.IOException;

/**
 * Entry point of format detection. Detects by content (magic bytes and structure), never by file name, and models
 * the file as skeleton + tensor regions with provisional roles taken from key paths.
 *
 * <p>Regions are sorted by offset, which is not the order of the file's object tree: torch.save writes its
 * storage entries sorted by key as text ({@code data/0, data/1, data/10, data/11, data/2, ...}). The object order
 * (pickle order = state_dict order for torch, header order for safetensors, member order for npz) of every tensor
 * key path, aliases and tensors without a region included, is in {@code metadata().get("#tensor_order")} as a JSON
 * array of strings (absent for opaque files and when larger than 16 M characters).
 *
 * <p>Supported formats, limits and what stays skeleton: see the package {@code io.excpfs.codec.format}.
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
