package io.excpfs.codec.pairing;

import io.excpfs.codec.Layout;
import io.excpfs.codec.SetMember;
import io.excpfs.codec.TensorRef;
import io.excpfs.codec.TensorRegion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One torch optimizer's state dict found in a checkpoint set: its per-parameter Adam moments keyed by optimizer
 * index (or by name, for optimizers that key their state by parameter name) and, when the metadata holds them, its
 * param groups.
 *
 * @param file     member file holding it
 * @param prefix   key path prefix of the state dict ({@code ""}, {@code "optimizer/"}, {@code "optimizer_states/0/"})
 * @param slots    moments by optimizer index, in index order
 * @param named    moments of state keyed by parameter name (name → slot)
 * @param groups   optimizer indices of each param group, or null when the metadata does not give them
 * @param decays   weight decay of each group (NaN when unknown), or null with {@code groups}
 * @param problems what made the groups unusable, for the notes
 */
record OptimizerState(String file, String prefix, SortedMap<Integer, Slot> slots, Map<String, Slot> named,
                      List<List<Integer>> groups, List<Double> decays, List<String> problems) {

    /** The moments the optimizer keeps for one parameter; either may be null. */
    record Slot(String id, TensorRegion expAvg, TensorRegion expAvgSq, String file) {
        long[] shape() { return (expAvg != null ? expAvg : expAvgSq).shape(); }

        long elements() { return (expAvg != null ? expAvg : expAvgSq).elements(); }

        TensorRef expAvgRef() { return expAvg == null ? null : new TensorRef(file, expAvg.key()); }

        TensorRef expAvgSqRef() { return expAvgSq == null ? null : new TensorRef(file, expAvgSq.key()); }
    }

    String label() { return file + (prefix.isEmpty() ? "" : ":" + prefix.substring(0, prefix.length() - 1)); }

    /** Number of optimizer indices: from the groups when known, else one past the largest index with state. */
    int indexCount() {
        if (groups != null) return groups.stream().mapToInt(List::size).sum();
        return slots.isEmpty() ? 0 : slots.lastKey() + 1;
    }

    /** True when {@code key} lies in this optimizer's state dict. */
    boolean owns(String file, String key) { return this.file.equals(file) && key.startsWith(prefix); }

    /** Finds every optimizer state dict in the set, in member order then prefix order. */
    static List<OptimizerState> find(List<SetMember> members) {
        List<OptimizerState> found = new ArrayList<>();
        for (SetMember m : members) {
            Map<String, Map<String, TensorRegion[]>> byPrefix = new LinkedHashMap<>();
            for (TensorRegion r : m.layout().regions()) {
                MomentKey k = MomentKey.parse(r.key());
                if (k == null || !r.dtype().isFloat()) continue;
                TensorRegion[] pair = byPrefix.computeIfAbsent(k.prefix, p -> new LinkedHashMap<>())
                        .computeIfAbsent(k.id, i -> new TensorRegion[2]);
                pair[k.second ? 1 : 0] = r;
            }
            for (var e : byPrefix.entrySet()) found.add(build(m.name(), m.layout(), e.getKey(), e.getValue()));
        }
        return found;
    }

    private static OptimizerState build(String file, Layout layout, String prefix, Map<String, TensorRegion[]> byId) {
        TreeMap<Integer, Slot> slots = new TreeMap<>();
        Map<String, Slot> named = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (var e : byId.entrySet()) {
            TensorRegion a = e.getValue()[0], s = e.getValue()[1];
            if (a != null && s != null && a.elements() != s.elements()) {
                problems.add("state " + e.getKey() + ": exp_avg " + Arrays.toString(a.shape()) + " and exp_avg_sq "
                        + Arrays.toString(s.shape()) + " differ; left unpaired");
                continue;
            }
            Slot slot = new Slot(e.getKey(), a, s, file);
            Integer index = parseIndex(e.getKey());
            if (index != null) slots.put(index, slot); else named.put(e.getKey(), slot);
        }
        List<List<Integer>> groups = new ArrayList<>();
        List<Double> decays = new ArrayList<>();
        for (int g = 0; ; g++) {
            String base = prefix + "param_groups/" + g + "/";
            String params = layout.metadata().get(base + "params");
            if (params == null) break;
            List<Integer> indices = parseIntList(params);
            if (indices == null) {
                problems.add("param group " + g + ": params list unreadable: " + abbreviate(params));
                groups = null;
                break;
            }
            groups.add(indices);
            decays.add(parseDouble(layout.metadata().get(base + "weight_decay")));
        }
        if (groups != null && groups.isEmpty()) groups = null;
        if (groups != null) {
            List<Integer> all = new ArrayList<>();
            groups.forEach(all::addAll);
            String bad = null;
            for (int i = 0; i < all.size() && bad == null; i++) {
                if (all.get(i) != i) bad = "param groups do not enumerate indices 0.." + (all.size() - 1) + " in order";
            }
            for (int i : slots.keySet()) {
                if (bad == null && i >= all.size()) bad = "state " + i + " is in no param group";
            }
            if (bad != null) {
                problems.add(bad + "; groups ignored");
                groups = null;
            }
        }
        return new OptimizerState(file, prefix, slots, named, groups, groups == null ? null : decays, problems);
    }

    /** {@code <prefix>state/<id>/exp_avg|exp_avg_sq}. */
    private record MomentKey(String prefix, String id, boolean second) {
        static MomentKey parse(String key) {
            String[] seg = key.split("/", -1);
            int n = seg.length;
            if (n < 3 || !seg[n - 3].equals("state")) return null;
            boolean first = seg[n - 1].equals("exp_avg"), second = seg[n - 1].equals("exp_avg_sq");
            if (!first && !second) return null;
            String prefix = n == 3 ? "" : String.join("/", Arrays.copyOfRange(seg, 0, n - 3)) + "/";
            return new MomentKey(prefix, seg[n - 2], second);
        }
    }

    static Integer parseIndex(String s) {
        if (s.isEmpty() || s.length() > 9) return null;
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) < '0' || s.charAt(i) > '9') return null;
        return Integer.parseInt(s);
    }

    /** Parses {@code [0, 1, 2]}; null when it is not a complete list of non-negative ints. */
    static List<Integer> parseIntList(String text) {
        String t = text.strip();
        if (!t.startsWith("[") || !t.endsWith("]")) return null;
        String body = t.substring(1, t.length() - 1).strip();
        List<Integer> out = new ArrayList<>();
        if (body.isEmpty()) return out;
        for (String part : body.split(",")) {
            Integer v = parseIndex(part.strip());
            if (v == null) return null;
            out.add(v);
        }
        return out;
    }

    private static double parseDouble(String s) {
        if (s == null) return Double.NaN;
        try {
            return Double.parseDouble(s.strip());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    private static String abbreviate(String s) { return s.length() <= 40 ? s : s.substring(0, 37) + "..."; }
}
