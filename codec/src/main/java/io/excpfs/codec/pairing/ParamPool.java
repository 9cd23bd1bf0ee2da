package io.excpfs.codec.pairing;

import io.excpfs.codec.Format;
import io.excpfs.codec.Role;
import io.excpfs.codec.SetMember;
import io.excpfs.codec.TensorRef;
import io.excpfs.codec.TensorRegion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Float tensors that may be the parameters an optimizer steps: those of one member file under one parent key path
 * ({@code model/}, {@code state_dict/}, or the root of a {@code model.safetensors}), in file order.
 * A candidate whose region is a torch storage shared by several views has only its flat element count as shape.
 *
 * @param file       member file
 * @param parent     key path prefix shared by the candidates ({@code ""} at the root)
 * @param candidates in region order
 * @param orderKnown true when region order is the model's {@code state_dict} order (torch files); false for
 *                   safetensors, whose writer sorts keys by name
 */
record ParamPool(String file, String parent, List<Candidate> candidates, boolean orderKnown) {

    /** A tensor that may be a parameter. {@code name} is its key without the pool's parent path. */
    record Candidate(String file, String name, TensorRegion region, int member, boolean flat) {
        TensorRef ref() { return new TensorRef(file, region.key()); }

        long[] shape() { return region.shape(); }

        @Override public String toString() { return region.key() + " " + Arrays.toString(region.shape()); }
    }

    String label() { return file + (parent.isEmpty() ? "" : ":" + parent.substring(0, parent.length() - 1)); }

    /** Parent paths a trainer uses for its model's state dict; preferred when several pools fit equally. */
    boolean conventionalModel() {
        return switch (parent) {
            case "", "model/", "state_dict/", "module/", "model_state_dict/", "model_state/", "net/" -> true;
            default -> false;
        };
    }

    static List<ParamPool> find(List<SetMember> members, List<OptimizerState> optimizers) {
        Map<String, List<Candidate>> byPool = new LinkedHashMap<>();
        Map<String, Boolean> known = new LinkedHashMap<>();
        for (int mi = 0; mi < members.size(); mi++) {
            SetMember m = members.get(mi);
            for (TensorRegion r : m.layout().regions()) {
                if (!r.dtype().isFloat() || r.role() == Role.EXP_AVG || r.role() == Role.EXP_AVG_SQ
                        || r.role() == Role.NON_FLOAT || inOptimizer(m.name(), r.key(), optimizers)) {
                    continue;
                }
                int slash = r.key().lastIndexOf('/');
                String parent = slash < 0 ? "" : r.key().substring(0, slash + 1);
                String poolKey = mi + "\u0000" + parent;
                byPool.computeIfAbsent(poolKey, k -> new ArrayList<>())
                        .add(new Candidate(m.name(), r.key().substring(parent.length()), r, mi,
                                r.shape().length == 1 && m.layout().aliases().containsValue(r.key())));
                known.put(poolKey, m.layout().format() != Format.SAFETENSORS);
            }
        }
        List<ParamPool> pools = new ArrayList<>();
        for (var e : byPool.entrySet()) {
            String parent = e.getKey().substring(e.getKey().indexOf('\u0000') + 1);
            Candidate first = e.getValue().get(0);
            pools.add(new ParamPool(first.file(), parent, e.getValue(), known.get(e.getKey())));
        }
        return pools;
    }

    /** All pools of several files merged in member order (a sharded model). */
    static ParamPool union(List<ParamPool> pools) {
        List<Candidate> all = new ArrayList<>();
        boolean known = true;
        for (ParamPool p : pools) {
            all.addAll(p.candidates());
            known &= p.orderKnown();
        }
        return new ParamPool("*", "", all, known);
    }

    private static boolean inOptimizer(String file, String key, List<OptimizerState> optimizers) {
        for (OptimizerState o : optimizers) if (o.owns(file, key)) return true;
        String[] seg = key.split("/", -1);
        for (int i = 0; i + 2 < seg.length; i++) if (seg[i].equals("state") && OptimizerState.parseIndex(seg[i + 1]) != null) return true;
        return false;
    }
}
