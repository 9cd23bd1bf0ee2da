package io.excpfs.codec;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * The reconstruction of one version while it is being decoded: {@link #read} serves the bytes of the regions
 * already decoded and waits only for the ones it covers, so a reader that goes through the file in order (cat,
 * a copy) gets its first bytes while later regions still decode.
 *
 * <p>Contract of a read: no byte is returned before the whole object was read and passed every check of its
 * bytes (the store's CRC32C of the object, the envelope checksum, the base fingerprint, the layout) and the region
 * streams were located up to the last one (or to the first malformed one); after that, a range of the file is returned once every region it covers, and every container
 * checksum field in it (the CRC-32 of a zip entry, written in the skeleton), is final. Bytes returned are the bytes
 * {@link #join} returns, forever. A region whose stream cannot be located or decoded fails the reads that cover it
 * or a later region; when the decode fails, reads of ranges already final still succeed and every other read throws
 * the failure; when it completes, reads go to the finished {@link Reconstruction}.
 *
 * <p>Thread-safe. One decode feeds an instance ({@link #decode}, or another decoder that ends in {@link #complete});
 * its owner ends it with {@link #complete} or {@link #fail}.
 */
public final class PendingReconstruction {
    /** Runs on a decode thread before region {@code index} decodes (tests hold a region back with it). */
    @FunctionalInterface
    interface RegionHook {
        void before(int index) throws InterruptedException;
    }

    private final RegionHook hook;
    /** Set by {@link #begin}, which writes it last. */
    private volatile Layout layout;
    /** Piece 2i is the gap before region i, 2i + 1 region i, the last one the tail after the last region. */
    private FilePieces pieces;
    private byte[] skeleton;
    private boolean[] ready;
    /** Pieces {@code [0, readyPrefix)} are final and verified: read without the lock. */
    private volatile int readyPrefix;
    private boolean verified;
    private List<CrcPatch> patches;
    /** Container checksums computed in layout order at the end (a checksum field lies inside checksummed data). */
    private boolean crcsInOrder;
    private AtomicIntegerArray regionsLeft;
    private int[][] patchesOfRegion;
    private AtomicIntegerArray fieldsLeft;
    private int[][] gapsOfPatch;
    private volatile Reconstruction done;
    private Exception failure;
    private boolean ended;

    public PendingReconstruction() { this(i -> {}); }

    PendingReconstruction(RegionHook hook) { this.hook = Objects.requireNonNull(hook); }

    /** An already finished reconstruction. */
    public static PendingReconstruction of(Reconstruction r) {
        PendingReconstruction p = new PendingReconstruction();
        p.complete(r);
        return p;
    }

    /**
     * Decodes a stored object into this instance, publishing regions as they are decoded, and returns the finished
     * reconstruction (bit-identical to what {@link CheckpointCodec#decode} returns for the same bytes). Does not end
     * this instance: the caller calls {@link #complete} or {@link #fail}.
     *
     * @param base the base version's reconstruction when the object needs one
     * @throws IOException            reading the object failed, or {@link ObjectStream#verify} refused it
     * @throws CorruptObjectException as {@link CheckpointCodec#decode}
     */
    public Reconstruction decode(ObjectStream object, Reconstruction base) throws IOException, CorruptObjectException {
        return ObjectDecoder.decode(object, base, this);
    }

    /** Ends this instance with the finished reconstruction; later reads go to it. */
    public void complete(Reconstruction r) {
        Objects.requireNonNull(r);
        synchronized (this) {
            if (ended) return;
            done = r;
            ended = true;
            notifyAll();
        }
    }

    /** Ends this instance with a failure ({@link IOException} or {@link CorruptObjectException}) for every read not yet final. */
    public void fail(Exception e) {
        Objects.requireNonNull(e);
        synchronized (this) {
            if (ended) return;
            failure = e;
            ended = true;
            notifyAll();
        }
    }

    public boolean isDone() { return done != null; }

    /** Waits for the end of the decode: the finished reconstruction, or its failure. */
    public Reconstruction join() throws IOException, CorruptObjectException {
        Reconstruction r = done;
        if (r != null) return r;
        synchronized (this) {
            while (!ended) await();
            if (done != null) return done;
            throw rethrow();
        }
    }

    /** The file's size, once the object's layout is known (waits for it). */
    public long size() throws IOException, CorruptObjectException {
        Reconstruction r = done;
        if (r != null) return r.size();
        Layout l = layout;
        if (l != null) return l.size();
        synchronized (this) {
            while (layout == null && !ended) await();
            if (done != null) return done.size();
            if (layout != null) return layout.size();
            throw rethrow();
        }
    }

    /**
     * Copies up to {@code len} bytes at file offset {@code pos} once they are final (see the class comment); returns
     * the count, 0 at or past the end.
     */
    public int read(long pos, byte[] dst, int off, int len) throws IOException, CorruptObjectException {
        Reconstruction r = done;
        if (r != null) return r.read(pos, dst, off, len);
        if (len <= 0 || pos < 0) return 0;
        Layout l = layout;
        if (l == null) {
            synchronized (this) {
                while (layout == null && !ended) await();
                if (done != null) return done.read(pos, dst, off, len);
                if (layout == null) throw rethrow();
                l = layout;
            }
        }
        if (pos >= l.size()) return 0;
        int total = (int) Math.min(len, l.size() - pos);
        int first = pieces.pieceAt(pos), last = pieces.pieceAt(pos + total - 1);
        if (last >= readyPrefix) {
            synchronized (this) {
                while (!isFinal(first, last)) {
                    if (done != null) return done.read(pos, dst, off, len);
                    if (ended) throw rethrow();
                    await();
                }
            }
        }
        pieces.copy(pos, dst, off, total);
        return total;
    }

    private boolean isFinal(int first, int last) {
        if (!verified) return false;
        for (int i = Math.max(first, readyPrefix); i <= last; i++) if (!ready[i]) return false;
        return true;
    }

    private void await() throws InterruptedIOException {
        try {
            wait();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a reconstruction");
        }
    }

    /** Throws the failure (callers write {@code throw rethrow()}). */
    private IOException rethrow() throws IOException, CorruptObjectException {
        if (failure instanceof IOException io) throw io;
        if (failure instanceof CorruptObjectException c) throw c;
        if (failure instanceof RuntimeException re) throw re;
        return new IOException("reconstruction failed: " + failure, failure);
    }

    // ------------------------------------------------------------------ fed by ObjectDecoder

    void beforeRegion(int index) throws CorruptObjectException {
        try {
            hook.before(index);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CorruptObjectException(CorruptObjectException.Reason.CORRUPT, "decode interrupted before region " + index);
        }
    }

    /**
     * The object's layout and skeleton are known; gaps that hold no container checksum field become final once the
     * object is verified. {@code skeleton} is patched in place: the finished reconstruction takes it as it is.
     *
     * @throws IllegalArgumentException when a checksum field lies inside a tensor region
     */
    void begin(Layout l, byte[] skel) {
        List<TensorRegion> regions = l.regions();
        int n = regions.size();
        FilePieces table = new FilePieces(l, skel);
        List<CrcPatch> ps = l.crcPatches();
        int[][] gapsOf = new int[ps.size()][];
        int[] fields = new int[n + 1];
        for (int p = 0; p < ps.size(); p++) {
            List<Integer> gaps = new ArrayList<>();
            for (long f : ps.get(p).fieldOffsets()) {
                for (int k = 0; k < 4; k++) {
                    int piece = table.pieceAt(f + k);
                    if (piece % 2 == 1 || f + k >= l.size()) throw new IllegalArgumentException("CRC field inside a tensor region at " + (f + k));
                    if (!gaps.contains(piece / 2)) gaps.add(piece / 2);
                }
            }
            gapsOf[p] = gaps.stream().mapToInt(Integer::intValue).toArray();
            for (int g : gapsOf[p]) fields[g]++;
        }
        int[] left = new int[ps.size()];
        List<List<Integer>> ofRegion = new ArrayList<>();
        for (int i = 0; i < n; i++) ofRegion.add(new ArrayList<>());
        for (int p = 0; p < ps.size(); p++) {
            long lo = ps.get(p).dataOffset(), hi = lo + ps.get(p).dataLength();
            int i = firstRegionEndingAfter(regions, lo);
            for (; i < n && regions.get(i).offset() < hi; i++) {
                if (regions.get(i).length() == 0) continue;
                ofRegion.get(i).add(p);
                left[p]++;
            }
        }
        synchronized (this) {
            pieces = table;
            skeleton = skel;
            ready = new boolean[2 * n + 1];
            patches = ps;
            crcsInOrder = !Reconstruction.fieldsOutsideData(ps);
            regionsLeft = new AtomicIntegerArray(left);
            patchesOfRegion = ofRegion.stream().map(x -> x.stream().mapToInt(Integer::intValue).toArray()).toArray(int[][]::new);
            fieldsLeft = new AtomicIntegerArray(fields);
            gapsOfPatch = gapsOf;
            for (int g = 0; g <= n; g++) if (fields[g] == 0) ready[2 * g] = true;
            layout = l;
            advance();
        }
        if (!crcsInOrder) {
            for (int p = 0; p < ps.size(); p++) if (left[p] == 0) applyPatch(p);
        }
    }

    /** Region {@code index} is decoded; container checksums that covered only decoded regions are computed now. */
    void regionDone(int index, byte[] payload) {
        pieces.setRegion(index, payload);
        markReady(2 * index + 1);
        if (crcsInOrder) return;
        for (int p : patchesOfRegion[index]) if (regionsLeft.decrementAndGet(p) == 0) applyPatch(p);
    }

    /** Every region is decoded: the container checksums left for the end are computed, in layout order. */
    void regionsDone() {
        if (!crcsInOrder) return;
        for (int p = 0; p < patches.size(); p++) pieces.writeCrc(patches.get(p), pieces.crc32(patches.get(p).dataOffset(), patches.get(p).dataLength()));
        for (int g = 0; g * 2 < ready.length; g++) markReady(2 * g);
    }

    /** Every byte of the object passed its checks: final pieces may now be read. */
    void verified() {
        synchronized (this) {
            verified = true;
            advance();
            notifyAll();
        }
    }

    /** The skeleton as patched so far (all of it once {@link #regionsDone} returned). */
    byte[] skeleton() { return skeleton; }

    private void applyPatch(int p) {
        CrcPatch patch = patches.get(p);
        pieces.writeCrc(patch, pieces.crc32(patch.dataOffset(), patch.dataLength()));
        for (int g : gapsOfPatch[p]) if (fieldsLeft.decrementAndGet(g) == 0) markReady(2 * g);
    }

    private synchronized void markReady(int piece) {
        ready[piece] = true;
        advance();
        notifyAll();
    }

    private void advance() {
        if (!verified) return;
        int p = readyPrefix;
        while (p < ready.length && ready[p]) p++;
        readyPrefix = p;
    }

    private static int firstRegionEndingAfter(List<TensorRegion> regions, long pos) {
        int lo = 0, hi = regions.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (regions.get(mid).end() <= pos) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}
