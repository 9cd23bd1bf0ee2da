package io.excpfs.fs.store;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.Reconstruction;

import java.io.EOFException;

/** The bytes of a reconstructed (COLD) version. */
record ReconstructionSource(Reconstruction reconstruction) implements ByteSource {
    @Override public long size() { return reconstruction.size(); }

    @Override public void read(long pos, byte[] dst, int off, int len) throws EOFException {
        if (pos < 0 || len < 0 || pos + len > reconstruction.size()) throw new EOFException("read past end at " + pos);
        int n = reconstruction.read(pos, dst, off, len);
        if (n != len) throw new EOFException("short read at " + pos);
    }
}
