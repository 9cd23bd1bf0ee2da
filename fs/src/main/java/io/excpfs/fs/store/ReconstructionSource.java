package io.excpfs.fs.store;

import io.excpfs.cache.CorruptVersionException;
import io.excpfs.codec.ByteSource;
import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.PendingReconstruction;
import io.excpfs.codec.Reconstruction;

import java.io.EOFException;
import java.io.IOException;

/**
 * The bytes of a COLD version, served as its reconstruction proceeds: a read waits only for the regions it covers
 * (see {@link PendingReconstruction}). A failure of the chain is thrown by the reads it affects, as
 * {@link CorruptDataException} naming the version, its path and the version whose object failed.
 */
final class ReconstructionSource implements ByteSource {
    private final long versionId;
    private final String path;
    private final long recordedSize;
    private final PendingReconstruction reconstruction;

    ReconstructionSource(VersionInfo info, PendingReconstruction reconstruction) {
        this.versionId = info.id();
        this.path = info.path();
        this.recordedSize = info.rawBytes();
        this.reconstruction = reconstruction;
    }

    /** A finished reconstruction. */
    ReconstructionSource(Reconstruction r) {
        this.versionId = 0;
        this.path = "a reconstruction";
        this.recordedSize = r.size();
        this.reconstruction = PendingReconstruction.of(r);
    }

    /** The reconstruction's size once finished; until then the size the metadata records. */
    @Override public long size() {
        if (reconstruction.isDone()) {
            try {
                return reconstruction.size();
            } catch (IOException | CorruptObjectException e) {
                throw new IllegalStateException(e);
            }
        }
        return recordedSize;
    }

    @Override public void read(long pos, byte[] dst, int off, int len) throws IOException {
        if (pos < 0 || len < 0 || pos + len > size()) throw new EOFException("read past end at " + pos + " of " + what());
        int n;
        try {
            n = reconstruction.read(pos, dst, off, len);
        } catch (CorruptObjectException e) {
            throw corrupt(e);
        } catch (IOException e) {
            throw named(e);
        }
        if (n != len) throw new EOFException("short read at " + pos + " of " + what());
    }

    /** Waits until the whole version is reconstructed; throws what a read of a damaged part would. */
    Reconstruction await() throws IOException {
        try {
            return reconstruction.join();
        } catch (CorruptObjectException e) {
            throw corrupt(e);
        } catch (IOException e) {
            throw named(e);
        }
    }

    private String what() { return "version " + versionId + " of " + path; }

    private IOException named(IOException e) {
        String m = what() + ": " + e.getMessage();
        return e instanceof CorruptDataException ? new CorruptDataException(m, e) : new IOException(m, e);
    }

    private CorruptDataException corrupt(CorruptObjectException e) {
        long bad = e instanceof CorruptVersionException cv ? cv.versionId() : versionId;
        return new CorruptDataException("version " + bad + " (in the chain of " + versionId + ", " + path + "): " + e.getMessage(), e);
    }
}
