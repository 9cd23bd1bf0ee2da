package io.excpfs.codec.format;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.Layout;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Detects a checkpoint format by content and models the file as skeleton + tensor regions. The one entry point of
 * this package; {@link io.excpfs.codec.Formats#parse} delegates here.
 */
public final class CheckpointParser {
    private CheckpointParser() {}

    /**
     * Parses {@code src}: safetensors, torch.save zip, legacy torch.save, .npy or .npz. Anything that does not parse
     * completely within the limits comes back as an opaque layout whose note names the problem and its offset.
     *
     * @throws IOException only when reading the source fails
     */
    public static Layout parse(ByteSource src) throws IOException {
        long size = src.size();
        try {
            return detect(src);
        } catch (MalformedCheckpoint e) {
            return Layout.opaque(size, e.getMessage());
        } catch (EOFException e) {
            return Layout.opaque(size, "truncated: " + e.getMessage());
        } catch (UncheckedIOException e) {
            throw e.getCause();
        } catch (RuntimeException | StackOverflowError e) {
            return Layout.opaque(size, "not parsed (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
        }
    }

    private static Layout detect(ByteSource src) throws IOException, MalformedCheckpoint {
        long size = src.size();
        if (size == 0) return Layout.opaque(0, "empty file");
        byte[] head = src.read(0, (int) Math.min(size, 16));
        if (Npy.looksLikeNpy(src)) return Npy.parseNpy(src);
        if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5)) {
            ZipArchive zip = ZipArchive.read(src);
            ZipArchive.Entry pkl = TorchZip.dataPkl(zip);
            if (pkl != null) return TorchZip.parse(src, zip, pkl);
            if (Npy.isNpz(zip)) return Npy.parseNpz(src, zip);
            return Layout.opaque(size, "zip archive with neither a single <top>/data.pkl nor only .npy members");
        }
        if ((head[0] & 0xff) == 0x80 && TorchLegacy.looksLikeLegacy(src)) return TorchLegacy.parse(src);
        if (Safetensors.looksLikeSafetensors(src)) return Safetensors.parse(src);
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < Math.min(head.length, 8); i++) hex.append(String.format("%02x", head[i] & 0xff));
        return Layout.opaque(size, "unrecognised content (first bytes " + hex + ")");
    }
}
