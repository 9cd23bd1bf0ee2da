package io.excpfs.fs.store.blob;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

/** {@link Blobs} in a local directory, on java.nio. Thread safe. */
public final class LocalBlobs implements Blobs {
    private final Path root;

    public LocalBlobs(Path root) {
        this.root = root;
    }

    private Path path(String name) throws IOException {
        if (name.equals(Blobs.ROOT)) return root;
        if (name.isEmpty() || name.startsWith("/") || name.contains("\\")) throw new IOException("invalid blob name '" + name + "'");
        for (String c : name.split("/")) {
            if (c.isEmpty() || c.equals(".") || c.equals("..")) throw new IOException("invalid blob name '" + name + "'");
        }
        return root.resolve(name);
    }

    @Override public BlobChannel create(String name) throws IOException {
        Path p = path(name);
        return new Local(FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE), p);
    }

    @Override public BlobChannel open(String name, boolean writable) throws IOException {
        Path p = path(name);
        FileChannel ch = writable
                ? FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(p, StandardOpenOption.READ);
        return new Local(ch, p);
    }

    @Override public void rename(String from, String to) throws IOException {
        Path t = path(to);
        if (Files.exists(t, java.nio.file.LinkOption.NOFOLLOW_LINKS)) throw new java.nio.file.FileAlreadyExistsException(t.toString());
        Files.move(path(from), t, StandardCopyOption.ATOMIC_MOVE);
    }

    @Override public boolean delete(String name) throws IOException {
        return Files.deleteIfExists(path(name));
    }

    @Override public boolean createDirectory(String dir) throws IOException {
        Path d = path(dir);
        if (Files.isDirectory(d)) return false;
        Files.createDirectories(d.getParent());
        try {
            Files.createDirectory(d);
            return true;
        } catch (java.nio.file.FileAlreadyExistsException e) {
            if (Files.isDirectory(d)) return false;
            throw e;
        }
    }

    @Override public void syncDirectory(String dir) throws IOException {
        try (FileChannel ch = FileChannel.open(path(dir), StandardOpenOption.READ)) {
            ch.force(true);
        } catch (NoSuchFileException e) {
            throw e;
        } catch (IOException e) {
            // some file systems refuse fsync on a directory (EINVAL); they order metadata themselves
            if (!String.valueOf(e.getMessage()).contains("Invalid argument")) throw e;
        }
    }

    @Override public List<String> list(String dir) throws IOException {
        Path d = path(dir);
        if (!Files.isDirectory(d)) return List.of();
        try (Stream<Path> s = Files.walk(d)) {
            return s.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                    .map(p -> root.relativize(p).toString().replace(java.io.File.separatorChar, '/')).toList();
        }
    }

    private static final class Local implements BlobChannel {
        private final FileChannel ch;
        private final Path path;
        private Writeback writeback;

        Local(FileChannel ch, Path path) {
            this.ch = ch;
            this.path = path;
        }

        @Override public long size() throws IOException { return ch.size(); }

        @Override public int read(ByteBuffer dst, long pos) throws IOException { return ch.read(dst, pos); }

        @Override public int write(ByteBuffer src, long pos) throws IOException { return ch.write(src, pos); }

        @Override public void truncate(long size) throws IOException { ch.truncate(size); }

        @Override public void force() throws IOException { ch.force(true); }

        @Override public synchronized void startWriteback(long pos, long length) {
            if (writeback == null) writeback = new Writeback(path);
            writeback.start(pos, length);
        }

        @Override public void close() throws IOException {
            synchronized (this) {
                if (writeback != null) writeback.close();
            }
            ch.close();
        }
    }
}
