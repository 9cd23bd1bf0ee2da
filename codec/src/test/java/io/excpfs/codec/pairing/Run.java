package io.excpfs.codec.pairing;

import io.excpfs.codec.Format;
import io.excpfs.codec.MomentPair;
import io.excpfs.codec.SetMember;
import io.excpfs.codec.TensorRef;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A simulated training run: a model's state dict (parameters and buffers), the list the optimizer was built from,
 * and two checkpoints of it. Between them each trained weight moved against its exp_avg (as Adam does), with noise;
 * buffers drifted at random; frozen and stateless parameters did not move.
 */
final class Run {
    record Tensor(String name, long[] shape, boolean buffer, boolean frozen, boolean stateless) {
        Tensor(String name, long... shape) { this(name, shape, false, false, false); }

        Tensor asBuffer() { return new Tensor(name, shape, true, false, false); }

        Tensor asFrozen() { return new Tensor(name, shape, false, true, false); }

        Tensor asStateless() { return new Tensor(name, shape, false, false, true); }

        int dim() { return shape.length; }
    }

    final List<Tensor> stateDict = new ArrayList<>();
    final Map<String, String> tied = new HashMap<>();
    List<List<Tensor>> groups;
    List<Double> decays;
    private final Map<String, float[]> before = new HashMap<>(), after = new HashMap<>(), expAvg = new HashMap<>(), expAvgSq = new HashMap<>();
    private final Random random;

    Run(long seed) { this.random = new Random(seed); }

    Run add(Tensor t) {
        stateDict.add(t);
        return this;
    }

    /** Inserts {@code t} into the state dict right after the tensor named {@code after}. */
    Run insertAfter(String after, Tensor t) {
        for (int i = 0; i < stateDict.size(); i++) {
            if (stateDict.get(i).name().equals(after)) {
                stateDict.add(i + 1, t);
                return this;
            }
        }
        throw new IllegalArgumentException("no " + after);
    }

    Run tie(String alias, String target) {
        tied.put(alias, target);
        return this;
    }

    /** named_parameters(): parameters in state dict order, without buffers and tied repeats. */
    List<Tensor> namedParameters() { return stateDict.stream().filter(t -> !t.buffer()).toList(); }

    private List<Tensor> trainable() { return namedParameters().stream().filter(t -> !t.frozen()).toList(); }

    Run nanoGptGroups() { return split(t -> t.dim() >= 2, 0.1); }

    Run hfGroups() { return split(t -> ParamOrder.hfDecay(new ParamPool.Candidate("", t.name(), null, 0, false)), 0.01); }

    Run plainGroup() {
        groups = List.of(trainable());
        decays = List.of(0.0);
        return this;
    }

    Run explicitGroups(List<List<String>> names, List<Double> wd) {
        Map<String, Tensor> byName = new HashMap<>();
        stateDict.forEach(t -> byName.put(t.name(), t));
        groups = names.stream().map(g -> g.stream().map(byName::get).toList()).toList();
        decays = wd;
        return this;
    }

    private Run split(Predicate<Tensor> decay, double wd) {
        List<Tensor> yes = trainable().stream().filter(decay).toList();
        List<Tensor> no = trainable().stream().filter(decay.negate()).toList();
        groups = List.of(yes, no);
        decays = List.of(wd, 0.0);
        return this;
    }

    List<Tensor> optimizerOrder() {
        List<Tensor> all = new ArrayList<>();
        groups.forEach(all::addAll);
        return all;
    }

    Run train() {
        for (Tensor t : stateDict) {
            int n = (int) Ckpt.elements(t.shape());
            float[] w0 = gauss(n, 0.02f), w1 = w0.clone(), m = new float[n], v = new float[n];
            boolean moves = !t.buffer() && !t.frozen() && !t.stateless();
            for (int i = 0; i < n; i++) {
                if (moves) {
                    m[i] = (float) random.nextGaussian() * 0.01f;
                    v[i] = m[i] * m[i] + 1e-6f;
                    w1[i] = w0[i] - 1e-3f * m[i] / (Math.abs(m[i]) + 0.005f) + (float) random.nextGaussian() * 5e-4f;
                } else if (t.buffer()) {
                    w1[i] = w0[i] + (float) random.nextGaussian() * 1e-3f;
                }
            }
            before.put(t.name(), w0);
            after.put(t.name(), w1);
            expAvg.put(t.name(), m);
            expAvgSq.put(t.name(), v);
        }
        return this;
    }

    private float[] gauss(int n, float scale) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = (float) random.nextGaussian() * scale;
        return out;
    }

    /** The model tensors into {@code c}, keys {@code prefix + name}, in state dict order or sorted by key. */
    void writeModel(Ckpt c, String prefix, boolean sorted, boolean current) { writeModel(c, prefix, sorted, current, name -> true); }

    /** The model tensors whose name {@code shard} accepts, as {@link #writeModel(Ckpt, String, boolean, boolean)}. */
    void writeModel(Ckpt c, String prefix, boolean sorted, boolean current, Predicate<String> shard) {
        List<Tensor> order = new ArrayList<>(stateDict);
        order.removeIf(t -> !shard.test(t.name()));
        if (sorted) order.sort(Comparator.comparing(Tensor::name));
        for (Tensor t : order) {
            c.tensor(prefix + t.name(), t.shape());
            if (before.containsKey(t.name())) c.values(prefix + t.name(), (current ? after : before).get(t.name()));
        }
        tied.forEach((alias, target) -> c.alias(prefix + alias, prefix + target));
    }

    /** The optimizer state dict into {@code c} under {@code prefix}, as torch's Optimizer.state_dict() lays it out. */
    void writeOptimizer(Ckpt c, String prefix, boolean withGroups) {
        List<Tensor> order = optimizerOrder();
        for (int i = 0; i < order.size(); i++) {
            Tensor t = order.get(i);
            if (t.stateless()) continue;
            String s = prefix + "state/" + i + "/";
            c.tensor(s + "step");
            c.tensor(s + "exp_avg", t.shape());
            c.tensor(s + "exp_avg_sq", t.shape());
            if (expAvg.containsKey(t.name())) {
                c.values(s + "exp_avg", expAvg.get(t.name()));
                c.values(s + "exp_avg_sq", expAvgSq.get(t.name()));
            }
        }
        if (!withGroups) return;
        int next = 0;
        for (int g = 0; g < groups.size(); g++) {
            List<String> ids = new ArrayList<>();
            for (int k = 0; k < groups.get(g).size(); k++) ids.add(String.valueOf(next++));
            c.meta(prefix + "param_groups/" + g + "/params", "[" + String.join(", ", ids) + "]");
            c.meta(prefix + "param_groups/" + g + "/weight_decay", String.valueOf(decays.get(g)));
            c.meta(prefix + "param_groups/" + g + "/lr", "0.0006");
        }
    }

    /** What a correct pairing contains: each optimizer index with state → its parameter. */
    Set<MomentPair> expected(String modelFile, String modelPrefix, String optFile, String optPrefix) {
        Set<MomentPair> out = new LinkedHashSet<>();
        List<Tensor> order = optimizerOrder();
        for (int i = 0; i < order.size(); i++) {
            if (order.get(i).stateless()) continue;
            String s = optPrefix + "state/" + i + "/";
            out.add(new MomentPair(new TensorRef(modelFile, modelPrefix + order.get(i).name()),
                    new TensorRef(optFile, s + "exp_avg"), new TensorRef(optFile, s + "exp_avg_sq")));
        }
        return out;
    }

    /** Layouts of the trainer families, current checkpoint with or without its predecessor as base. */
    enum Family {
        NANOGPT, LIGHTNING, HF_BIN, HF_SAFETENSORS, DEEPSPEED;

        List<SetMember> members(Run run, boolean withBase, boolean withGroups) {
            return build(run, withGroups, true, withBase ? build(run, withGroups, false, null) : null);
        }

        private List<SetMember> build(Run run, boolean withGroups, boolean current, List<SetMember> bases) {
            List<Ckpt> files = new ArrayList<>();
            switch (this) {
                case NANOGPT -> {
                    Ckpt c = new Ckpt("ckpt.pt", Format.TORCH_ZIP);
                    run.writeModel(c, "model/", false, current);
                    run.writeOptimizer(c, "optimizer/", withGroups);
                    c.meta("iter_num", "2000").meta("best_val_loss", "1.25");
                    files.add(c);
                }
                case LIGHTNING -> {
                    Ckpt c = new Ckpt("epoch=3-step=900.ckpt", Format.TORCH_ZIP);
                    run.writeModel(c, "state_dict/", false, current);
                    run.writeOptimizer(c, "optimizer_states/0/", withGroups);
                    c.meta("epoch", "3").meta("global_step", "900");
                    files.add(c);
                }
                case HF_BIN, HF_SAFETENSORS -> {
                    boolean st = this == HF_SAFETENSORS;
                    Ckpt model = new Ckpt(st ? "model.safetensors" : "pytorch_model.bin", st ? Format.SAFETENSORS : Format.TORCH_ZIP);
                    run.writeModel(model, "", st, current);
                    Ckpt opt = new Ckpt("optimizer.pt", Format.TORCH_ZIP);
                    run.writeOptimizer(opt, "", withGroups);
                    files.add(model);
                    files.add(opt);
                }
                case DEEPSPEED -> {
                    Ckpt model = new Ckpt("mp_rank_00_model_states.pt", Format.TORCH_ZIP);
                    run.writeModel(model, "module/", false, current);
                    Ckpt opt = new Ckpt("mp_rank_00_optim_states.pt", Format.TORCH_ZIP);
                    run.writeOptimizer(opt, "optimizer_state_dict/", withGroups);
                    files.add(model);
                    files.add(opt);
                }
            }
            List<SetMember> out = new ArrayList<>();
            for (int i = 0; i < files.size(); i++) {
                Ckpt c = files.get(i);
                out.add(current && bases != null ? c.member(reconstruct(bases.get(i))) : c.member(null));
            }
            return out;
        }

        private static io.excpfs.codec.Reconstruction reconstruct(SetMember m) {
            try {
                return io.excpfs.codec.Reconstruction.exact(m.layout(), m.bytes());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        Set<MomentPair> expected(Run run) {
            return switch (this) {
                case NANOGPT -> run.expected("ckpt.pt", "model/", "ckpt.pt", "optimizer/");
                case LIGHTNING -> run.expected("epoch=3-step=900.ckpt", "state_dict/", "epoch=3-step=900.ckpt", "optimizer_states/0/");
                case HF_BIN -> run.expected("pytorch_model.bin", "", "optimizer.pt", "");
                case HF_SAFETENSORS -> run.expected("model.safetensors", "", "optimizer.pt", "");
                case DEEPSPEED -> run.expected("mp_rank_00_model_states.pt", "module/", "mp_rank_00_optim_states.pt", "optimizer_state_dict/");
            };
        }
    }

    /** A small GPT-2: wte, wpe, layers of (ln_1, attn, ln_2, mlp), ln_f, lm_head tied to wte. */
    static Run gpt(long seed, int layers, int d, boolean biases, Function<Tensor, Tensor> edit) {
        Run r = new Run(seed);
        List<Tensor> ts = new ArrayList<>();
        ts.add(new Tensor("transformer.wte.weight", 96, d));
        ts.add(new Tensor("transformer.wpe.weight", 24, d));
        for (int l = 0; l < layers; l++) {
            String h = "transformer.h." + l + ".";
            ts.add(new Tensor(h + "ln_1.weight", d));
            if (biases) ts.add(new Tensor(h + "ln_1.bias", d));
            ts.add(new Tensor(h + "attn.c_attn.weight", 3L * d, d));
            if (biases) ts.add(new Tensor(h + "attn.c_attn.bias", 3L * d));
            ts.add(new Tensor(h + "attn.c_proj.weight", d, d));
            if (biases) ts.add(new Tensor(h + "attn.c_proj.bias", d));
            ts.add(new Tensor(h + "ln_2.weight", d));
            if (biases) ts.add(new Tensor(h + "ln_2.bias", d));
            ts.add(new Tensor(h + "mlp.c_fc.weight", 4L * d, d));
            if (biases) ts.add(new Tensor(h + "mlp.c_fc.bias", 4L * d));
            ts.add(new Tensor(h + "mlp.c_proj.weight", d, 4L * d));
            if (biases) ts.add(new Tensor(h + "mlp.c_proj.bias", d));
        }
        ts.add(new Tensor("transformer.ln_f.weight", d));
        if (biases) ts.add(new Tensor("transformer.ln_f.bias", d));
        for (Tensor t : ts) r.add(edit.apply(t));
        r.tie("lm_head.weight", "transformer.wte.weight");
        return r;
    }
}
