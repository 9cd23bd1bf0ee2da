package io.excpfs.codec;

/** Element types of tensor payload, with their size in bytes and whether the lossy codec may touch them. */
public enum DType {
    F64(8, true), F32(4, true), F16(2, true), BF16(2, true),
    I64(8, false), I32(4, false), I16(2, false), I8(1, false), U8(1, false), BOOL(1, false),
    /** Complex, fp8 and anything else: always kept exactly, as skeleton. */
    OTHER(1, false);

    private final int size;
    private final boolean isFloat;

    DType(int size, boolean isFloat) {
        this.size = size;
        this.isFloat = isFloat;
    }

    public int size() { return size; }

    /** True for the float types the codec computes on (in fp32) and writes back in their own type. */
    public boolean isFloat() { return isFloat; }
}
