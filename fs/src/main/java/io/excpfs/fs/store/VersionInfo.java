package io.excpfs.fs.store;

/**
 * What the metadata says about one version.
 *
 * @param id          version id, increasing with seal order
 * @param ino         inode it was sealed into (the inode may be gone for history versions)
 * @param path        path of the file when it was last live
 * @param lineage     lineage key (the path with step numbers abstracted, e.g. {@code checkpoint-*}{@code /model.safetensors})
 * @param setId       checkpoint set: versions of one checkpoint directory sealed together
 * @param step        training step read from the path, or -1
 * @param sealedNanos seal time, ns since the epoch
 * @param endedNanos  when it stopped being live (0 while live)
 * @param endReason   {@code overwritten}, {@code replaced} (by a rename), {@code deleted}, or empty while live
 * @param rawBytes    file size
 * @param storedBytes bytes of its objects
 * @param state       HOT or COLD
 * @param kind        {@code hot}, {@code seed}, {@code residual} or {@code opaque}
 * @param base        version id of the base of a residual, 0 otherwise
 * @param depth       residuals between this version and its seed (0 for seeds, opaque and hot)
 * @param status      live, history or hidden
 */
public record VersionInfo(long id, long ino, String path, String lineage, long setId, long step, long sealedNanos,
                          long endedNanos, String endReason, long rawBytes, long storedBytes, VersionState state,
                          String kind, long base, int depth, VersionStatus status) {
    public double ratio() { return storedBytes == 0 ? (rawBytes == 0 ? 1.0 : Double.POSITIVE_INFINITY) : (double) rawBytes / storedBytes; }
}
