package io.excpfs.codec;

import io.excpfs.codec.envelope.ObjectEnvelope;

import java.io.IOException;
import java.util.List;

/**
 * Entry point of the codec: encodes the files of one checkpoint set into stored objects and decodes an object back
 * into what a read returns. Closed loop: every residual is taken against {@link SetMember#base()}, which must be
 * what a read of the previous version returns; the returned {@link EncodedFile#reconstruction()} is bit-identical
 * to what {@link #decode} will return for the object, forever. The object format is specified in
 * {@code docs/format.md}. All methods are stateless and safe to call from several threads at once. Limits: a region,
 * a skeleton and a stored object must each fit in one Java array (under 2 GiB).
 */
public final class CheckpointCodec {
    /**
     * Object format version written by this codec. 2 adds the LINEAR_OVER_BASE codebook (exp_avg_sq pruned with its
     * exp_avg becomes the base element scaled, not 0). 3 writes every rANS stream with four lanes, 16-bit
     * renormalisation and 12-bit frequencies (entropy models 3–5) and compresses the layout record with zstd.
     * Objects of versions 1 and 2 decode as before.
     */
    public static final int FORMAT_VERSION = 3;
    /** Oldest object format version this codec reads. */
    public static final int MIN_FORMAT_VERSION = 1;

    private CheckpointCodec() {}

    /**
     * Encodes every member of one checkpoint set.
     *
     * <p>Per member: an opaque layout becomes {@link Kind#OPAQUE} (whole file, lossless); a member with a null base,
     * an opaque base, or whose lossy region set (keys, dtypes, lengths) differs from its base's becomes a
     * {@link Kind#SEED} (lossless, self-contained); otherwise a {@link Kind#RESIDUAL} against its base (lossy
     * regions by ExCP in {@link CodecParams.Mode#EXCP}, everything else XORed with the base and coded losslessly).
     *
     * @param members the set's files; a member with a null base (or whose tensors changed) becomes a seed
     * @param pairing parameter ↔ moment pairs across the members (use {@link Pairing#none} when unsure)
     * @param params  codec settings
     * @return one encoded file per member, in member order
     * @throws IOException when reading a member's bytes fails
     */
    public static List<EncodedFile> encodeSet(List<SetMember> members, Pairing pairing, CodecParams params) throws IOException {
        return new SetEncoder(members, pairing, params).encode();
    }

    /** Reads the envelope of a stored object without decoding its payload (structural check, no checksum). */
    public static ObjectInfo peek(byte[] object) throws CorruptObjectException {
        ObjectEnvelope.Header h = ObjectEnvelope.peek(object, MIN_FORMAT_VERSION, FORMAT_VERSION);
        return new ObjectInfo(h.version(), h.idHex(), h.kind(), h.format(), h.rawSize(), h.needsBase());
    }

    /**
     * Decodes a stored object, after checking its whole checksum.
     *
     * @param base the reconstruction of the base version when {@link ObjectInfo#needsBase()}, else ignored
     * @throws CorruptObjectException when the checksum, structure or version of the object is wrong, or when the
     *                                base is missing or not the one the object was encoded against
     */
    public static Reconstruction decode(byte[] object, Reconstruction base) throws CorruptObjectException {
        return ObjectDecoder.decode(object, base);
    }
}
