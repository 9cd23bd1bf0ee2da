package io.excpfs.fs.store;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;

/** Damage done to a store's files on disk, as a bad disk or a stray write would. */
public final class Damage {
    private Damage() {}

    /** Flips one bit of the byte at {@code at} of {@code file}; returns {@code at}. */
    public static long flipBit(Path file, long at) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x10);
        }
        return at;
    }
}
