package io.excpfs.fs.store;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.CheckpointCodec;
import io.excpfs.codec.CodecParams;
import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.EncodedFile;
import io.excpfs.codec.Formats;
import io.excpfs.codec.Layout;
import io.excpfs.codec.Pairer;
import io.excpfs.codec.Pairing;
import io.excpfs.codec.Reconstruction;
import io.excpfs.codec.SetMember;

import java.io.IOException;
import java.util.List;

/**
 * What the store needs from the codec module: parse, pair, encode a set, decode an object. Production uses
 * {@link #checkpointCodec()}; store tests inject a simple exact codec to exercise chains and demotion order.
 */
interface Codec {
    Layout parse(ByteSource file) throws IOException;

    Pairing pair(List<SetMember> members);

    List<EncodedFile> encodeSet(List<SetMember> members, Pairing pairing, CodecParams params) throws IOException;

    Reconstruction decode(byte[] object, Reconstruction base) throws CorruptObjectException;

    /** The decoder the cache of bases runs: {@link #decode} on the whole object, unless the codec streams. */
    default io.excpfs.cache.ObjectDecoder objectDecoder() { return this::decode; }

    static Codec checkpointCodec() {
        return new Codec() {
            @Override public Layout parse(ByteSource file) throws IOException { return Formats.parse(file); }

            @Override public Pairing pair(List<SetMember> members) { return Pairer.pair(members); }

            @Override public List<EncodedFile> encodeSet(List<SetMember> members, Pairing pairing, CodecParams params) throws IOException {
                return CheckpointCodec.encodeSet(members, pairing, params);
            }

            @Override public Reconstruction decode(byte[] object, Reconstruction base) throws CorruptObjectException {
                return CheckpointCodec.decode(object, base);
            }

            @Override public io.excpfs.cache.ObjectDecoder objectDecoder() { return io.excpfs.cache.ObjectDecoder.checkpointCodec(); }
        };
    }
}
