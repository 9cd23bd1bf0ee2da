package io.excpfs.codec;

/**
 * How sure a pairing is, strongest first; a pairing's certainty is that of its weakest pair. Every level but
 * {@link #NONE} is used by the encoder.
 */
public enum Certainty {
    /** From structure: the optimizer's param groups against the model's state dict order, or a unique shape. */
    CERTAIN,
    /** Decided by content: the weight moved against this {@code exp_avg} since the base, clearly more than a rival's. */
    LIKELY,
    /**
     * From a naming convention content has not confirmed: in a model file sorted by name, the tensors of one name
     * pattern ({@code h.*.mlp.c_fc.weight}) taken in numeric layer order, as a {@code ModuleList} registers them.
     * Wrong only for a trainer that enumerates the layers of a list out of order; content vetoes that when a base
     * exists.
     */
    CONVENTION,
    /** No pair: the encoder compresses every tensor unpaired. */
    NONE
}
