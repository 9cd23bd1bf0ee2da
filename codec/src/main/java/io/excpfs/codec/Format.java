package io.excpfs.codec;

/** Checkpoint container formats, detected by content, never by file name. */
public enum Format { SAFETENSORS, TORCH_ZIP, TORCH_LEGACY, NPY, NPZ, OPAQUE }
