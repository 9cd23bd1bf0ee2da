package io.excpfs.codec.pairing;

import io.excpfs.codec.Certainty;
import io.excpfs.codec.MomentPair;
import io.excpfs.codec.Pairing;
import io.excpfs.codec.Role;
import io.excpfs.codec.SetMember;
import io.excpfs.codec.pairing.ContentEvidence.Score;
import io.excpfs.codec.pairing.OptimizerState.Slot;
import io.excpfs.codec.pairing.ParamPool.Candidate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Pairs parameters with their Adam moments inside one checkpoint set; see {@link io.excpfs.codec.Pairer}.
 *
 * <p>For every optimizer state dict in the set, in this order:
 * <ol>
 *   <li><b>Structure.</b> Each pool of candidate parameters whose file keeps state dict order is tested against
 *       every {@link ParamOrder} (plain, nanoGPT dim split, Hugging Face name split) bound to the param groups,
 *       first as an exact enumeration, then allowing skipped tensors (buffers, frozen parameters). An index is
 *       determined when every fitting hypothesis of the best level puts it on the same tensor. When no order fits
 *       (or the file is a safetensors file, sorted by name), a moment whose shape occurs once among the optimizer's
 *       moments and once in the pool is still determined by shape.</li>
 *   <li><b>Content</b>, when the set has a base: every structurally determined pair that has a same-shape rival is
 *       checked against {@link ContentEvidence}; one clear contradiction discards the structural mapping for the
 *       optimizer. Undetermined indices are assigned within their shape class when the evidence is decisive and no
 *       two indices claim one tensor.</li>
 *   <li><b>Layer order</b>, when no order fits and the model file is sorted by name: a shape class of one name
 *       pattern is paired in numeric layer order ({@link LayerOrder}); with a base, each such pair is checked
 *       against content first, and one clear contradiction drops the convention for the optimizer. This runs
 *       before content assigns the indices still undetermined.</li>
 *   <li>Whatever is still ambiguous stays unpaired, with a note. Nothing else is guessed.</li>
 * </ol>
 * Scalars and other tensors the parser marks {@link Role#OTHER_FLOAT} take part in matching (they anchor the order)
 * but are not returned as pairs: the encoder stores them exactly. The result is {@link Certainty#CERTAIN} when every
 * pair came from structure or unique shapes,
 * {@link Certainty#LIKELY} when some came from content (or layer order confirmed by content on every pair of its
 * class), {@link Certainty#CONVENTION} when some rest on layer order alone, {@link Certainty#NONE} when no pair was
 * found.
 */
public final class MomentMatcher {
    private static final int MAX_LISTED = 6;

    private MomentMatcher() {}

    public static Pairing pair(List<SetMember> members) {
        List<OptimizerState> optimizers = OptimizerState.find(members);
        if (optimizers.isEmpty()) return Pairing.none("no Adam exp_avg/exp_avg_sq tensors in the set");
        List<ParamPool> pools = ParamPool.find(members, optimizers);
        if (pools.isEmpty()) return Pairing.none("optimizer state found but no parameter tensors in the set");
        ContentEvidence evidence = ContentEvidence.available(members) ? new ContentEvidence(members) : null;

        List<String> notes = new ArrayList<>();
        List<String> methods = new ArrayList<>();
        Map<Candidate, Found> used = new LinkedHashMap<>();
        List<Found> all = new ArrayList<>();
        for (OptimizerState opt : optimizers) {
            Outcome o = new OptimizerMatch(opt, pools, evidence).run();
            notes.addAll(o.notes);
            if (!o.found.isEmpty()) methods.add(opt.label() + ": " + o.method);
            for (Found f : o.found) {
                Found prior = used.putIfAbsent(f.param, f);
                if (prior != null) {
                    notes.add("conflict: " + f.param + " claimed by " + prior.slot.file() + " state " + prior.slot.id()
                            + " and " + f.slot.file() + " state " + f.slot.id() + "; both left unpaired");
                    all.remove(prior);
                } else {
                    all.add(f);
                }
            }
        }
        all.removeIf(f -> used.get(f.param) != f);
        long lossless = all.stream().filter(f -> !f.param.region().role().lossy()).count();
        if (lossless > 0) {
            notes.add(lossless + " pair(s) left out: their parameter is stored exactly (role " + Role.OTHER_FLOAT.name().toLowerCase(java.util.Locale.ROOT)
                    + ", e.g. a one-element scale), so the encoder has nothing to prune jointly");
            all.removeIf(f -> !f.param.region().role().lossy());
        }
        if (all.isEmpty()) {
            return new Pairing(List.of(), Certainty.NONE, "none", notes.isEmpty() ? List.of("no pair found") : notes);
        }
        Certainty weakest = all.stream().map(Found::certainty).max(Comparator.naturalOrder()).orElseThrow();
        List<MomentPair> pairs = new ArrayList<>();
        for (Found f : all) pairs.add(new MomentPair(f.param.ref(), f.slot.expAvgRef(), f.slot.expAvgSqRef()));
        return new Pairing(pairs, weakest, String.join("; ", methods), notes);
    }

    private record Found(Slot slot, Candidate param, Certainty certainty) {}

    private record Outcome(List<Found> found, String method, List<String> notes) {}

    /** Fit of one pool to one optimizer: 1 exact order, 2 order with skips, 3 shapes only, 4 none. */
    private record PoolFit(ParamPool pool, int level, List<OrderHypothesis.Result> fitting, List<String> rejected) {}

    private static final class OptimizerMatch {
        private final OptimizerState opt;
        private final List<ParamPool> pools;
        private final ContentEvidence evidence;
        private final List<String> notes = new ArrayList<>();

        OptimizerMatch(OptimizerState opt, List<ParamPool> pools, ContentEvidence evidence) {
            this.opt = opt;
            this.pools = pools;
            this.evidence = evidence;
        }

        Outcome run() {
            String label = opt.label();
            notes.add(label + ": " + describe());
            opt.problems().forEach(p -> notes.add(label + ": " + p));
            List<Found> found = new ArrayList<>(named());
            String method = found.isEmpty() ? "" : "state keyed by parameter name";
            if (!opt.slots().isEmpty()) {
                Outcome indexed = indexed();
                found.addAll(indexed.found);
                method = method.isEmpty() ? indexed.method : method + " + " + indexed.method;
            }
            return new Outcome(found, method, notes);
        }

        private String describe() {
            String groups = opt.groups() == null ? "param groups unknown"
                    : opt.groups().size() + " param group(s) of " + opt.groups().stream().map(g -> String.valueOf(g.size())).toList();
            return opt.indexCount() + " optimizer indices, " + opt.slots().size() + " with moments, " + groups
                    + (opt.named().isEmpty() ? "" : ", " + opt.named().size() + " keyed by name");
        }

        private List<Found> named() {
            List<Found> out = new ArrayList<>();
            for (Slot s : opt.named().values()) {
                List<Candidate> hits = new ArrayList<>();
                for (ParamPool p : pools) {
                    for (Candidate c : p.candidates()) if ((c.name().equals(s.id()) || c.region().key().equals(s.id())) && OrderHypothesis.fits(s, c)) hits.add(c);
                }
                if (hits.size() == 1) out.add(new Found(s, hits.get(0), Certainty.CERTAIN));
                else notes.add(opt.label() + ": state " + s.id() + " matches " + hits.size() + " tensors by name; unpaired");
            }
            return out;
        }

        private Outcome indexed() {
            String label = opt.label();
            List<PoolFit> fits = new ArrayList<>();
            for (ParamPool p : pools) fits.add(fit(p));
            int best = fits.stream().mapToInt(PoolFit::level).min().orElse(4);
            if (best > 2 && pools.stream().map(ParamPool::file).distinct().count() > 1) {
                PoolFit union = fit(ParamPool.union(pools));
                if (union.level < best) {
                    fits.add(union);
                    best = union.level;
                }
            }
            int level = best;
            List<PoolFit> top = fits.stream().filter(f -> f.level == level).toList();
            if (level == 4) {
                notes.add(label + ": no pool of parameters holds tensors of every moment shape; "
                        + fits.stream().map(f -> f.pool.label() + " (" + f.pool.candidates().size() + " tensors)").toList());
                return new Outcome(List.of(), "", List.of());
            }
            if (top.size() > 1) {
                List<PoolFit> conventional = top.stream().filter(f -> f.pool.conventionalModel()).toList();
                if (conventional.size() == 1) {
                    notes.add(label + ": " + top.size() + " pools fit equally; using the model state dict " + conventional.get(0).pool.label());
                    top = conventional;
                } else {
                    notes.add(label + ": parameters could be in any of " + top.stream().map(f -> f.pool.label()).toList() + "; unpaired");
                    return new Outcome(List.of(), "", List.of());
                }
            }
            PoolFit fit = top.get(0);
            for (OrderHypothesis.Result r : fit.fitting) notes.add(label + ": fits " + levelName(level) + ": " + r.hypothesis().name);
            for (String r : fit.rejected.subList(0, Math.min(MAX_LISTED, fit.rejected.size()))) notes.add(label + ": rejected " + r);
            if (level == 3) notes.add(label + ": no parameter order fits" + (fit.pool.orderKnown() ? "" : " (" + fit.pool.file()
                    + " is sorted by name, module order unknown)") + "; pairing by unique shapes");

            int n = opt.indexCount();
            List<Set<Candidate>> options = level <= 2 ? structuralOptions(fit, n) : shapeOptions(fit.pool, n);
            String method = level <= 2 ? fit.fitting.get(0).hypothesis().name + (fit.fitting.size() > 1 ? " (+" + (fit.fitting.size() - 1) + " agreeing)" : "")
                    + (level == 1 ? ", exact" : ", skipping tensors without optimizer")
                    : "unique shapes in " + fit.pool.label();

            Map<Integer, Found> found = new LinkedHashMap<>();
            for (var e : opt.slots().entrySet()) {
                Set<Candidate> o = options.get(e.getKey());
                if (o.size() == 1) found.put(e.getKey(), new Found(e.getValue(), o.iterator().next(), Certainty.CERTAIN));
            }
            if (evidence != null && level <= 2 && contradicted(found, fit.pool)) {
                options = shapeOptions(fit.pool, n);
                found.clear();
                for (var e : opt.slots().entrySet()) {
                    Set<Candidate> o = options.get(e.getKey());
                    if (o.size() == 1) found.put(e.getKey(), new Found(e.getValue(), o.iterator().next(), Certainty.CERTAIN));
                }
                method = "unique shapes in " + fit.pool.label();
            }
            if (level == 3 && !fit.pool.orderKnown()) {
                int layered = layerOrder(fit.pool, found);
                if (layered > 0) method += " + layer order per name pattern for " + layered;
            }
            int likely = 0;
            Map<Integer, String> scores = new HashMap<>();
            if (evidence != null) likely = assignByContent(options, found, scores);
            if (likely > 0) method += " + content (sign of W - Wbase vs -exp_avg) for " + likely;
            List<String> open = new ArrayList<>();
            for (var e : opt.slots().entrySet()) {
                if (!found.containsKey(e.getKey())) {
                    open.add(e.getKey() + " " + Arrays.toString(e.getValue().shape()) + " (" + options.get(e.getKey()).size() + " candidates"
                            + scores.getOrDefault(e.getKey(), "") + ")");
                }
            }
            if (!open.isEmpty()) {
                notes.add(label + ": " + open.size() + " of " + opt.slots().size() + " moment sets unpaired"
                        + (evidence == null ? " (no base for content evidence)" : "") + ": "
                        + String.join(", ", open.subList(0, Math.min(MAX_LISTED, open.size()))) + (open.size() > MAX_LISTED ? ", ..." : ""));
            }
            return new Outcome(new ArrayList<>(found.values()), method, List.of());
        }

        private PoolFit fit(ParamPool pool) {
            List<OrderHypothesis.Result> exact = new ArrayList<>(), skipping = new ArrayList<>();
            List<String> rejected = new ArrayList<>();
            if (pool.orderKnown()) {
                for (ParamOrder order : ParamOrder.values()) {
                    for (OrderHypothesis h : OrderHypothesis.of(order, pool, opt)) {
                        OrderHypothesis.Result r = h.test();
                        if (!r.consistent()) rejected.add(h.name + ": " + r.failure());
                        else (h.exact() ? exact : skipping).add(r);
                    }
                }
            }
            if (!exact.isEmpty()) return new PoolFit(pool, 1, exact, rejected);
            if (!skipping.isEmpty()) return new PoolFit(pool, 2, skipping, rejected);
            return new PoolFit(pool, shapesFit(pool) ? 3 : 4, List.of(), rejected);
        }

        /** Every moment shape occurs in the pool at least as often as among the optimizer's moments. */
        private boolean shapesFit(ParamPool pool) {
            for (Slot s : opt.slots().values()) {
                long have = pool.candidates().stream().filter(c -> OrderHypothesis.fits(s, c)).count();
                long want = opt.slots().values().stream().filter(t -> Arrays.equals(t.shape(), s.shape())).count();
                if (have < want) return false;
            }
            return true;
        }

        private List<Set<Candidate>> structuralOptions(PoolFit fit, int n) {
            List<Set<Candidate>> options = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Set<Candidate> union = new LinkedHashSet<>();
                for (OrderHypothesis.Result r : fit.fitting) union.addAll(r.options().get(i));
                options.add(union);
            }
            return options;
        }

        /** Same-shape candidates of each index (a single one only if the shape is unique: {@link #shapesFit} holds). */
        private List<Set<Candidate>> shapeOptions(ParamPool pool, int n) {
            List<Set<Candidate>> options = new ArrayList<>();
            for (int i = 0; i < n; i++) options.add(new LinkedHashSet<>());
            for (var e : opt.slots().entrySet()) {
                Slot s = e.getValue();
                Set<Candidate> set = options.get(e.getKey());
                for (Candidate c : pool.candidates()) if (OrderHypothesis.fits(s, c)) set.add(c);
            }
            return options;
        }

        /** Checks structural pairs that have a same-shape rival; true when content clearly contradicts one. */
        private boolean contradicted(Map<Integer, Found> found, ParamPool pool) {
            int checked = 0, agreed = 0;
            for (Found f : found.values()) {
                List<Candidate> rivals = pool.candidates().stream().filter(c -> c != f.param && OrderHypothesis.fits(f.slot, c)).toList();
                if (rivals.isEmpty()) continue;
                Score own = evidence.score(f.slot, f.param);
                Candidate bestRival = null;
                Score rival = null;
                for (Candidate c : rivals) {
                    Score s = evidence.score(f.slot, c);
                    if (s != null && (rival == null || s.value() > rival.value())) {
                        rival = s;
                        bestRival = c;
                    }
                }
                if (own == null && rival == null) continue;
                checked++;
                if (ContentEvidence.decisive(rival, own)) {
                    notes.add(opt.label() + ": content contradicts the parameter order: state " + f.slot.id() + " scores "
                            + fmt(own) + " with " + f.param.region().key() + " but " + fmt(rival) + " with "
                            + bestRival.region().key() + "; order discarded");
                    return true;
                }
                if (ContentEvidence.decisive(own, rival)) agreed++;
            }
            if (checked > 0) notes.add(opt.label() + ": content confirms " + agreed + " of " + checked + " pairs that have a same-shape rival, contradicts none");
            return false;
        }

        /**
         * Pairs the shape classes {@link LayerOrder} proposes, unless content clearly prefers another tensor of a
         * class for one of its moment sets: then the convention is false for this optimizer and no class is paired
         * by it (vector classes, which content cannot check, would be as wrong). Returns how many pairs.
         */
        private int layerOrder(ParamPool pool, Map<Integer, Found> found) {
            Set<Candidate> taken = new HashSet<>();
            found.values().forEach(f -> taken.add(f.param));
            List<LayerOrder.Proposal> proposals = LayerOrder.propose(opt, pool, found.keySet(), taken, notes);
            List<Certainty> certainties = new ArrayList<>();
            List<String> confirmations = new ArrayList<>();
            for (LayerOrder.Proposal p : proposals) {
                int scored = 0, confirmed = 0;
                for (int k = 0; k < p.slots().size() && evidence != null; k++) {
                    Slot s = p.slots().get(k);
                    Candidate own = p.params().get(k), bestRival = null;
                    Score ownScore = evidence.score(s, own), rival = null;
                    for (Candidate c : p.params()) {
                        Score sc = c == own ? null : evidence.score(s, c);
                        if (sc != null && (rival == null || sc.value() > rival.value())) {
                            rival = sc;
                            bestRival = c;
                        }
                    }
                    if (ownScore == null && rival == null) continue;
                    scored++;
                    if (ContentEvidence.decisive(rival, ownScore)) {
                        notes.add(opt.label() + ": content contradicts layer order for " + p.describe() + ": state " + s.id()
                                + " scores " + fmt(ownScore) + " with " + own.region().key() + " but " + fmt(rival) + " with "
                                + bestRival.region().key() + "; layer order not used for this optimizer");
                        return 0;
                    }
                    if (ContentEvidence.decisive(ownScore, rival)) confirmed++;
                }
                certainties.add(scored > 0 && confirmed == p.slots().size() ? Certainty.LIKELY : Certainty.CONVENTION);
                confirmations.add(evidence == null ? "unconfirmed (no base)" : "content confirms " + confirmed + " of " + p.slots().size());
            }
            int n = 0;
            for (int i = 0; i < proposals.size(); i++) {
                LayerOrder.Proposal p = proposals.get(i);
                for (int k = 0; k < p.slots().size(); k++) {
                    found.put(p.indices().get(k), new Found(p.slots().get(k), p.params().get(k), certainties.get(i)));
                }
                notes.add(opt.label() + ": layer order pairs " + p.describe() + ", " + confirmations.get(i));
                n += p.slots().size();
            }
            List<Map.Entry<Integer, Found>> sorted = new ArrayList<>(found.entrySet());
            sorted.sort(Comparator.comparingInt(Map.Entry::getKey));
            found.clear();
            sorted.forEach(en -> found.put(en.getKey(), en.getValue()));
            return n;
        }

        /** Assigns undetermined indices by decisive content evidence; returns how many. */
        private int assignByContent(List<Set<Candidate>> options, Map<Integer, Found> found, Map<Integer, String> scores) {
            Set<Candidate> taken = new LinkedHashSet<>();
            found.values().forEach(f -> taken.add(f.param));
            Map<Integer, Candidate> proposals = new LinkedHashMap<>();
            Map<Candidate, Integer> claims = new HashMap<>();
            for (var e : opt.slots().entrySet()) {
                int i = e.getKey();
                if (found.containsKey(i)) continue;
                List<Candidate> cands = options.get(i).stream().filter(c -> !taken.contains(c)).toList();
                Candidate best = null;
                Score s1 = null, s2 = null;
                for (Candidate c : cands) {
                    Score s = evidence.score(e.getValue(), c);
                    if (s == null) continue;
                    if (s1 == null || s.value() > s1.value()) {
                        s2 = s1;
                        s1 = s;
                        best = c;
                    } else if (s2 == null || s.value() > s2.value()) {
                        s2 = s;
                    }
                }
                if (s1 != null) scores.put(i, ", content " + fmt(s1) + " vs " + fmt(s2));
                if (best != null && ContentEvidence.decisive(s1, s2)) {
                    proposals.put(i, best);
                    claims.merge(best, 1, Integer::sum);
                }
            }
            int n = 0;
            for (var p : proposals.entrySet()) {
                if (claims.get(p.getValue()) > 1) continue;
                found.put(p.getKey(), new Found(opt.slots().get(p.getKey()), p.getValue(), Certainty.LIKELY));
                n++;
            }
            long clashes = claims.values().stream().filter(c -> c > 1).count();
            if (clashes > 0) notes.add(opt.label() + ": content points " + clashes + " tensor(s) at several indices; those left unpaired");
            List<Map.Entry<Integer, Found>> sorted = new ArrayList<>(found.entrySet());
            sorted.sort(Comparator.comparingInt(Map.Entry::getKey));
            found.clear();
            sorted.forEach(en -> found.put(en.getKey(), en.getValue()));
            return n;
        }

        private static String levelName(int level) { return level == 1 ? "exactly" : "with skipped tensors"; }

        private static String fmt(Score s) { return s == null ? "n/a" : String.format(java.util.Locale.ROOT, "%.2f", s.value()); }
    }
}
