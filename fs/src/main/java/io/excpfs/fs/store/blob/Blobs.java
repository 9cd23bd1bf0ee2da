package io.excpfs.fs.store.blob;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.util.List;

/**
 * Every file of a store except its metadata database: immutable objects under {@code objects/} and the files being
 * written under {@code staging/}. The store does all object and staging I/O through this interface, so a test can
 * inject faults (failed writes, short reads, flipped bits, a machine crash that loses what was not synced).
 *
 * <p>Names are relative to the store directory, '/'-separated, without "." or ".." ({@code objects/ab/<id>.raw});
 * the store directory itself is {@link #ROOT}.
 * Durability follows POSIX, not a particular file system: the content of a file survives a machine crash once
 * {@link BlobChannel#force} returned after its last change; a name (created, renamed, deleted) once
 * {@link #syncDirectory} of its directory returned after the change, and a new directory once its parent was
 * synced. Anything else may be lost or damaged by a crash. A rename is atomic: after a crash the file is under its
 * old name or its new one.
 */
public interface Blobs {
    /** The name of the store directory itself (for {@link #syncDirectory}). */
    String ROOT = ".";

    /** Creates a new empty file, open for reading and writing; fails with FileAlreadyExistsException if it exists. */
    BlobChannel create(String name) throws IOException;

    /** Opens an existing file; {@link NoSuchFileException} when it is missing. */
    BlobChannel open(String name, boolean writable) throws IOException;

    /** Renames {@code from} to {@code to} atomically; {@code to} must not exist. */
    void rename(String from, String to) throws IOException;

    /** Deletes a file; false when it was already gone. */
    boolean delete(String name) throws IOException;

    /** Creates a directory (and its missing parents); true when {@code dir} itself was created by this call. */
    boolean createDirectory(String dir) throws IOException;

    /** Makes the entries of {@code dir} durable (fsync of the directory). */
    void syncDirectory(String dir) throws IOException;

    /** The regular files below {@code dir} (to any depth), by name, in no particular order; empty when it is missing. */
    List<String> list(String dir) throws IOException;

    /** The whole content of a file. */
    default byte[] readAll(String name) throws IOException {
        try (BlobChannel ch = open(name, false)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE - 16) throw new IOException(name + " is too large to read at once (" + size + " bytes)");
            ByteBuffer b = ByteBuffer.allocate((int) size);
            ch.readFully(b, 0, name);
            return b.array();
        }
    }

    /** Creates {@code name} with {@code data} and forces it to stable storage (the name is not synced). */
    default void writeDurably(String name, byte[] data) throws IOException {
        try (BlobChannel ch = create(name)) {
            ch.writeFully(ByteBuffer.wrap(data), 0);
            ch.force();
        }
    }
}
