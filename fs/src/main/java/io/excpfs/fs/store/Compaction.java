package io.excpfs.fs.store;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.EncodedFile;
import io.excpfs.codec.Kind;
import io.excpfs.codec.Layout;
import io.excpfs.codec.Pairing;
import io.excpfs.codec.Reconstruction;
import io.excpfs.codec.SetMember;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compaction by re-seeding. Retention hides the versions a kept residual still depends on; their objects stay
 * until nothing depends on them. When such a hidden run of a chain costs more than turning the kept version just
 * below it into a seed, that version is re-encoded as a lossless seed of exactly the bytes a read of it returns
 * today (so it, and every residual taken against it, reads the same bytes forever), switched to the seed in one
 * metadata transaction that also removes the hidden run, and only then are the freed objects deleted.
 *
 * <p>{@link #plan} is a pure function from the versions to the re-seedings worth doing; {@link #reseed} executes
 * one of them. Every step is crash safe: an object written before the commit is unreferenced (removed at the next
 * open) until the commit, and the replaced objects are on the garbage list of the commit that unreferenced them.
 */
final class Compaction {
    private static final System.Logger LOG = System.getLogger("excpfs.compact");

    /**
     * What the plan needs to know about one version.
     *
     * @param kept   retention keeps it (live, kept history, open, or about to be demoted); false for hidden bases
     * @param pinned open by a reader (or used as a base by a running encode)
     */
    record Facts(long id, String lineage, VersionState state, String kind, long base, long storedBytes, boolean kept,
                 boolean pinned) {}

    /**
     * One re-seeding worth doing.
     *
     * @param target        the kept COLD residual to turn into a seed
     * @param freed         the hidden versions that become unreachable, nearest to {@code target} first
     * @param freedBytes    their stored bytes
     * @param seedEstimate  expected size of the new seed
     * @param reclaimEstimate {@code freedBytes + stored(target) - seedEstimate}, &gt; 0
     */
    record Reseed(long target, List<Long> freed, long freedBytes, long seedEstimate, long reclaimEstimate, String reason) {}

    /**
     * The re-seedings that reclaim space. For each kept COLD residual, the hidden run above it is the chain of its
     * bases that are not kept, not open, not the base of a pending demotion, and have no other dependent; the run
     * is freed by re-seeding it when {@code stored(run) + stored(target) > seed size}. The seed size is estimated
     * as the stored size of the chain's own seed, unless {@code measuredSeeds} already knows it for the target (an
     * earlier attempt measured it and found the re-seeding not worth it).
     */
    static List<Reseed> plan(List<Facts> versions, Map<Long, Long> measuredSeeds) {
        Map<Long, Facts> byId = new HashMap<>();
        Map<Long, List<Long>> children = new HashMap<>();
        Map<String, List<Facts>> lineages = new HashMap<>();
        for (Facts f : versions.stream().sorted(Comparator.comparingLong(Facts::id)).toList()) {
            byId.put(f.id(), f);
            if (f.base() != 0) children.computeIfAbsent(f.base(), k -> new ArrayList<>()).add(f.id());
            lineages.computeIfAbsent(f.lineage(), k -> new ArrayList<>()).add(f);
        }
        Set<Long> pendingBases = new HashSet<>();
        for (List<Facts> lineage : lineages.values()) {
            for (int i = 1; i < lineage.size(); i++) {
                Facts prev = lineage.get(i - 1);
                if (lineage.get(i).state() == VersionState.HOT && prev.state() == VersionState.COLD) pendingBases.add(prev.id());
            }
        }
        List<Reseed> out = new ArrayList<>();
        for (Facts k : byId.values().stream().sorted(Comparator.comparingLong(Facts::id)).toList()) {
            if (!k.kept() || k.state() != VersionState.COLD || k.base() == 0 || !Kind.RESIDUAL.label().equals(k.kind())) continue;
            if (k.pinned() || anyPinned(descendants(k.id(), children), byId)) continue;
            List<Long> freed = new ArrayList<>();
            long freedBytes = 0;
            long below = k.id();
            Set<Long> seen = new HashSet<>();
            for (Facts a = byId.get(k.base()); a != null && seen.add(a.id()); a = a.base() == 0 ? null : byId.get(a.base())) {
                if (a.kept() || a.pinned() || pendingBases.contains(a.id())) break;
                if (!children.getOrDefault(a.id(), List.of()).equals(List.of(below))) break;
                freed.add(a.id());
                freedBytes += a.storedBytes();
                below = a.id();
            }
            if (freed.isEmpty()) continue;
            Long measured = measuredSeeds.get(k.id());
            long seed = measured != null ? measured : rootOf(k, byId).storedBytes();
            long reclaim = freedBytes + k.storedBytes() - seed;
            if (reclaim <= 0) continue;
            out.add(new Reseed(k.id(), List.copyOf(freed), freedBytes, seed, reclaim, freed.size() + " hidden versions ("
                    + freedBytes + " bytes) + residual " + k.storedBytes() + " > seed " + seed + (measured != null ? " (measured)" : " (estimated)")));
        }
        return out;
    }

    private static Facts rootOf(Facts f, Map<Long, Facts> byId) {
        Set<Long> seen = new HashSet<>();
        Facts cur = f;
        while (cur.base() != 0 && seen.add(cur.id())) {
            Facts b = byId.get(cur.base());
            if (b == null) break;
            cur = b;
        }
        return cur;
    }

    /** Every version whose chain passes through {@code id}, not including it. */
    static Set<Long> descendants(long id, Map<Long, List<Long>> children) {
        Set<Long> out = new HashSet<>();
        Deque<Long> todo = new ArrayDeque<>(children.getOrDefault(id, List.of()));
        while (!todo.isEmpty()) {
            long c = todo.pop();
            if (out.add(c)) todo.addAll(children.getOrDefault(c, List.of()));
        }
        return out;
    }

    private static boolean anyPinned(Set<Long> ids, Map<Long, Facts> byId) {
        for (long id : ids) {
            Facts f = byId.get(id);
            if (f != null && f.pinned()) return true;
        }
        return false;
    }

    // ---------------------------------------------------------------- execution

    /** Points where a test can stop a re-seeding as a crash would (kill -9: no cleanup after it). */
    enum Step { SEED_WRITTEN, COMMITTED }

    /** Called at each {@link Step}; a test's hook throws {@link SimulatedCrash} to stop there. */
    interface StepHook { void reached(Step step, long target); }

    /** Thrown by a test's {@link StepHook}: abandons the re-seeding without any cleanup. */
    static final class SimulatedCrash extends RuntimeException {
        SimulatedCrash(String message) { super(message); }
    }

    /** What a re-seeding did: the bytes it reclaimed, or 0 with the reason it changed nothing. */
    record Outcome(long reclaimedBytes, long seedBytes, String note) {
        boolean done() { return reclaimedBytes > 0; }
    }

    private final Store store;
    private final StoreOptions options;
    private volatile StepHook hook = (s, t) -> { };

    Compaction(Store store, StoreOptions options) {
        this.store = store;
        this.options = options;
    }

    void hook(StepHook h) { this.hook = h; }

    /**
     * Executes one re-seeding: reconstructs the target, encodes it as a seed, checks that the seed decodes to the
     * same bytes and that every direct dependent still decodes to the same bytes against it, writes the object,
     * then in one transaction (which re-checks that the chain and its pins did not change) switches the target to
     * the seed and removes the freed versions, and finally deletes the unreachable objects.
     *
     * @return the outcome; nothing changed when {@link Outcome#done()} is false
     * @throws IOException when reading, encoding or writing fails (nothing committed unless the cause is a
     *                     {@link CommitStateUnknownException})
     */
    Outcome reseed(Reseed r) throws IOException, io.excpfs.fs.ops.FsException {
        Metadata db = store.metadata();
        VersionInfo k = db.read(() -> db.version(r.target()));
        if (k == null || k.state() != VersionState.COLD || k.base() == 0) return new Outcome(0, 0, "target changed");
        String oldObject = db.read(() -> db.objectOf(k.id()));
        Reconstruction before = store.reconstruct(k.id());
        ByteSource src = new ReconstructionSource(before);
        Layout layout = store.codec().parse(src);
        String path = k.path();
        List<EncodedFile> encoded = store.codec().encodeSet(
                List.of(new SetMember(path.substring(path.lastIndexOf('/') + 1), src, layout, null)),
                Pairing.none("re-seeding one version"), options.codecParams());
        if (encoded.size() != 1) throw new IllegalStateException("codec returned " + encoded.size() + " objects for one file");
        EncodedFile seed = encoded.get(0);
        if (seed.kind() == Kind.RESIDUAL) throw new IllegalStateException("codec returned a residual for a seed of version " + k.id());
        if (!sameBytes(before, seed.reconstruction())) {
            throw new IllegalStateException("re-seeding version " + k.id() + " would change the bytes a read returns; left as it is");
        }
        List<Long> children = db.read(() -> db.dependents(k.id()));
        for (long c : children) {
            Metadata.ChainLink link = db.read(db.chainLinkSupplier(c));
            Reconstruction viaSeed;
            try {
                viaSeed = store.codec().decode(store.readColdObject(link.object(), link.objectCrc()), seed.reconstruction());
            } catch (io.excpfs.codec.CorruptObjectException e) {
                throw new IllegalStateException("version " + c + " does not decode against a re-seeded version " + k.id() + " (" + e.getMessage() + "); left as it is", e);
            }
            if (!sameBytes(store.reconstruct(c), viaSeed)) {
                throw new IllegalStateException("version " + c + " would not read the same bytes against a re-seeded version " + k.id() + "; left as it is");
            }
        }
        long seedBytes = seed.object().length;
        long reclaim = r.freedBytes() + k.storedBytes() - seedBytes;
        if (reclaim <= 0) return new Outcome(0, seedBytes, "seed of " + seedBytes + " bytes reclaims nothing");
        String id = store.newId();
        int crc = store.writeColdObject(id, seed.object());
        boolean maybeCommitted = false;
        try {
            hook.reached(Step.SEED_WRITTEN, k.id());
            maybeCommitted = true;
            boolean switched = db.write(() -> {
                java.util.Set<Long> pinned = store.pinned();
                if (!db.reseed(k.id(), oldObject, k.base(), seed.kind().label(), id, crc, seedBytes, r.freed(), pinned)) return false;
                db.addReclaimed(reclaim);
                return true;
            });
            if (!switched) {
                store.deleteColdObject(id);
                return new Outcome(0, seedBytes, "chain changed or in use while re-seeding; retried later");
            }
        } catch (SimulatedCrash e) {
            throw e;
        } catch (io.excpfs.fs.ops.FsException | RuntimeException e) {
            if (!maybeCommitted || !(e.getCause() instanceof CommitStateUnknownException)) store.deleteColdObject(id);
            throw e;
        }
        hook.reached(Step.COMMITTED, k.id());
        for (long f : r.freed()) store.forget(f);
        store.deleteGarbage();
        LOG.log(System.Logger.Level.INFO, "re-seeded version " + k.id() + " of " + k.path() + " (" + seedBytes + " bytes), removed "
                + r.freed().size() + " hidden versions " + r.freed() + ", reclaimed " + reclaim + " bytes");
        return new Outcome(reclaim, seedBytes, "re-seeded");
    }

    static boolean sameBytes(Reconstruction a, Reconstruction b) {
        if (a.size() != b.size()) return false;
        byte[] x = new byte[1 << 20], y = new byte[1 << 20];
        for (long pos = 0; pos < a.size(); ) {
            int n = a.read(pos, x, 0, x.length);
            if (b.read(pos, y, 0, n) != n || !java.util.Arrays.equals(x, 0, n, y, 0, n)) return false;
            pos += n;
        }
        return true;
    }
}
