package io.excpfs.fs.fuse;

import io.excpfs.fs.ops.Attr;
import io.excpfs.fs.ops.Errno;
import io.excpfs.fs.ops.FileSystemOps;
import io.excpfs.fs.ops.FsException;
import io.excpfs.fs.ops.StatFs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** A plain in-memory POSIX file system, to test the FUSE boundary independently of the store. */
final class MemoryOps implements FileSystemOps {
    private static final class Node {
        final long ino;
        int mode;
        int uid, gid;
        long atime, mtime, ctime;
        byte[] data = new byte[0];
        long size;
        String target;
        final TreeMap<String, Node> children = new TreeMap<>();
        final TreeMap<String, byte[]> xattrs = new TreeMap<>();

        Node(long ino, int mode) {
            this.ino = ino;
            this.mode = mode;
            atime = mtime = ctime = System.currentTimeMillis() * 1_000_000L;
        }

        boolean dir() { return (mode & Attr.S_IFMT) == Attr.S_IFDIR; }
    }

    private record Handle(Node node, int flags) {}

    private final AtomicLong inos = new AtomicLong(1);
    private final AtomicLong fhs = new AtomicLong(1);
    private final Node root = new Node(inos.getAndIncrement(), Attr.S_IFDIR | 0755);
    private final Map<Long, Handle> handles = new HashMap<>();
    final List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();

    private Node find(String path) throws FsException {
        Node n = root;
        for (String part : path.split("/")) {
            if (part.isEmpty()) continue;
            if (!n.dir()) throw new FsException(Errno.ENOTDIR, path);
            n = n.children.get(part);
            if (n == null) throw new FsException(Errno.ENOENT, path);
        }
        return n;
    }

    private Node parent(String path) throws FsException {
        Node p = find(path.substring(0, path.lastIndexOf('/')));
        if (!p.dir()) throw new FsException(Errno.ENOTDIR, path);
        return p;
    }

    private static String name(String path) { return path.substring(path.lastIndexOf('/') + 1); }

    private Node add(String path, int mode) throws FsException {
        Node p = parent(path);
        if (p.children.containsKey(name(path))) throw new FsException(Errno.EEXIST, path);
        Node n = new Node(inos.getAndIncrement(), mode);
        p.children.put(name(path), n);
        return n;
    }

    private Handle handle(long fh) throws FsException {
        Handle h = handles.get(fh);
        if (h == null) throw new FsException(Errno.EBADF, "fh " + fh);
        return h;
    }

    private static void resize(Node n, long size) {
        if (size > n.data.length) n.data = Arrays.copyOf(n.data, (int) Math.max(size, n.data.length * 2L));
        if (size < n.size) Arrays.fill(n.data, (int) size, (int) n.size, (byte) 0);
        n.size = size;
        n.mtime = n.ctime = System.currentTimeMillis() * 1_000_000L;
    }

    @Override public synchronized Attr getattr(String path) throws FsException {
        Node n = find(path);
        long size = n.dir() ? 4096 : n.target != null ? n.target.length() : n.size;
        return new Attr(n.ino, n.mode, n.dir() ? 2 : 1, n.uid, n.gid, size, n.atime, n.mtime, n.ctime);
    }

    @Override public synchronized List<String> readdir(String path) throws FsException {
        Node n = find(path);
        if (!n.dir()) throw new FsException(Errno.ENOTDIR, path);
        return new ArrayList<>(n.children.keySet());
    }

    @Override public synchronized void mkdir(String path, int mode) throws FsException {
        add(path, Attr.S_IFDIR | mode);
    }

    @Override public synchronized void rmdir(String path) throws FsException {
        Node n = find(path);
        if (!n.dir()) throw new FsException(Errno.ENOTDIR, path);
        if (!n.children.isEmpty()) throw new FsException(Errno.ENOTEMPTY, path);
        parent(path).children.remove(name(path));
    }

    @Override public synchronized void unlink(String path) throws FsException {
        if (find(path).dir()) throw new FsException(Errno.EISDIR, path);
        parent(path).children.remove(name(path));
    }

    @Override public synchronized void rename(String from, String to, int flags) throws FsException {
        calls.add("rename " + from + " " + to);
        Node n = find(from);
        Node target = parent(to).children.get(name(to));
        if (target != null) {
            if (target.dir() && !n.dir()) throw new FsException(Errno.EISDIR, to);
            if (!target.dir() && n.dir()) throw new FsException(Errno.ENOTDIR, to);
            if (target.dir() && !target.children.isEmpty()) throw new FsException(Errno.ENOTEMPTY, to);
        }
        parent(from).children.remove(name(from));
        parent(to).children.put(name(to), n);
    }

    @Override public synchronized void symlink(String target, String linkPath) throws FsException {
        add(linkPath, Attr.S_IFLNK | 0777).target = target;
    }

    @Override public synchronized String readlink(String path) throws FsException {
        Node n = find(path);
        if (n.target == null) throw new FsException(Errno.EINVAL, path);
        return n.target;
    }

    @Override public void link(String existing, String newPath) throws FsException {
        throw new FsException(Errno.EPERM, "hard links are not supported");
    }

    @Override public synchronized void chmod(String path, int mode) throws FsException {
        Node n = find(path);
        n.mode = (n.mode & Attr.S_IFMT) | (mode & 07777);
    }

    @Override public synchronized void chown(String path, int uid, int gid) throws FsException {
        Node n = find(path);
        if (uid != -1) n.uid = uid;
        if (gid != -1) n.gid = gid;
    }

    @Override public synchronized void utimens(String path, long atimeNanos, long mtimeNanos) throws FsException {
        Node n = find(path);
        if (atimeNanos != Long.MIN_VALUE) n.atime = atimeNanos;
        if (mtimeNanos != Long.MIN_VALUE) n.mtime = mtimeNanos;
    }

    @Override public synchronized void truncate(String path, long size) throws FsException {
        Node n = find(path);
        if (n.dir()) throw new FsException(Errno.EISDIR, path);
        resize(n, size);
    }

    @Override public synchronized long create(String path, int mode, int flags) throws FsException {
        Node n;
        try {
            n = find(path);
            if ((flags & O_EXCL) != 0) throw new FsException(Errno.EEXIST, path);
            if ((flags & O_TRUNC) != 0) resize(n, 0);
        } catch (FsException e) {
            if (e.errno() != Errno.ENOENT) throw e;
            n = add(path, Attr.S_IFREG | mode);
        }
        long fh = fhs.getAndIncrement();
        handles.put(fh, new Handle(n, flags));
        return fh;
    }

    @Override public synchronized long open(String path, int flags) throws FsException {
        Node n = find(path);
        if (n.dir()) throw new FsException(Errno.EISDIR, path);
        if ((flags & O_TRUNC) != 0 && (flags & O_ACCMODE) != O_RDONLY) resize(n, 0);
        calls.add("open " + path + " " + Integer.toOctalString(flags & (O_TRUNC | O_ACCMODE)));
        long fh = fhs.getAndIncrement();
        handles.put(fh, new Handle(n, flags));
        return fh;
    }

    @Override public synchronized int read(long fh, long offset, byte[] dst, int len) throws FsException {
        Node n = handle(fh).node;
        if (offset >= n.size) return 0;
        int count = (int) Math.min(len, n.size - offset);
        System.arraycopy(n.data, (int) offset, dst, 0, count);
        return count;
    }

    /**
     * When set, every write first counts down {@code arrived} and then waits for {@code open}, outside the lock: a
     * write the kernel has sent that the file system has not applied yet, while other calls go on.
     */
    record WriteGate(CountDownLatch arrived, CountDownLatch open) {}

    volatile WriteGate writeGate;

    @Override public int write(long fh, long offset, byte[] src, int len) throws FsException {
        WriteGate gate = writeGate;
        if (gate != null) {
            gate.arrived().countDown();
            try {
                if (!gate.open().await(30, TimeUnit.SECONDS)) throw new FsException(Errno.EIO, "write gate never opened");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FsException(Errno.EIO, "interrupted at the write gate");
            }
        }
        Errno error = writeError;
        if (error != null && offset >= writeErrorFrom) throw new FsException(error, "write of handle " + fh + " at " + offset + " refused");
        return apply(fh, offset, src, len);
    }

    private synchronized int apply(long fh, long offset, byte[] src, int len) throws FsException {
        Handle h = handle(fh);
        calls.add("write ino " + h.node.ino + " " + offset + " " + len);
        if ((h.flags & O_ACCMODE) == O_RDONLY) throw new FsException(Errno.EBADF, "read-only handle");
        long at = (h.flags & O_APPEND) != 0 ? h.node.size : offset;
        if (at + len > h.node.size) resize(h.node, at + len);
        System.arraycopy(src, 0, h.node.data, (int) at, len);
        h.node.mtime = System.currentTimeMillis() * 1_000_000L;
        return len;
    }

    @Override public synchronized void ftruncate(long fh, long size) throws FsException {
        resize(handle(fh).node, size);
    }

    @Override public synchronized void fsync(long fh, boolean dataOnly) throws FsException {
        handle(fh);
        calls.add("fsync " + fh);
    }

    /** When set, every flush passes this gate as a write passes {@link #writeGate}: a close the daemon is still serving. */
    volatile WriteGate flushGate;
    /** When set, every write from offset {@link #writeErrorFrom} on fails with this error (a full or failing disk). */
    volatile Errno writeError;
    volatile long writeErrorFrom;

    @Override public void flush(long fh) throws FsException {
        WriteGate gate = flushGate;
        if (gate != null) {
            gate.arrived().countDown();
            try {
                if (!gate.open().await(30, TimeUnit.SECONDS)) throw new FsException(Errno.EIO, "flush gate never opened");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FsException(Errno.EIO, "interrupted at the flush gate");
            }
        }
        synchronized (this) {
            handle(fh);
            calls.add("flush " + fh);
        }
    }

    @Override public synchronized void release(long fh) throws FsException {
        if (handles.remove(fh) == null) throw new FsException(Errno.EBADF, "fh " + fh);
        calls.add("release " + fh);
    }

    @Override public synchronized byte[] getxattr(String path, String name) throws FsException {
        byte[] v = find(path).xattrs.get(name);
        if (v == null) throw new FsException(Errno.ENODATA, name);
        return v;
    }

    @Override public synchronized void setxattr(String path, String name, byte[] value, int flags) throws FsException {
        Node n = find(path);
        if ((flags & XATTR_CREATE) != 0 && n.xattrs.containsKey(name)) throw new FsException(Errno.EEXIST, name);
        if ((flags & XATTR_REPLACE) != 0 && !n.xattrs.containsKey(name)) throw new FsException(Errno.ENODATA, name);
        n.xattrs.put(name, value.clone());
    }

    @Override public synchronized List<String> listxattr(String path) throws FsException {
        return new ArrayList<>(find(path).xattrs.keySet());
    }

    @Override public synchronized void removexattr(String path, String name) throws FsException {
        if (find(path).xattrs.remove(name) == null) throw new FsException(Errno.ENODATA, name);
    }

    @Override public StatFs statfs() {
        return new StatFs(4096, 1 << 20, 1 << 19, 1 << 19, 1000, 500, 255);
    }

    @Override public void flushAll() {}

    @Override public void close() {}

    synchronized int openHandles() { return handles.size(); }
}
