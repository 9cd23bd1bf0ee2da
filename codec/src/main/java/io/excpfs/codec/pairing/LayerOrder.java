package io.excpfs.codec.pairing;

import io.excpfs.codec.pairing.OptimizerState.Slot;
import io.excpfs.codec.pairing.ParamPool.Candidate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The layer-order convention, for a model file whose order is not the state dict order (a safetensors file, sorted
 * by name): the layers of a {@code ModuleList} or {@code Sequential} are registered as {@code 0, 1, 2, ...}, so
 * {@code named_parameters()}, and with it every param group, lists the tensors of one name pattern
 * ({@code transformer.h.*.mlp.c_fc.weight}) in numeric layer order, whatever the name sort did to them
 * ({@code h.10} before {@code h.2}).
 *
 * <p>A shape class (the undetermined moment sets of one shape) is paired by it only when all of these hold:
 * <ul>
 *   <li>every untaken candidate of that shape has the same name pattern, where the pattern replaces dot-separated
 *       segments that are plain decimal numbers (no leading zero) by {@code *}; a class of several patterns is left
 *       alone, see below;</li>
 *   <li>the class has as many moment sets as candidates, at least two (an optimizer index without state, a frozen
 *       or unoptimized tensor of that shape breaks the count and stops it);</li>
 *   <li>the param groups are known and all the class's indices lie in one group (a trainer that builds a group per
 *       layer, e.g. layer-wise learning-rate decay, may list layers in any order).</li>
 * </ul>
 * Tensors and indices are then paired in numeric name order against index order. Content, where a base exists,
 * may still veto the convention for the whole optimizer ({@link MomentMatcher}).
 *
 * <p><b>Several patterns of one shape</b> (layer norms and biases of width d, or {@code q/k/v/o} projections of one
 * size) are not paired, even when the class's indices repeat with the layer period: the period says that each layer
 * holds one tensor of each pattern, but not in which order the module defines them (module source order, which the
 * name sort erased), and content does not score vectors. Even a search over the orders of each module's children,
 * anchored on the single-pattern tensors around them, leaves twins like {@code ln_1}/{@code ln_2} (same shapes, same
 * group) interchangeable; on GPT-2 it would settle only the two width-d biases per layer (0.1% of the benchmark
 * model's parameters).
 */
final class LayerOrder {
    private static final Pattern INDEX = Pattern.compile("0|[1-9][0-9]{0,8}");

    private LayerOrder() {}

    /** The tensors of one shape class paired by the convention; {@code params.get(k)} goes with {@code slots.get(k)}. */
    record Proposal(String pattern, long[] shape, int group, List<Integer> indices, List<Slot> slots, List<Candidate> params) {
        String describe() {
            return pattern + " " + Arrays.toString(shape) + " x" + slots.size() + " (group " + group + ", indices "
                    + indices.get(0) + ".." + indices.get(indices.size() - 1) + ")";
        }
    }

    /**
     * Proposals for the moment sets of {@code opt} not in {@code determined}, over the candidates of {@code pool}
     * not in {@code taken}; why a class was passed over goes to {@code notes}.
     */
    static List<Proposal> propose(OptimizerState opt, ParamPool pool, Set<Integer> determined, Set<Candidate> taken, List<String> notes) {
        Map<List<Long>, List<Integer>> classes = new LinkedHashMap<>();
        opt.slots().forEach((i, s) -> {
            if (!determined.contains(i)) classes.computeIfAbsent(key(s.shape()), k -> new ArrayList<>()).add(i);
        });
        List<Proposal> out = new ArrayList<>();
        List<String> passed = new ArrayList<>();
        for (var e : classes.entrySet()) {
            List<Integer> indices = e.getValue();
            long[] shape = opt.slots().get(indices.get(0)).shape();
            List<Candidate> cands = pool.candidates().stream()
                    .filter(c -> !taken.contains(c) && Arrays.equals(c.shape(), shape)).toList();
            Set<String> patterns = new LinkedHashSet<>();
            cands.forEach(c -> patterns.add(pattern(c.name())));
            String why = null;
            if (cands.size() != indices.size()) {
                why = indices.size() + " moment sets, " + cands.size() + " tensors";
            } else if (indices.size() < 2) {
                why = "single tensor";
            } else if (patterns.size() > 1) {
                why = patterns.size() + " name patterns, their order inside a layer is unknown";
            } else if (!patterns.iterator().next().contains("*")) {
                why = "no layer index in the names";
            } else if (opt.groups() == null) {
                why = "param groups unknown";
            } else if (groupOf(opt, indices) < 0) {
                why = "indices spread over several param groups";
            }
            if (why != null) {
                passed.add(Arrays.toString(shape) + " (" + why + ")");
                continue;
            }
            List<Candidate> sorted = new ArrayList<>(cands);
            sorted.sort(Comparator.comparing(Candidate::name, LayerOrder::numericOrder));
            List<Slot> slots = indices.stream().map(i -> opt.slots().get(i)).toList();
            out.add(new Proposal(patterns.iterator().next(), shape, groupOf(opt, indices), indices, slots, sorted));
        }
        if (!passed.isEmpty()) {
            notes.add(opt.label() + ": layer order not applied to shape " + String.join(", ", passed.subList(0, Math.min(8, passed.size())))
                    + (passed.size() > 8 ? ", ..." : ""));
        }
        return out;
    }

    /** The name with every dot-separated decimal segment replaced by {@code *}. */
    static String pattern(String name) {
        String[] seg = name.split("\\.", -1);
        for (int i = 0; i < seg.length; i++) if (INDEX.matcher(seg[i]).matches()) seg[i] = "*";
        return String.join(".", seg);
    }

    /** Names compared segment by segment, decimal segments as numbers: {@code h.2} before {@code h.10}. */
    static int numericOrder(String a, String b) {
        String[] x = a.split("\\.", -1), y = b.split("\\.", -1);
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            boolean nx = INDEX.matcher(x[i]).matches(), ny = INDEX.matcher(y[i]).matches();
            int c = nx && ny ? Long.compare(Long.parseLong(x[i]), Long.parseLong(y[i])) : x[i].compareTo(y[i]);
            if (c != 0) return c;
        }
        return Integer.compare(x.length, y.length);
    }

    /** The one param group holding all {@code indices}, or -1. */
    private static int groupOf(OptimizerState opt, List<Integer> indices) {
        for (int g = 0; g < opt.groups().size(); g++) {
            if (new HashSet<>(opt.groups().get(g)).containsAll(indices)) return g;
        }
        return -1;
    }

    private static List<Long> key(long[] shape) { return Arrays.stream(shape).boxed().toList(); }
}
