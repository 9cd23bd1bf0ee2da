package io.excpfs.codec.pairing;

import io.excpfs.codec.pairing.OptimizerState.Slot;
import io.excpfs.codec.pairing.ParamPool.Candidate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One structural guess at the list the optimizer enumerated: a {@link ParamOrder} over a pool, with each param
 * group bound to one of its segments. The optimizer's indices must then map, in order, onto that list, either onto
 * every element ({@linkplain #exact exact}) or onto a subsequence (skipping buffers and frozen parameters), with
 * every index that has moments landing on a tensor of the moments' shape.
 *
 * <p>{@link #test} computes, for every index, each position it can take in some valid mapping (leftmost and
 * rightmost greedy embeddings bound them), so an index whose set is a single tensor is determined by the hypothesis
 * whatever the other indices do.
 */
final class OrderHypothesis {
    final String name;
    private final List<Candidate> target;
    /** Allowed range of target positions for each optimizer index: [lo, hi). */
    private final int[] lo, hi;
    private final Slot[] slots;

    private OrderHypothesis(String name, List<Candidate> target, int[] lo, int[] hi, Slot[] slots) {
        this.name = name;
        this.target = target;
        this.lo = lo;
        this.hi = hi;
        this.slots = slots;
    }

    boolean exact() { return target.size() == slots.length; }

    /**
     * Builds the hypotheses of one order for one optimizer: for a split order with two groups, each binding of
     * groups to segments the weight decays allow; otherwise all indices over the concatenated segments.
     */
    static List<OrderHypothesis> of(ParamOrder order, ParamPool pool, OptimizerState opt) {
        int n = opt.indexCount();
        Slot[] slots = new Slot[n];
        opt.slots().forEach((i, s) -> { if (i < n) slots[i] = s; });
        List<List<Candidate>> seg = order.segments(pool.candidates());
        List<OrderHypothesis> out = new ArrayList<>();
        String base = order.description + " over " + pool.label();
        if (order.split() && opt.groups() != null && opt.groups().size() == 2) {
            double d0 = opt.decays().get(0), d1 = opt.decays().get(1);
            boolean decayFirst = !(d0 < d1), decaySecond = !(d0 > d1);
            if (decayFirst) out.add(bound(base + ", group 0 = decay", seg.get(0), seg.get(1), opt, slots));
            if (decaySecond) out.add(bound(base + ", group 0 = no-decay", seg.get(1), seg.get(0), opt, slots));
            return out;
        }
        List<Candidate> all = new ArrayList<>();
        seg.forEach(all::addAll);
        int[] lo = new int[n], hi = new int[n];
        Arrays.fill(hi, all.size());
        out.add(new OrderHypothesis(base, all, lo, hi, slots));
        return out;
    }

    private static OrderHypothesis bound(String name, List<Candidate> first, List<Candidate> second, OptimizerState opt, Slot[] slots) {
        List<Candidate> all = new ArrayList<>(first);
        all.addAll(second);
        int n = slots.length, g0 = opt.groups().get(0).size();
        int[] lo = new int[n], hi = new int[n];
        for (int i = 0; i < n; i++) {
            lo[i] = i < g0 ? 0 : first.size();
            hi[i] = i < g0 ? first.size() : all.size();
        }
        return new OrderHypothesis(name, all, lo, hi, slots);
    }

    /** Outcome: either the positions each index can take, or why no mapping exists. */
    record Result(OrderHypothesis hypothesis, List<Set<Candidate>> options, String failure) {
        boolean consistent() { return failure == null; }
    }

    Result test() {
        int n = slots.length, m = target.size();
        if (n > m) return fail("the optimizer has " + n + " parameters, the order lists " + m);
        int[] left = new int[n];
        int p = -1;
        for (int i = 0; i < n; i++) {
            p = Math.max(p + 1, lo[i]);
            while (p < hi[i] && !matches(i, p)) p++;
            if (p >= hi[i]) return fail(firstMismatch(i, p));
            left[i] = p;
        }
        int[] right = new int[n];
        p = m;
        for (int i = n - 1; i >= 0; i--) {
            p = Math.min(p - 1, hi[i] - 1);
            while (p >= lo[i] && !matches(i, p)) p--;
            if (p < lo[i]) return fail("index " + i + " has no place");
            right[i] = p;
        }
        List<Set<Candidate>> options = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Set<Candidate> set = new LinkedHashSet<>();
            for (int q = left[i]; q <= right[i]; q++) if (matches(i, q)) set.add(target.get(q));
            options.add(set);
        }
        return new Result(this, options, null);
    }

    private String firstMismatch(int i, int p) {
        Slot s = slots[i];
        String what = "optimizer index " + i + (s == null ? "" : " " + Arrays.toString(s.shape()));
        if (exact() && i < target.size()) return what + " vs " + target.get(i);
        return what + " finds no tensor of its shape in its segment";
    }

    private Result fail(String why) { return new Result(this, null, why); }

    private boolean matches(int i, int p) {
        Slot s = slots[i];
        return s == null || fits(s, target.get(p));
    }

    /** Same shape, or the same element count when the candidate is a torch storage shared by views (shape unknown). */
    static boolean fits(Slot s, Candidate c) {
        return Arrays.equals(s.shape(), c.shape()) || (c.flat() && s.elements() == c.region().elements());
    }
}
