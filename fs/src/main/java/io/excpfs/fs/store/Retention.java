package io.excpfs.fs.store;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Retention and demotion as a pure plan: from the versions and the options to one {@link Decision} per version,
 * with its reason. Nothing here touches the store; {@code Store} executes a plan in one transaction.
 *
 * <p>Rules, per lineage (versions in seal order):
 * <ul>
 *   <li>live versions are kept; of the history versions the newest {@code keep_last} are kept (all when 0), and
 *       those whose step is a multiple of {@code keep_every}; a pinned (open) version is kept;</li>
 *   <li>a version not kept but the base (directly or through a chain) of a kept one, or the base the next
 *       demotion of its lineage will be encoded against, is hidden, never removed;</li>
 *   <li>kept HOT versions with at least {@code hot} newer versions in their lineage are demoted, in order; a
 *       demotion starts a new seed when the chain it would extend already holds {@code seed_every} residuals;</li>
 *   <li>with an idle time ({@link StoreOptions#effectiveIdleNanos()}), the kept HOT versions of an idle lineage
 *       are demoted too, the newest included: a lineage is idle when none of its versions is open and none was
 *       sealed or opened within the idle time of {@code now};</li>
 *   <li>with {@code hot=0}, the newest version of a lineage (no newer one yet) is demoted only once its lineage is
 *       idle, or at a flush, or at once when the idle time is 0: its checkpoint set may still be being written.</li>
 * </ul>
 */
final class Retention {
    private Retention() {}

    enum Action { KEEP, KEEP_HOT, DEMOTE, HIDE, REMOVE }

    /**
     * What the plan needs to know about one version.
     *
     * @param lastUsedNanos when it was last sealed or opened (ns since the epoch); 0 when unknown (never idle)
     */
    record Facts(long id, String lineage, long step, VersionStatus status, VersionState state, long base, int depth,
                 boolean pinned, long lastUsedNanos) {
        Facts(long id, String lineage, long step, VersionStatus status, VersionState state, long base, int depth, boolean pinned) {
            this(id, lineage, step, status, state, base, depth, pinned, 0);
        }
    }

    /**
     * @param seed for {@link Action#DEMOTE}: encode as a new seed rather than a residual
     */
    record Decision(long id, Action action, boolean seed, String reason) {}

    /** The plan of a flush without a clock: no lineage is idle, nothing waits for idleness. */
    static List<Decision> plan(List<Facts> versions, StoreOptions options) {
        return plan(versions, options, 0, true);
    }

    /**
     * The plan at {@code nowNanos} (ns since the epoch; 0: no lineage is idle). {@code flushing}: a flush asked
     * for everything pending, so the newest version under {@code hot=0} does not wait for idleness.
     */
    static List<Decision> plan(List<Facts> versions, StoreOptions options, long nowNanos, boolean flushing) {
        Map<String, List<Facts>> byLineage = new LinkedHashMap<>();
        Map<Long, Facts> byId = new HashMap<>();
        for (Facts f : versions.stream().sorted(Comparator.comparingLong(Facts::id)).toList()) {
            byLineage.computeIfAbsent(f.lineage(), k -> new ArrayList<>()).add(f);
            byId.put(f.id(), f);
        }
        Map<Long, String> keepReason = new HashMap<>();
        for (List<Facts> lineage : byLineage.values()) {
            int historySeen = 0;
            for (int i = lineage.size() - 1; i >= 0; i--) {
                Facts f = lineage.get(i);
                if (f.status() == VersionStatus.LIVE) {
                    keepReason.put(f.id(), "live");
                    continue;
                }
                if (f.status() == VersionStatus.HISTORY) {
                    historySeen++;
                    if (options.keepLast() == 0) keepReason.put(f.id(), "history (keep_last=0 keeps all)");
                    else if (historySeen <= options.keepLast()) keepReason.put(f.id(), "keep_last=" + options.keepLast());
                }
                if (!keepReason.containsKey(f.id()) && f.status() != VersionStatus.HIDDEN && options.keepEvery() > 0
                        && f.step() >= 0 && f.step() % options.keepEvery() == 0) {
                    keepReason.put(f.id(), "keep_every=" + options.keepEvery() + " (step " + f.step() + ")");
                }
                if (!keepReason.containsKey(f.id()) && f.pinned()) keepReason.put(f.id(), "open by a reader");
            }
        }
        Map<Long, Long> neededBy = new HashMap<>();
        for (long kept : keepReason.keySet()) {
            Set<Long> seen = new HashSet<>();
            Facts f = byId.get(kept);
            while (f != null && f.base() != 0 && seen.add(f.id())) {
                neededBy.putIfAbsent(f.base(), kept);
                f = byId.get(f.base());
            }
        }
        for (List<Facts> lineage : byLineage.values()) {
            int newerKept = 0;
            int first = -1;
            for (int i = lineage.size() - 1; i >= 0; i--) {
                Facts f = lineage.get(i);
                if (!keepReason.containsKey(f.id())) continue;
                if (f.state() == VersionState.HOT && newerKept >= options.hot()) first = i;
                newerKept++;
            }
            if (first < 0) continue;
            Facts base = null;
            for (int j = first - 1; j >= 0 && base == null; j--) {
                if (lineage.get(j).state() == VersionState.COLD) base = lineage.get(j);
            }
            if (base == null || (options.seedEvery() > 0 && base.depth() + 1 > options.seedEvery())) continue;
            long pending = lineage.get(first).id();
            Set<Long> seen = new HashSet<>();
            for (Facts f = base; f != null && seen.add(f.id()); f = f.base() == 0 ? null : byId.get(f.base())) {
                if (!keepReason.containsKey(f.id())) neededBy.putIfAbsent(f.id(), pending);
            }
        }
        List<Decision> out = new ArrayList<>();
        for (List<Facts> lineage : byLineage.values()) {
            long idleFor = idleFor(lineage, options, nowNanos);
            int[] newer = new int[lineage.size()];
            int count = 0;
            for (int i = lineage.size() - 1; i >= 0; i--) {
                newer[i] = count;
                if (keepReason.containsKey(lineage.get(i).id()) || neededBy.containsKey(lineage.get(i).id())) count++;
            }
            int chainDepth = -1;
            for (int i = 0; i < lineage.size(); i++) {
                Facts f = lineage.get(i);
                String why = keepReason.get(f.id());
                if (why == null) {
                    Long by = neededBy.get(f.id());
                    if (by != null) {
                        out.add(new Decision(f.id(), Action.HIDE, false, "base of kept version " + by
                                + (byId.get(by).state() == VersionState.HOT ? " (pending demotion)" : "")));
                        chainDepth = f.state() == VersionState.COLD ? f.depth() : -1;
                    } else {
                        out.add(new Decision(f.id(), Action.REMOVE, false,
                                f.status() == VersionStatus.HIDDEN ? "no kept version depends on it" : "beyond keep_last=" + options.keepLast()));
                    }
                    continue;
                }
                if (f.state() == VersionState.COLD) {
                    out.add(new Decision(f.id(), Action.KEEP, false, why));
                    chainDepth = f.depth();
                } else if ((newer[i] >= options.hot() && (newer[i] > 0 || flushing || idleFor >= 0 || options.effectiveIdleNanos() == 0))
                        || idleFor >= 0) {
                    boolean seed = chainDepth < 0 || (options.seedEvery() > 0 && chainDepth + 1 > options.seedEvery());
                    String how = chainDepth < 0 ? "first of its lineage" : seed ? "chain holds seed_every=" + options.seedEvery() + " residuals" : "residual";
                    String when = newer[i] > 0 && newer[i] >= options.hot() ? newer[i] + " newer >= hot=" + options.hot()
                            : idleFor >= 0 ? "lineage idle for " + idleFor / 1_000_000 + " ms >= idle=" + options.effectiveIdleNanos() / 1_000_000 + " ms"
                            : flushing ? "hot=0, flushing" : "hot=0, idle=0";
                    out.add(new Decision(f.id(), Action.DEMOTE, seed, why + "; " + when + "; " + how));
                    chainDepth = seed ? 0 : chainDepth + 1;
                } else {
                    out.add(new Decision(f.id(), Action.KEEP_HOT, false, why + (options.hot() == 0 ? "; newest, waiting for its lineage to be idle"
                            : "; among the newest hot=" + options.hot())));
                    chainDepth = -1;
                }
            }
        }
        out.sort(Comparator.comparingLong(Decision::id));
        return out;
    }

    /** How long the lineage has been idle when that is at least {@code idle}, else -1. */
    private static long idleFor(List<Facts> lineage, StoreOptions options, long nowNanos) {
        if (options.effectiveIdleNanos() <= 0 || nowNanos <= 0) return -1;
        long last = 0;
        for (Facts f : lineage) {
            if (f.pinned() || f.lastUsedNanos() <= 0) return -1;
            last = Math.max(last, f.lastUsedNanos());
        }
        long idle = nowNanos - last;
        return idle >= options.effectiveIdleNanos() ? idle : -1;
    }

    /**
     * When the next lineage holding a HOT version becomes idle (ns since the epoch), or 0 when none will later than
     * {@code nowNanos}: the time the planner should look again. An open version counts as used now.
     */
    static long nextIdleCheck(List<Facts> versions, StoreOptions options, long nowNanos) {
        if (options.effectiveIdleNanos() <= 0) return 0;
        Map<String, long[]> last = new HashMap<>();
        Set<String> withHot = new HashSet<>();
        for (Facts f : versions) {
            long[] l = last.computeIfAbsent(f.lineage(), k -> new long[1]);
            l[0] = Math.max(l[0], f.pinned() ? nowNanos : f.lastUsedNanos());
            if (f.state() == VersionState.HOT) withHot.add(f.lineage());
        }
        long next = 0;
        for (String lineage : withHot) {
            long due = last.get(lineage)[0] + options.effectiveIdleNanos();
            if (due > nowNanos && (next == 0 || due < next)) next = due;
        }
        return next;
    }
}
