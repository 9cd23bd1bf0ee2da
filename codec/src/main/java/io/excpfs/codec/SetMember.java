package io.excpfs.codec;

/**
 * One file of a checkpoint set, as given to pairing and encoding.
 *
 * @param name   name of the file inside its set (e.g. {@code model.safetensors}, {@code optimizer.pt}, {@code ckpt.pt})
 * @param bytes  the exact file content
 * @param layout its parsed layout
 * @param base   what a read of this file's previous version returns, or null when this version is a seed
 */
public record SetMember(String name, ByteSource bytes, Layout layout, Reconstruction base) {}
