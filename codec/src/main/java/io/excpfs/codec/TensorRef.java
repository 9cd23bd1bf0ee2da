package io.excpfs.codec;

/** A tensor inside a checkpoint set: the member file's name (relative, e.g. {@code optimizer.pt}) and its key. */
public record TensorRef(String file, String key) {
    @Override public String toString() { return file + ":" + key; }
}
