package io.excpfs.codec;

import java.util.Arrays;

/**
 * One contiguous run of tensor payload inside a checkpoint file.
 *
 * @param key    stable key path of the tensor inside the file, e.g. {@code model/transformer.h.0.attn.c_attn.weight}
 *               or {@code optimizer/state/3/exp_avg}; used to match a tensor with its predecessor in the previous
 *               checkpoint and with its moments. Unique within a file.
 * @param dtype  element type of the payload
 * @param shape  logical shape (for a torch storage shared by views: the flat element count)
 * @param offset absolute byte offset of the payload in the file
 * @param length payload length in bytes (= element count × dtype size)
 * @param role   what the payload holds
 */
public record TensorRegion(String key, DType dtype, long[] shape, long offset, long length, Role role) {
    public TensorRegion {
        if (offset < 0 || length < 0) throw new IllegalArgumentException("negative offset or length for " + key);
        shape = shape.clone();
    }

    public long elements() { return length / dtype.size(); }

    public long end() { return offset + length; }

    public TensorRegion withRole(Role newRole) { return new TensorRegion(key, dtype, shape, offset, length, newRole); }

    @Override public long[] shape() { return shape.clone(); }

    @Override public boolean equals(Object o) {
        return o instanceof TensorRegion t && key.equals(t.key) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && offset == t.offset && length == t.length && role == t.role;
    }

    @Override public int hashCode() { return key.hashCode() * 31 + Long.hashCode(offset); }

    @Override public String toString() {
        return key + " " + dtype + Arrays.toString(shape) + " @" + offset + "+" + length + " " + role;
    }
}
