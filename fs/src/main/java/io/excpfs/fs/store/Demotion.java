package io.excpfs.fs.store;

import io.excpfs.codec.EncodedFile;
import io.excpfs.codec.Kind;
import io.excpfs.codec.Layout;
import io.excpfs.codec.Pairing;
import io.excpfs.codec.Reconstruction;
import io.excpfs.codec.Role;
import io.excpfs.codec.SetMember;
import io.excpfs.codec.TensorRegion;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Background demotion: one planner thread computes the {@link Retention} plan after every change, executes its
 * retention part in one transaction, and hands ready checkpoint sets to {@code encode_threads} encoder threads.
 * The plan is computed from a snapshot without holding the metadata lock; only the planner removes versions, and
 * it re-checks readers' pins inside the removing transaction (views pin under the same lock).
 * A version is encoded only once the previous version of its lineage is COLD (or could not be encoded), so every
 * residual is taken against what a read of its base returns. A failed encode leaves the version HOT (it is retried
 * at the next open).
 */
final class Demotion {
    private static final System.Logger LOG = System.getLogger("excpfs.encode");

    private final Store store;
    private final StoreOptions options;
    private final ExecutorService planner;
    private final ExecutorService encoders;
    private final Object monitor = new Object();
    private final Set<Long> encoding = new HashSet<>();
    private final Set<Long> failed = new HashSet<>();
    private final Set<String> lineagesInFlight = new HashSet<>();
    private final Set<Long> compacting = new HashSet<>();
    private final Set<Long> compactFailed = new HashSet<>();
    private final Map<Long, Long> measuredSeeds = new HashMap<>();
    private final Compaction compaction;
    private final java.util.concurrent.ScheduledExecutorService timer;
    private long wakeScheduledAt;
    private int inFlight;
    private int pumpsQueued;
    private volatile boolean stopped;

    Demotion(Store store, StoreOptions options) {
        this.store = store;
        this.options = options;
        AtomicInteger n = new AtomicInteger();
        this.planner = Executors.newSingleThreadExecutor(r -> daemon(r, "excpfs-planner"));
        this.encoders = Executors.newFixedThreadPool(options.encodeThreads(), r -> daemon(() -> {
            BackgroundPriority.lowerCurrentThread();
            r.run();
        }, "excpfs-encoder-" + n.incrementAndGet()));
        this.compaction = new Compaction(store, options);
        this.timer = options.effectiveIdleNanos() > 0 ? Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "excpfs-idle")) : null;
    }

    Compaction compaction() { return compaction; }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    void start() { wake(); }

    /** Schedules a planning round (coalesced when one is already queued). */
    void wake() {
        synchronized (monitor) {
            if (stopped || pumpsQueued > 0) return;
            pumpsQueued++;
        }
        try {
            planner.execute(() -> {
                synchronized (monitor) {
                    pumpsQueued--;
                }
                pumpSafely(false);
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            synchronized (monitor) {
                pumpsQueued--;
            }
        }
    }

    /**
     * Returns once a planning round finds nothing to start while no encode is running (encodes start only on the
     * planner thread, so nothing can be left pending). A round that began while a job was running does not count:
     * its snapshot of the versions may predate that job's commit, which can make the next version demotable.
     */
    void drain() throws IOException {
        while (true) {
            int started;
            try {
                started = planner.submit(() -> {
                    int runningBefore;
                    synchronized (monitor) {
                        runningBefore = inFlight;
                    }
                    int n = pumpSafely(true);
                    synchronized (monitor) {
                        return n + runningBefore + inFlight;
                    }
                }).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while flushing", e);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.RejectedExecutionException e) {
                throw new IOException("flush: " + e.getMessage(), e);
            }
            synchronized (monitor) {
                while (inFlight > 0) {
                    try {
                        monitor.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted while flushing", e);
                    }
                }
            }
            if (started == 0) return;
        }
    }

    void stop() {
        synchronized (monitor) {
            stopped = true;
        }
        if (timer != null) timer.shutdownNow();
        planner.shutdown();
        encoders.shutdown();
        try {
            if (!planner.awaitTermination(60, TimeUnit.SECONDS)) planner.shutdownNow();
            if (!encoders.awaitTermination(600, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "encoders still running at close; their work resumes at the next open");
                encoders.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private int pumpSafely(boolean flushing) {
        if (stopped || store.isClosed()) return 0;
        try {
            return pump(flushing);
        } catch (Exception | Error e) {
            LOG.log(System.Logger.Level.ERROR, "planning round failed: " + e, e);
            return 0;
        }
    }

    /** One member of an encode job. */
    private record Member(VersionInfo version, String object, long baseId, int baseDepth) {}

    /** One planning round; {@code flushing}: a flush waits for it, so nothing waits for idleness. */
    private int pump(boolean flushing) throws Exception {
        List<List<Member>> jobs = new ArrayList<>();
        List<LineageReseed> reseeds = new ArrayList<>();
        Metadata db = store.metadata();
        {
            Set<Long> busy;
            synchronized (monitor) {
                busy = new HashSet<>(encoding);
                busy.addAll(compacting);
            }
            Set<Long> pinned = new HashSet<>(store.pinned());
            pinned.addAll(busy);
            List<VersionInfo> all = db.read(db::allVersions);
            List<Retention.Facts> facts = new ArrayList<>(all.size());
            for (VersionInfo v : all) {
                facts.add(new Retention.Facts(v.id(), v.lineage(), v.step(), v.status(), v.state(), v.base(), v.depth(),
                        pinned.contains(v.id()), Math.max(v.sealedNanos(), store.lastOpened(v.id()))));
            }
            long now = Store.now();
            List<Retention.Decision> plan = Retention.plan(facts, options, now, flushing);
            scheduleIdleCheck(Retention.nextIdleCheck(facts, options, now), now);
            Map<Long, VersionInfo> byId = new HashMap<>();
            for (VersionInfo v : all) byId.put(v.id(), v);
            List<Retention.Decision> drop = plan.stream()
                    .filter(d -> (d.action() == Retention.Action.REMOVE && !busy.contains(d.id()))
                            || (d.action() == Retention.Action.HIDE && byId.get(d.id()).status() != VersionStatus.HIDDEN))
                    .sorted(Comparator.comparingLong(Retention.Decision::id).reversed()).toList();
            if (!drop.isEmpty()) {
                Set<Long> gone = new HashSet<>();
                db.update(() -> {
                    Set<Long> pinnedNow = store.pinned();
                    for (Retention.Decision d : drop) {
                        if (d.action() == Retention.Action.HIDE) db.hide(d.id());
                        else if (!pinnedNow.contains(d.id()) && db.remove(d.id())) gone.add(d.id());
                    }
                });
                for (Retention.Decision d : drop) {
                    if (!gone.contains(d.id())) continue;
                    store.forget(d.id());
                    LOG.log(System.Logger.Level.INFO, "retention removed version " + d.id() + " of " + byId.get(d.id()).path() + ": " + d.reason());
                }
                store.deleteGarbage();
                byId.clear();
                for (VersionInfo v : db.read(db::allVersions)) byId.put(v.id(), v);
            }
            Map<String, List<VersionInfo>> lineages = new HashMap<>();
            Map<Long, List<VersionInfo>> sets = new HashMap<>();
            for (VersionInfo v : byId.values().stream().sorted(Comparator.comparingLong(VersionInfo::id)).toList()) {
                lineages.computeIfAbsent(v.lineage(), k -> new ArrayList<>()).add(v);
                sets.computeIfAbsent(v.setId(), k -> new ArrayList<>()).add(v);
            }
            Set<Long> demotable = new HashSet<>();
            Map<Long, Boolean> seed = new HashMap<>();
            for (Retention.Decision d : plan) {
                if (d.action() == Retention.Action.DEMOTE) {
                    demotable.add(d.id());
                    seed.put(d.id(), d.seed());
                }
            }
            Map<Long, List<Member>> bySet = new LinkedHashMap<>();
            Set<String> blocked = new HashSet<>();
            synchronized (monitor) {
                blocked.addAll(lineagesInFlight);
            }
            Map<Long, Member> eligible = new LinkedHashMap<>();
            Map<Long, Integer> newerOf = new HashMap<>();
            for (long id : demotable.stream().sorted().toList()) {
                VersionInfo v = byId.get(id);
                if (v == null || v.state() != VersionState.HOT) continue;
                synchronized (monitor) {
                    if (encoding.contains(id) || failed.contains(id)) continue;
                }
                if (blocked.contains(v.lineage())) continue;
                List<VersionInfo> lin = lineages.get(v.lineage());
                VersionInfo pred = null;
                int newer = 0;
                for (VersionInfo o : lin) {
                    if (o.id() < id) pred = o;
                    else if (o.id() > id) newer++;
                }
                boolean predFailed;
                synchronized (monitor) {
                    predFailed = pred != null && failed.contains(pred.id());
                }
                blocked.add(v.lineage());
                if (pred != null && pred.state() == VersionState.HOT && !predFailed) continue;
                boolean asSeed = seed.getOrDefault(id, true) || pred == null || pred.state() != VersionState.COLD;
                // the snapshot may be older than an encode that finished since: only a version still HOT has a raw object
                String object = db.read(() -> {
                    VersionInfo current = db.version(id);
                    return current == null || current.state() != VersionState.HOT ? null : db.objectOf(id);
                });
                if (object == null) continue;
                eligible.put(id, new Member(v, object, asSeed ? 0 : pred.id(), asSeed ? 0 : pred.depth()));
                newerOf.put(id, newer);
            }
            for (Member m : eligible.values()) {
                VersionInfo v = m.version();
                if (!setReady(v, sets.get(v.setId()), demotable, eligible.keySet(), newerOf.get(v.id()))) continue;
                bySet.computeIfAbsent(v.setId(), k -> new ArrayList<>()).add(m);
            }
            for (Map.Entry<Long, List<Member>> e : bySet.entrySet()) {
                long setId = e.getKey();
                db.update(() -> db.closeSet(setId));
                synchronized (monitor) {
                    for (Member m : e.getValue()) {
                        encoding.add(m.version().id());
                        lineagesInFlight.add(m.version().lineage());
                        if (m.baseId() != 0) store.pin(m.baseId());
                    }
                    inFlight++;
                }
                jobs.add(e.getValue());
            }
            reseeds.addAll(planCompaction(plan, byId, pinned));
        }
        for (List<Member> job : jobs) {
            try {
                encoders.execute(() -> encode(job));
            } catch (java.util.concurrent.RejectedExecutionException ex) {
                finish(job);
            }
        }
        for (LineageReseed r : reseeds) {
            String lineage = r.lineage();
            try {
                encoders.execute(() -> compact(r.reseed(), lineage));
            } catch (java.util.concurrent.RejectedExecutionException ex) {
                finishCompaction(r.reseed(), lineage);
            }
        }
        return jobs.size() + reseeds.size();
    }

    private record LineageReseed(Compaction.Reseed reseed, String lineage) {}

    /**
     * The re-seedings to start now (after retention, on the snapshot {@code byId}): those of {@link Compaction#plan}
     * whose lineage has no encode or other re-seeding running, that did not fail in this session. Each one holds its
     * lineage like an encode does, and its versions count as busy for retention until it finishes.
     */
    private List<LineageReseed> planCompaction(List<Retention.Decision> plan, Map<Long, VersionInfo> byId, Set<Long> pinned) {
        Map<Long, Retention.Action> action = new HashMap<>();
        for (Retention.Decision d : plan) action.put(d.id(), d.action());
        List<Compaction.Facts> facts = new ArrayList<>(byId.size());
        for (VersionInfo v : byId.values()) {
            Retention.Action a = action.get(v.id());
            boolean kept = a != Retention.Action.HIDE && a != Retention.Action.REMOVE;
            facts.add(new Compaction.Facts(v.id(), v.lineage(), v.state(), v.kind(), v.base(), v.storedBytes(), kept, pinned.contains(v.id())));
        }
        Map<Long, Long> measured;
        synchronized (monitor) {
            measured = Map.copyOf(measuredSeeds);
        }
        List<LineageReseed> out = new ArrayList<>();
        for (Compaction.Reseed r : Compaction.plan(facts, measured)) {
            String lineage = byId.get(r.target()).lineage();
            synchronized (monitor) {
                if (stopped || compactFailed.contains(r.target()) || lineagesInFlight.contains(lineage)) continue;
                lineagesInFlight.add(lineage);
                compacting.add(r.target());
                compacting.addAll(r.freed());
                inFlight++;
            }
            LOG.log(System.Logger.Level.DEBUG, "re-seeding version " + r.target() + ": " + r.reason());
            out.add(new LineageReseed(r, lineage));
        }
        return out;
    }

    private void compact(Compaction.Reseed r, String lineage) {
        try {
            Compaction.Outcome o = compaction.reseed(r);
            if (!o.done() && o.seedBytes() > 0) {
                synchronized (monitor) {
                    measuredSeeds.put(r.target(), o.seedBytes());
                }
                LOG.log(System.Logger.Level.DEBUG, "re-seeding version " + r.target() + " not done: " + o.note());
            }
        } catch (Exception | Error e) {
            synchronized (monitor) {
                compactFailed.add(r.target());
            }
            LOG.log(System.Logger.Level.WARNING, "re-seeding version " + r.target() + " failed, its chain stays as it was: " + e);
        } finally {
            finishCompaction(r, lineage);
        }
    }

    private void finishCompaction(Compaction.Reseed r, String lineage) {
        synchronized (monitor) {
            lineagesInFlight.remove(lineage);
            compacting.remove(r.target());
            r.freed().forEach(compacting::remove);
            inFlight--;
            monitor.notifyAll();
        }
        wake();
    }

    /** Wakes the planner at {@code atNanos} (ns since the epoch; 0: no need), unless a wake is due before then. */
    private void scheduleIdleCheck(long atNanos, long nowNanos) {
        if (timer == null || atNanos <= 0) return;
        synchronized (monitor) {
            if (stopped || (wakeScheduledAt > nowNanos && wakeScheduledAt <= atNanos)) return;
            wakeScheduledAt = atNanos;
        }
        try {
            timer.schedule(this::wake, atNanos - nowNanos + 1_000_000L, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException ignored) {
            // stopping
        }
    }

    /**
     * A set's demotable member is encoded together with the set's other HOT members, so that parameters and their
     * moments are paired: it waits while another member is demotable but not yet encodable in this round (its own
     * predecessor is still being encoded), and while another member is kept HOT, until its own lineage has moved
     * on by {@code hot + 1} versions, at least 2 (the others are not coming; with {@code hot=0} the newest member of a
     * set waits for idleness, so one newer version is not enough evidence).
     */
    private boolean setReady(VersionInfo v, List<VersionInfo> set, Set<Long> demotable, Set<Long> eligible, int newer) {
        for (VersionInfo o : set) {
            if (o.id() == v.id() || o.state() != VersionState.HOT) continue;
            synchronized (monitor) {
                if (failed.contains(o.id()) || encoding.contains(o.id())) continue;
            }
            if (eligible.contains(o.id())) continue;
            if (demotable.contains(o.id())) return false;
            if (newer <= Math.max(options.hot(), 1)) return false;
        }
        return true;
    }

    private void encode(List<Member> job) {
        List<HotSource> sources = new ArrayList<>();
        List<String> written = new ArrayList<>();
        boolean maybeCommitted = false;
        try {
            List<SetMember> members = new ArrayList<>();
            Set<String> names = new HashSet<>();
            for (Member m : job) {
                HotSource src = store.openHot(m.object());
                sources.add(src);
                Layout layout = store.codec().parse(src);
                Reconstruction base = m.baseId() == 0 ? null : store.reconstruct(m.baseId());
                String path = m.version().path();
                String name = path.substring(path.lastIndexOf('/') + 1);
                if (!names.add(name)) name = path;
                members.add(new SetMember(name, src, layout, base));
            }
            Pairing pairing = store.codec().pair(members);
            List<EncodedFile> encoded = store.codec().encodeSet(members, pairing, options.codecParams());
            if (encoded.size() != members.size()) throw new IllegalStateException("codec returned " + encoded.size() + " objects for " + members.size() + " files");
            List<String> ids = new ArrayList<>();
            List<Integer> crcs = new ArrayList<>();
            for (int i = 0; i < encoded.size(); i++) {
                EncodedFile e = encoded.get(i);
                Member m = job.get(i);
                if (e.reconstruction().size() != m.version().rawBytes()) {
                    throw new IllegalStateException("codec reconstruction of " + m.version().path() + " has " + e.reconstruction().size() + " bytes, file has " + m.version().rawBytes());
                }
                if (e.kind() == Kind.RESIDUAL && m.baseId() == 0) throw new IllegalStateException("codec returned a residual for seed " + m.version().path());
                String id = store.newId();
                crcs.add(store.writeColdObject(id, e.object()));
                written.add(id);
                ids.add(id);
            }
            Metadata db = store.metadata();
            maybeCommitted = true;
            db.update(() -> {
                for (int i = 0; i < job.size(); i++) {
                    Member m = job.get(i);
                    EncodedFile e = encoded.get(i);
                    boolean residual = e.kind() == Kind.RESIDUAL;
                    int depth = 0;
                    if (residual) {
                        VersionInfo base = db.version(m.baseId());
                        if (base == null) throw new IllegalStateException("base version " + m.baseId() + " vanished during the encode");
                        depth = base.depth() + 1;
                    }
                    db.demote(m.version().id(), e.kind().label(), ids.get(i), crcs.get(i), e.object().length,
                            residual ? m.baseId() : 0, depth);
                    if (e.stats() != null) db.recordStats(m.version().id(), params(members.get(i).layout()), e.stats());
                }
            });
            for (int i = 0; i < job.size(); i++) {
                Member m = job.get(i);
                EncodedFile e = encoded.get(i);
                store.cacheReconstruction(m.version().id(), e.reconstruction());
                LOG.log(System.Logger.Level.INFO, String.format(java.util.Locale.ROOT,
                        "demoted version %d of %s: %s, %d -> %d bytes (%.1fx)%s", m.version().id(), m.version().path(),
                        e.kind().label(), m.version().rawBytes(), e.object().length,
                        e.object().length == 0 ? 0.0 : (double) m.version().rawBytes() / e.object().length,
                        e.kind() == Kind.RESIDUAL ? " against version " + m.baseId() : ""));
            }
            try {
                store.deleteGarbage();
            } catch (IOException e) {
                // committed: the new objects are referenced now and must stay; the garbage is retried later
                LOG.log(System.Logger.Level.WARNING, "could not delete the replaced objects yet (retried after the next demotion or at the next open): " + e.getMessage());
            }
        } catch (Exception | Error e) {
            boolean unknown = e.getCause() instanceof CommitStateUnknownException;
            if (!unknown) {
                for (String id : written) {
                    try {
                        store.deleteColdObject(id);
                    } catch (IOException ex) {
                        LOG.log(System.Logger.Level.WARNING, "could not delete unreferenced object " + id + ": " + ex.getMessage());
                    }
                }
            }
            synchronized (monitor) {
                for (Member m : job) failed.add(m.version().id());
            }
            String what = job.stream().map(m -> m.version().id() + " " + m.version().path()).toList().toString();
            LOG.log(System.Logger.Level.WARNING, "encode of " + what + " failed, staying HOT" + (unknown || maybeCommitted && unknown ? " (commit state unknown)" : "") + ": " + e);
        } finally {
            for (HotSource s : sources) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // read-only channel
                }
            }
            finish(job);
        }
    }

    private static long params(Layout layout) {
        long n = 0;
        for (TensorRegion r : layout.regions()) if (r.role() == Role.PARAM && r.dtype().isFloat()) n += r.elements();
        return n;
    }

    private void finish(List<Member> job) {
        // unpin bases before the job counts as done: a flush that sees no job in flight must also see the bases free,
        // or its last retention round keeps a base that nothing depends on any more
        for (Member m : job) if (m.baseId() != 0) store.unpin(m.baseId());
        synchronized (monitor) {
            for (Member m : job) {
                encoding.remove(m.version().id());
                lineagesInFlight.remove(m.version().lineage());
            }
            inFlight--;
            monitor.notifyAll();
        }
        wake();
    }

    /** Versions whose encode failed in this session (they stay HOT). */
    Set<Long> failed() {
        synchronized (monitor) {
            return Set.copyOf(failed);
        }
    }
}
