package io.excpfs.codec.envelope;

import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.CorruptObjectException.Reason;
import io.excpfs.codec.Format;
import io.excpfs.codec.Kind;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/**
 * Header and footer of every stored object (after Lucene's {@code CodecUtil}); the byte grammar is in
 * {@code docs/format.md}. Header: magic, format name, version, 16-byte random id, kind, container format, raw
 * size, feature flags. Footer: footer magic, checksum algorithm id, CRC32C of every byte before the checksum.
 */
public final class ObjectEnvelope {
    /** "EXCP" read as a little-endian u32. */
    public static final int MAGIC = 0x50435845;
    public static final int FOOTER_MAGIC = ~MAGIC;
    public static final String NAME = "excpfs-object";
    public static final int ALGORITHM_CRC32C = 1;
    public static final int FOOTER_BYTES = 16;
    /** The object needs the base version's reconstruction to decode. */
    public static final int FLAG_NEEDS_BASE = 1;
    public static final int KNOWN_FLAGS = FLAG_NEEDS_BASE;

    private static final byte[] NAME_BYTES = NAME.getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER_BYTES = 4 + 1 + NAME_BYTES.length + 4 + 16 + 1 + 1 + 8 + 4;
    private static final SecureRandom RANDOM = new SecureRandom();

    private ObjectEnvelope() {}

    /**
     * What the header says.
     *
     * @param bodyStart offset of the first body byte
     * @param bodyEnd   offset of the first footer byte
     */
    public record Header(int version, byte[] id, Kind kind, Format format, long rawSize, int flags, int bodyStart, int bodyEnd) {
        public boolean needsBase() { return (flags & FLAG_NEEDS_BASE) != 0; }

        public String idHex() { return HexFormat.of().formatHex(id); }
    }

    public static byte[] randomId() {
        byte[] id = new byte[16];
        RANDOM.nextBytes(id);
        return id;
    }

    public static void writeHeader(BytesOut out, int version, byte[] id, Kind kind, Format format, long rawSize, int flags) {
        if (id.length != 16) throw new IllegalArgumentException("object id must be 16 bytes");
        out.u32(MAGIC).u8(NAME_BYTES.length).bytes(NAME_BYTES).u32(version).bytes(id)
                .u8(kindCode(kind)).u8(formatCode(format)).u64(rawSize).u32(flags);
    }

    /** Appends the footer and returns the finished object. */
    public static byte[] finish(BytesOut out) {
        out.u32(FOOTER_MAGIC).u32(ALGORITHM_CRC32C);
        CRC32C crc = new CRC32C();
        crc.update(out.array(), 0, out.size());
        out.u64(crc.getValue());
        return out.toByteArray();
    }

    /** Cheap structural check: header, version range, flags and footer; no checksum. */
    public static Header peek(byte[] object, int minVersion, int maxVersion) throws CorruptObjectException {
        return read(object, minVersion, maxVersion, false);
    }

    /** Full check: everything {@link #peek} checks plus the CRC32C over the whole object. */
    public static Header open(byte[] object, int minVersion, int maxVersion) throws CorruptObjectException {
        return read(object, minVersion, maxVersion, true);
    }

    private static Header read(byte[] object, int minVersion, int maxVersion, boolean checksum) throws CorruptObjectException {
        if (object.length < HEADER_BYTES + FOOTER_BYTES) {
            throw new CorruptObjectException(Reason.TRUNCATED, "object is " + object.length + " bytes, shorter than header and footer ("
                    + (HEADER_BYTES + FOOTER_BYTES) + ") at offset " + object.length);
        }
        BytesIn in = new BytesIn(object, 0, object.length - FOOTER_BYTES);
        int magic = in.u32("header magic");
        if (magic != MAGIC) throw in.corrupt(String.format("header magic 0x%08x is not 0x%08x: not an excpfs object", magic, MAGIC), 0);
        int nameLen = in.u8("format name length");
        byte[] name = in.bytes(nameLen, "format name");
        if (!Arrays.equals(name, NAME_BYTES)) throw in.corrupt("format name is not " + NAME, 5);
        int versionAt = in.position();
        int version = in.u32("format version");
        byte[] id = in.bytes(16, "object id");
        int kindAt = in.position();
        int kindCode = in.u8("kind");
        int formatCode = in.u8("container format");
        long rawSize = in.u64("raw size");
        int flagsAt = in.position();
        int flags = in.u32("feature flags");
        int bodyStart = in.position();

        int footerAt = object.length - FOOTER_BYTES;
        BytesIn foot = new BytesIn(object, footerAt, object.length);
        int footerMagic = foot.u32("footer magic");
        int algorithm = foot.u32("checksum algorithm");
        long stored = foot.u64("checksum");
        if (footerMagic != FOOTER_MAGIC) {
            throw new CorruptObjectException(Reason.TRUNCATED, String.format(
                    "footer magic 0x%08x is not 0x%08x at offset %d: object truncated or corrupt", footerMagic, FOOTER_MAGIC, footerAt));
        }
        if (algorithm != ALGORITHM_CRC32C) {
            if (version > maxVersion) throw tooNew(version, maxVersion, versionAt);
            throw foot.corrupt("unknown checksum algorithm " + algorithm, footerAt + 4);
        }
        if (checksum) {
            CRC32C crc = new CRC32C();
            crc.update(object, 0, object.length - 8);
            if (crc.getValue() != stored) {
                throw foot.corrupt(String.format("checksum mismatch: stored 0x%x, computed 0x%x", stored, crc.getValue()), object.length - 8);
            }
        }
        if (version < minVersion) {
            throw new CorruptObjectException(Reason.TOO_OLD, "format version " + version + " is older than the oldest readable "
                    + minVersion + " (offset " + versionAt + ")");
        }
        if (version > maxVersion) throw tooNew(version, maxVersion, versionAt);
        if ((flags & ~KNOWN_FLAGS) != 0) {
            throw in.corrupt(String.format("unknown feature flags 0x%x", flags & ~KNOWN_FLAGS), flagsAt);
        }
        Kind kind = kind(kindCode, in, kindAt);
        Format format = format(formatCode, in, kindAt + 1);
        if (rawSize < 0) throw in.corrupt("negative raw size", kindAt + 2);
        return new Header(version, id, kind, format, rawSize, flags, bodyStart, footerAt);
    }

    private static CorruptObjectException tooNew(int version, int max, int at) {
        return new CorruptObjectException(Reason.TOO_NEW, "format version " + version + " is newer than the newest readable "
                + max + " (offset " + at + ")");
    }

    public static int kindCode(Kind kind) {
        return switch (kind) {
            case SEED -> 1;
            case RESIDUAL -> 2;
            case OPAQUE -> 3;
        };
    }

    private static Kind kind(int code, BytesIn in, int at) throws CorruptObjectException {
        return switch (code) {
            case 1 -> Kind.SEED;
            case 2 -> Kind.RESIDUAL;
            case 3 -> Kind.OPAQUE;
            default -> throw in.corrupt("unknown kind " + code, at);
        };
    }

    public static int formatCode(Format format) {
        return switch (format) {
            case OPAQUE -> 0;
            case SAFETENSORS -> 1;
            case TORCH_ZIP -> 2;
            case TORCH_LEGACY -> 3;
            case NPY -> 4;
            case NPZ -> 5;
        };
    }

    public static Format format(int code, BytesIn in, int at) throws CorruptObjectException {
        return switch (code) {
            case 0 -> Format.OPAQUE;
            case 1 -> Format.SAFETENSORS;
            case 2 -> Format.TORCH_ZIP;
            case 3 -> Format.TORCH_LEGACY;
            case 4 -> Format.NPY;
            case 5 -> Format.NPZ;
            default -> throw in.corrupt("unknown container format " + code, at);
        };
    }
}
