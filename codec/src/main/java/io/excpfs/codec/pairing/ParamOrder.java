package io.excpfs.codec.pairing;

import io.excpfs.codec.pairing.ParamPool.Candidate;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * How trainers hand parameters to the optimizer, as orders over the model's {@code named_parameters()} (which is
 * state dict order without buffers and without repeated tied weights): one list, or a weight-decay list followed
 * by a no-decay list.
 */
enum ParamOrder {
    /** {@code AdamW(model.parameters())}: named_parameters order. */
    PLAIN("named_parameters order", null),
    /** nanoGPT {@code configure_optimizers}: decay = parameters with dim >= 2, no-decay = the rest. */
    DIM_SPLIT("decay (dim >= 2) / no-decay split", c -> c.shape().length >= 2),
    /** Hugging Face Trainer: decay = names without "bias" outside norm layers, no-decay = the rest. */
    NAME_SPLIT("decay (no bias, no norm) / no-decay split", ParamOrder::hfDecay);

    private static final Pattern NORM_MODULE = Pattern.compile("ln|ln[_.]?\\w*|.*norm.*");

    final String description;
    private final Predicate<Candidate> decay;

    ParamOrder(String description, Predicate<Candidate> decay) {
        this.description = description;
        this.decay = decay;
    }

    /** The segments the optimizer sees, each in named_parameters order: [all], or [decay, no-decay]. */
    List<List<Candidate>> segments(List<Candidate> params) {
        if (decay == null) return List.of(params);
        List<Candidate> yes = new ArrayList<>(), no = new ArrayList<>();
        for (Candidate c : params) (decay.test(c) ? yes : no).add(c);
        return List.of(yes, no);
    }

    boolean split() { return decay != null; }

    static boolean hfDecay(Candidate c) {
        String name = c.name();
        if (name.contains("bias")) return false;
        int dot = name.lastIndexOf('.');
        if (dot < 0) return true;
        String module = name.substring(0, dot);
        String last = module.substring(module.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
        return !NORM_MODULE.matcher(last).matches();
    }
}
