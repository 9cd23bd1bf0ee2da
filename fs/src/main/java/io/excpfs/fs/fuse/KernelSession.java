package io.excpfs.fs.fuse;

import io.excpfs.fs.ops.Attr;
import io.excpfs.fs.ops.Errno;
import io.excpfs.fs.ops.FileSystemOps;
import io.excpfs.fs.ops.FsException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import static io.excpfs.fs.fuse.KernelProtocol.*;

/**
 * Serves a {@link FileSystemOps} on a mounted {@link FuseDevice}, speaking the kernel protocol directly: a few
 * threads block in read(2) on the device, each decodes one request from its native buffer, calls the ops and
 * writes the reply with one write(2). Behaves as libfuse 2's high-level layer did for {@link FuseBoundary}:
 * paths from the {@link NodeTable}, hidden names for files unlinked or replaced while open (unless the ops lack
 * {@link HiddenNames}: then the name is removed at once), 1 s entry and attribute timeouts, no negative caching,
 * readdir entries without inode or type, the opener-versus-closer check on flush. The close of a handle opened with
 * {@code FOPEN_DIRECT_IO} is answered by one more thread, after it has dropped the file's cached pages
 * ({@link Invalidations}).
 *
 * <p>Namespace changes that move names (unlink, rmdir, rename) hold the namespace write lock while the ops and the
 * table change together; requests that resolve a path hold the read lock while they use it, so no path goes stale
 * under a call. Handle requests (read, write, flush, fsync, release) take no lock.
 */
final class KernelSession {
    private static final System.Logger LOG = System.getLogger(KernelSession.class.getName());
    private static final long ENTRY_SECONDS = 1, ATTR_SECONDS = 1;
    static final int BUFFER = (1 << 20) + 64 * 1024;

    private final FileSystemOps ops;
    private final FuseDevice device;
    private final KernelProtocol.Wanted wanted;
    private final NodeTable nodes = new NodeTable();
    private final ReadWriteLock namespace = new ReentrantReadWriteLock();
    private final Openers openers = new Openers();
    private final Map<Long, List<byte[]>> listings = new ConcurrentHashMap<>();
    private final AtomicLong nextDirHandle = new AtomicLong(1);
    private final AtomicInteger largestWrite = new AtomicInteger();
    private final AtomicInteger largestRead = new AtomicInteger();
    private final CompletableFuture<Integer> done = new CompletableFuture<>();
    /** Threads still serving the connection (the workers and {@link #invalidations}); the last one closes it. */
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger workers = new AtomicInteger();
    private volatile InitReply init;
    /** Whether write-only opens bypass the page cache ({@link KernelProtocol#directWrites}); set by INIT. */
    private volatile boolean directWrites;
    /** Handles opened with {@code FOPEN_DIRECT_IO}, until released. */
    private final Set<Long> directHandles = ConcurrentHashMap.newKeySet();
    private final Invalidations invalidations = new Invalidations();

    KernelSession(FileSystemOps ops, FuseDevice device, KernelProtocol.Wanted wanted) {
        this.ops = ops;
        this.device = device;
        this.wanted = wanted;
    }

    /** Starts {@code threads} workers; the returned future completes when the file system is unmounted. */
    CompletableFuture<Integer> start(int threads, String name) {
        workers.set(threads);
        running.set(threads + 1);
        Thread notifier = new Thread(invalidations, "fuse-inval " + name);
        notifier.setDaemon(true);
        notifier.start();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(this::serve, "fuse-kernel-" + i + " " + name);
            t.setDaemon(true);
            t.start();
        }
        return done;
    }

    /** The largest WRITE payload the kernel sent (bytes): shows the negotiated request size. */
    int largestWrite() { return largestWrite.get(); }

    int largestRead() { return largestRead.get(); }

    InitReply negotiated() { return init; }

    /** Whether write-only handles are opened with {@code FOPEN_DIRECT_IO} on this connection. */
    boolean directWrites() { return directWrites; }

    NodeTable nodes() { return nodes; }

    private void serve() {
        ByteBuffer in = FuseDevice.allocate(BUFFER);
        ByteBuffer out = FuseDevice.allocate(BUFFER);
        long inAddress = FuseDevice.address(in);
        Request r = new Request(in, out, FuseDevice.address(out));
        Throwable failure = null;
        try {
            while (true) {
                int n = device.read(inAddress, BUFFER);
                if (n < 0) break;
                if (n < IN_HEADER) {
                    LOG.log(Level.WARNING, "short FUSE request of " + n + " bytes ignored");
                    continue;
                }
                r.reset(n);
                if (!dispatch(r)) break;
            }
        } catch (Throwable t) {
            failure = t;
            LOG.log(Level.ERROR, "FUSE worker failed: " + t, t);
        } finally {
            if (workers.decrementAndGet() == 0) invalidations.stop();
            finished(failure);
        }
    }

    /** One serving thread has stopped; the last one closes the device (no thread writes to it any more). */
    private void finished(Throwable failure) {
        if (running.decrementAndGet() == 0) {
            device.close();
            if (failure == null) done.complete(0);
            else done.completeExceptionally(failure);
        }
    }

    /** One request being served on a worker's buffers. */
    private final class Request {
        final ByteBuffer in, out;
        final long outAddress;
        int length, opcode, uid, gid, pid;
        long unique, node;
        boolean replied, delivered;

        Request(ByteBuffer in, ByteBuffer out, long outAddress) {
            this.in = in;
            this.out = out;
            this.outAddress = outAddress;
        }

        void reset(int n) {
            length = Math.min(n, in.getInt(0));
            opcode = in.getInt(4);
            unique = in.getLong(8);
            node = in.getLong(16);
            uid = in.getInt(24);
            gid = in.getInt(28);
            pid = in.getInt(32);
            replied = delivered = false;
        }

        int arg() { return IN_HEADER; }

        /** Sends the reply; false once the connection is gone. */
        boolean reply(int payload) throws IOException {
            replied = true;
            outHeader(out, OUT_HEADER + payload, 0, unique);
            return sent(device.write(outAddress, OUT_HEADER + payload));
        }

        boolean error(int errno) throws IOException {
            replied = true;
            outHeader(out, OUT_HEADER, -errno, unique);
            return sent(device.write(outAddress, OUT_HEADER));
        }

        private boolean sent(int outcome) {
            delivered = outcome == FuseDevice.DELIVERED;
            return outcome != FuseDevice.CONNECTION_GONE;
        }

        String name(int at) { return string(in, at, length); }
    }

    @FunctionalInterface
    private interface Handler {
        boolean run(Request r) throws FsException, IOException;
    }

    /** Serves one request; false when the connection is gone. */
    private boolean dispatch(Request r) throws IOException {
        try {
            return switch (r.opcode) {
                case INIT -> init(r);
                case FORGET -> {
                    nodes.forget(r.node, r.in.getLong(IN_HEADER));
                    yield true;
                }
                case BATCH_FORGET -> batchForget(r);
                case INTERRUPT -> true;
                case DESTROY -> r.reply(0);
                case LOOKUP -> shared(r, this::lookup);
                case GETATTR -> shared(r, this::getattr);
                case SETATTR -> shared(r, this::setattr);
                case READLINK -> shared(r, this::readlink);
                case SYMLINK -> asCaller(r, this::symlink);
                case MKNOD -> asCaller(r, this::mknod);
                case MKDIR -> asCaller(r, this::mkdir);
                case UNLINK -> exclusive(r, this::unlink);
                case RMDIR -> exclusive(r, this::rmdir);
                case RENAME -> exclusive(r, x -> rename(x, x.in.getLong(IN_HEADER), IN_HEADER + 8, 0));
                case RENAME2 -> exclusive(r, x -> rename(x, x.in.getLong(IN_HEADER), IN_HEADER + 16, x.in.getInt(IN_HEADER + 8)));
                case LINK -> shared(r, this::link);
                case OPEN -> shared(r, this::open);
                case CREATE -> asCaller(r, this::create);
                case READ -> read(r);
                case WRITE -> write(r);
                case STATFS -> r.reply(statfs(r.out, OUT_HEADER, ops.statfs()));
                case RELEASE -> release(r);
                case FSYNC -> {
                    ops.fsync(r.in.getLong(IN_HEADER), (r.in.getInt(IN_HEADER + 8) & FSYNC_FDATASYNC) != 0);
                    yield r.reply(0);
                }
                case FLUSH -> flush(r);
                case SETXATTR -> shared(r, this::setxattr);
                case GETXATTR -> shared(r, this::getxattr);
                case LISTXATTR -> shared(r, this::listxattr);
                case REMOVEXATTR -> shared(r, this::removexattr);
                case OPENDIR -> shared(r, this::opendir);
                case READDIR -> shared(r, this::readdir);
                case RELEASEDIR -> {
                    listings.remove(r.in.getLong(IN_HEADER));
                    yield r.reply(0);
                }
                case FSYNCDIR -> r.reply(0);
                default -> r.error(Errno.ENOSYS.code);
            };
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            return r.replied || r.error(errno(r, t));
        }
    }

    /** The errno a request that failed with {@code t} answers: an EIO and anything unexpected are logged. */
    private int errno(Request r, Throwable t) {
        if (t instanceof FsException e) {
            if (e.errno() == Errno.EIO) LOG.log(Level.WARNING, opcodeName(r.opcode) + " " + describe(r) + ": " + e.getMessage(), e);
            return e.errno().code;
        }
        LOG.log(Level.ERROR, opcodeName(r.opcode) + " " + describe(r) + " failed: " + t, t);
        return Errno.EIO.code;
    }

    private String describe(Request r) {
        String p = nodes.pathOrNull(r.node);
        return p != null ? p : "node " + r.node;
    }

    private boolean shared(Request r, Handler h) throws FsException, IOException {
        return locked(namespace.readLock(), r, h);
    }

    private boolean exclusive(Request r, Handler h) throws FsException, IOException {
        return locked(namespace.writeLock(), r, h);
    }

    private static boolean locked(Lock lock, Request r, Handler h) throws FsException, IOException {
        lock.lock();
        try {
            return h.run(r);
        } finally {
            lock.unlock();
        }
    }

    /** Like {@link #shared}, with {@link Caller} set to the requesting user (ownership of new entries). */
    private boolean asCaller(Request r, Handler h) throws FsException, IOException {
        Caller.set(r.uid, r.gid);
        try {
            return shared(r, h);
        } finally {
            Caller.clear();
        }
    }

    // ------------------------------------------------------------------------------------------- session

    private boolean init(Request r) throws IOException {
        InitRequest req = InitRequest.read(r.in, IN_HEADER);
        InitReply reply;
        try {
            reply = negotiate(req, wanted);
        } catch (IllegalArgumentException e) {
            LOG.log(Level.ERROR, "FUSE INIT refused: " + e.getMessage());
            return r.error(Errno.EIO.code);
        }
        init = reply;
        directWrites = KernelProtocol.directWrites(req, wanted);
        LOG.log(Level.INFO, "FUSE " + req.major() + "." + req.minor() + ": requests up to " + reply.maxWrite() / 1024
                + " KiB, direct writes " + (directWrites ? "on" : "off") + " (write-only opens bypass the page cache)");
        LOG.log(Level.DEBUG, "FUSE INIT: kernel " + req + ", reply " + reply);
        return r.reply(reply.write(r.out, OUT_HEADER));
    }

    private boolean batchForget(Request r) {
        int count = r.in.getInt(IN_HEADER);
        int at = IN_HEADER + 8;
        for (int i = 0; i < count && at + 16 <= r.length; i++, at += 16) {
            nodes.forget(r.in.getLong(at), r.in.getLong(at + 8));
        }
        return true;
    }

    // ------------------------------------------------------------------------------------------- names

    /** Looks a new or existing name up after a call created it: one more lookup of its node, its entry. */
    private boolean entry(Request r, long parent, String name, String path) throws FsException, IOException {
        Attr a = ops.getattr(path);
        long id = nodes.lookedUp(parent, name);
        boolean alive = r.reply(KernelProtocol.entry(r.out, OUT_HEADER, id, a, ENTRY_SECONDS, ATTR_SECONDS));
        if (!r.delivered) nodes.forget(id, 1);
        return alive;
    }

    private boolean lookup(Request r) throws FsException, IOException {
        String name = r.name(r.arg());
        return entry(r, r.node, name, nodes.childPath(r.node, name));
    }

    /** Attributes by path, or through the handle when the node has no name left (libfuse 2's fgetattr). */
    private Attr attributes(long node, long fh, boolean hasHandle) throws FsException {
        String path = nodes.pathOrNull(node);
        if (path != null) return ops.getattr(path);
        if (hasHandle && ops instanceof HandleAttributes handles) return handles.fgetattr(fh);
        throw new FsException(Errno.ENOENT, "node " + node + " has no name (removed)");
    }

    private boolean getattr(Request r) throws FsException, IOException {
        boolean fh = (r.in.getInt(IN_HEADER) & GETATTR_FH) != 0;
        Attr a = attributes(r.node, r.in.getLong(IN_HEADER + 8), fh);
        return r.reply(attrOut(r.out, OUT_HEADER, r.node, a, ATTR_SECONDS));
    }

    private static long nanos(long seconds, int nsec) { return seconds * 1_000_000_000L + nsec; }

    private static long now() {
        java.time.Instant t = java.time.Instant.now();
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    /** chmod, chown, (f)truncate and utimens in libfuse 2's order, then the new attributes. */
    private boolean setattr(Request r) throws FsException, IOException {
        ByteBuffer in = r.in;
        int at = IN_HEADER;
        int valid = in.getInt(at);
        boolean hasHandle = (valid & FATTR_FH) != 0;
        long fh = in.getLong(at + 8);
        String path = nodes.pathOrNull(r.node);
        if ((valid & FATTR_MODE) != 0) ops.chmod(required(path, r), in.getInt(at + 68) & 07777);
        if ((valid & (FATTR_UID | FATTR_GID)) != 0) {
            int uid = (valid & FATTR_UID) != 0 ? in.getInt(at + 76) : -1;
            int gid = (valid & FATTR_GID) != 0 ? in.getInt(at + 80) : -1;
            ops.chown(required(path, r), uid, gid);
        }
        if ((valid & FATTR_SIZE) != 0) {
            long size = in.getLong(at + 16);
            if (hasHandle) ops.ftruncate(fh, size);
            else ops.truncate(required(path, r), size);
        }
        if ((valid & (FATTR_ATIME | FATTR_MTIME)) != 0) {
            long atime = (valid & FATTR_ATIME_NOW) != 0 ? now()
                    : (valid & FATTR_ATIME) != 0 ? nanos(in.getLong(at + 32), in.getInt(at + 56)) : Long.MIN_VALUE;
            long mtime = (valid & FATTR_MTIME_NOW) != 0 ? now()
                    : (valid & FATTR_MTIME) != 0 ? nanos(in.getLong(at + 40), in.getInt(at + 60)) : Long.MIN_VALUE;
            ops.utimens(required(path, r), atime, mtime);
        }
        Attr a = attributes(r.node, fh, hasHandle);
        return r.reply(attrOut(r.out, OUT_HEADER, r.node, a, ATTR_SECONDS));
    }

    private static String required(String path, Request r) throws FsException {
        if (path == null) throw new FsException(Errno.ENOENT, "node " + r.node + " has no name (file was removed)");
        return path;
    }

    private boolean readlink(Request r) throws FsException, IOException {
        byte[] target = ops.readlink(nodes.path(r.node)).getBytes(StandardCharsets.UTF_8);
        int n = Math.min(target.length, r.out.capacity() - OUT_HEADER);
        r.out.put(OUT_HEADER, target, 0, n);
        return r.reply(n);
    }

    private boolean symlink(Request r) throws FsException, IOException {
        String name = r.name(r.arg());
        String target = r.name(skipString(r.in, r.arg(), r.length));
        String path = nodes.childPath(r.node, name);
        ops.symlink(target, path);
        return entry(r, r.node, name, path);
    }

    private boolean mkdir(Request r) throws FsException, IOException {
        int mode = r.in.getInt(IN_HEADER);
        String name = r.name(IN_HEADER + 8);
        String path = nodes.childPath(r.node, name);
        ops.mkdir(path, mode & 07777);
        return entry(r, r.node, name, path);
    }

    /** A regular file is created and released at once (libfuse 2 with a create op); other types: ENOSYS. */
    private boolean mknod(Request r) throws FsException, IOException {
        int mode = r.in.getInt(IN_HEADER);
        String name = r.name(IN_HEADER + MKNOD_IN);
        if ((mode & Attr.S_IFMT) != Attr.S_IFREG) throw new FsException(Errno.ENOSYS, "mknod of type " + Integer.toOctalString(mode & Attr.S_IFMT));
        String path = nodes.childPath(r.node, name);
        long fh = ops.create(path, mode & 07777, FileSystemOps.O_CREAT | FileSystemOps.O_EXCL | FileSystemOps.O_WRONLY);
        try {
            return entry(r, r.node, name, path);
        } finally {
            ops.release(fh);
        }
    }

    private boolean link(Request r) throws FsException, IOException {
        long existing = r.in.getLong(IN_HEADER);
        String name = r.name(IN_HEADER + 8);
        String path = nodes.childPath(r.node, name);
        ops.link(nodes.path(existing), path);
        return entry(r, r.node, name, path);
    }

    /**
     * libfuse 2's hide: renames the open file named {@code name} in {@code dir} to a fresh hidden name in the same
     * directory (one no node and no file holds) and marks its node hidden.
     */
    private void hide(long dir, String name, String path) throws FsException {
        for (int attempt = 0; attempt < 10; attempt++) {
            String hidden = nodes.hiddenName(dir, name);
            if (hidden == null) break;
            String hiddenPath = nodes.childPath(dir, hidden);
            try {
                ops.getattr(hiddenPath);
                continue;
            } catch (FsException e) {
                if (e.errno() != Errno.ENOENT) throw e;
            }
            ops.rename(path, hiddenPath, 0);
            nodes.renamed(dir, name, dir, hidden, true);
            return;
        }
        throw new FsException(Errno.EBUSY, "no free hidden name for " + path);
    }

    private boolean hidesOpenFiles() { return ops instanceof HiddenNames; }

    private boolean unlink(Request r) throws FsException, IOException {
        String name = r.name(r.arg());
        String path = nodes.childPath(r.node, name);
        if (hidesOpenFiles() && nodes.isOpen(r.node, name)) {
            hide(r.node, name, path);
        } else {
            ops.unlink(path);
            nodes.removed(r.node, name);
        }
        return r.reply(0);
    }

    private boolean rmdir(Request r) throws FsException, IOException {
        String name = r.name(r.arg());
        ops.rmdir(nodes.childPath(r.node, name));
        nodes.removed(r.node, name);
        return r.reply(0);
    }

    private boolean rename(Request r, long newDir, int namesAt, int flags) throws FsException, IOException {
        String oldName = r.name(namesAt);
        String newName = r.name(skipString(r.in, namesAt, r.length));
        String from = nodes.childPath(r.node, oldName);
        String to = nodes.childPath(newDir, newName);
        if (flags == 0 && hidesOpenFiles() && nodes.isOpen(newDir, newName)
                && nodes.find(newDir, newName) != nodes.find(r.node, oldName)) {
            hide(newDir, newName, to);
        }
        ops.rename(from, to, flags);
        if ((flags & FileSystemOps.RENAME_EXCHANGE) != 0) nodes.exchanged(r.node, oldName, newDir, newName);
        else nodes.renamed(r.node, oldName, newDir, newName, false);
        return r.reply(0);
    }

    // ------------------------------------------------------------------------------------------- files

    private boolean opened(Request r, long node, long fh, int openFlags) throws IOException {
        try {
            nodes.opened(node);
        } catch (FsException e) {
            releaseUnseen(fh);
            return r.error(e.errno().code);
        }
        openers.opened(fh, r.pid);
        boolean alive = r.reply(openOut(r.out, OUT_HEADER, fh, openFlags));
        if (!r.delivered) closeUnseen(node, fh);
        return alive;
    }

    /**
     * {@code FOPEN_DIRECT_IO} for a write-only handle where the kernel keeps it coherent, else 0. The writer's
     * bytes then come to the daemon straight from its buffer, in requests of up to 1 MiB, instead of first being
     * copied into page-cache pages that only a reader could use: a torch.save is written once into the staging
     * file rather than twice through two page caches. Reads of the file keep the page cache and mmap.
     */
    private int writeMode(int flags, long fh) {
        if (!directWrites || (flags & FileSystemOps.O_ACCMODE) != FileSystemOps.O_WRONLY) return 0;
        directHandles.add(fh);
        return FOPEN_DIRECT_IO;
    }

    /** A handle whose open the kernel never saw (the open was interrupted): released here, as libfuse 2 does. */
    private void closeUnseen(long node, long fh) {
        openers.released(fh);
        releaseUnseen(fh);
        if (nodes.released(node)) unlinkHidden(node);
    }

    private void releaseUnseen(long fh) {
        directHandles.remove(fh);
        try {
            ops.release(fh);
        } catch (FsException | RuntimeException e) {
            LOG.log(Level.WARNING, "release of handle " + fh + " after an interrupted open: " + e);
        }
    }

    private boolean open(Request r) throws FsException, IOException {
        int flags = r.in.getInt(IN_HEADER);
        long fh = ops.open(nodes.path(r.node), flags);
        int openFlags = ops instanceof PageCacheHint hint && hint.keepCache(fh) ? FOPEN_KEEP_CACHE : 0;
        return opened(r, r.node, fh, openFlags | writeMode(flags, fh));
    }

    private boolean create(Request r) throws FsException, IOException {
        int flags = r.in.getInt(IN_HEADER);
        int mode = r.in.getInt(IN_HEADER + 4);
        String name = r.name(IN_HEADER + CREATE_IN);
        String path = nodes.childPath(r.node, name);
        long fh = ops.create(path, mode & 07777, flags);
        Attr a;
        long id;
        try {
            a = ops.getattr(path);
            id = nodes.lookedUp(r.node, name);
            nodes.opened(id);
        } catch (FsException | RuntimeException e) {
            ops.release(fh);
            throw e;
        }
        openers.opened(fh, r.pid);
        int at = OUT_HEADER + KernelProtocol.entry(r.out, OUT_HEADER, id, a, ENTRY_SECONDS, ATTR_SECONDS);
        boolean alive = r.reply(at - OUT_HEADER + openOut(r.out, at, fh, writeMode(flags, fh)));
        if (!r.delivered) {
            closeUnseen(id, fh);
            nodes.forget(id, 1);
        }
        return alive;
    }

    private boolean read(Request r) throws FsException, IOException {
        long fh = r.in.getLong(IN_HEADER);
        long offset = r.in.getLong(IN_HEADER + 8);
        int size = Math.min(r.in.getInt(IN_HEADER + 16), r.out.capacity() - OUT_HEADER);
        largestRead.accumulateAndGet(size, Math::max);
        if (ops instanceof DirectReads direct) {
            return r.reply(Math.max(0, direct.read(fh, offset, r.out.duplicate().position(OUT_HEADER).limit(OUT_HEADER + size))));
        }
        byte[] b = heapBuffer(size);
        int n = ops.read(fh, offset, b, size);
        if (n > 0) r.out.put(OUT_HEADER, b, 0, n);
        return r.reply(Math.max(0, n));
    }

    private final ThreadLocal<byte[]> heap = ThreadLocal.withInitial(() -> new byte[256 * 1024]);

    private byte[] heapBuffer(int size) {
        byte[] b = heap.get();
        if (b.length < size) heap.set(b = new byte[size]);
        return b;
    }

    private boolean write(Request r) throws FsException, IOException {
        long fh = r.in.getLong(IN_HEADER);
        long offset = r.in.getLong(IN_HEADER + 8);
        int size = r.in.getInt(IN_HEADER + 16);
        int at = IN_HEADER + WRITE_IN;
        if (at + size > r.length) throw new FsException(Errno.EINVAL, "WRITE of " + size + " bytes in a request of " + r.length);
        largestWrite.accumulateAndGet(size, Math::max);
        int n;
        if (ops instanceof DirectWrites direct) {
            n = direct.write(fh, offset, r.in.duplicate().position(at).limit(at + size));
        } else {
            byte[] b = heapBuffer(size);
            r.in.get(at, b, 0, size);
            n = ops.write(fh, offset, b, size);
        }
        r.out.putInt(OUT_HEADER, n).putInt(OUT_HEADER + 4, 0);
        return r.reply(8);
    }

    private void flushHandle(long fh, int pid) throws FsException {
        if (openers.isOpenersClose(fh, pid)) ops.flush(fh);
    }

    /** A close(2); that of a direct handle is answered by {@link Invalidations}, after the cache drop. */
    private boolean flush(Request r) throws IOException {
        long fh = r.in.getLong(IN_HEADER);
        int errno = flushOutcome(r, fh);
        if (directHandles.contains(fh)) {
            invalidations.thenReply(r, errno);
            return true;
        }
        return errno == 0 ? r.reply(0) : r.error(errno);
    }

    /** Flushes a handle: 0 or the errno its close returns. */
    private int flushOutcome(Request r, long fh) {
        try {
            flushHandle(fh, r.pid);
            return 0;
        } catch (FsException | RuntimeException e) {
            return errno(r, e);
        }
    }

    /**
     * After a close of a {@code FOPEN_DIRECT_IO} handle, drops the kernel's cached pages and attributes of the file
     * ({@code FUSE_NOTIFY_INVAL_INODE}) and only then answers the close, so this is done when close(2) returns:
     * since 6.6 the kernel invalidates a direct write's range before sending it, but a reader may cache that range
     * again from the daemon before the write arrives; newer kernels (6.18) invalidate after the write as well, older
     * ones rely on this. Once the writer has closed, every descriptor reads what it wrote.
     *
     * <p>On its own thread, never a worker's: the kernel serves the notification by locking each cached page of the
     * file, and a page whose READ (or cached WRITE) is still queued stays locked until a worker serves that request.
     * A worker writing the notification waits for the others; once every worker waits so, the transport hangs
     * (DirectWriteMountTest). The workers never wait for this thread, so the queued requests are served.
     */
    private final class Invalidations implements Runnable {
        private record Pending(long node, long unique, int errno) {}

        private static final Pending STOP = new Pending(0, 0, 0);
        private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();

        /** Queues the notification for {@code r}'s node, then the reply to {@code r} with {@code errno} (0: success). */
        void thenReply(Request r, int errno) {
            r.replied = true;
            queue.add(new Pending(r.node, r.unique, errno));
        }

        /** Stops the thread after what is queued (the workers have stopped). */
        void stop() { queue.add(STOP); }

        @Override
        public void run() {
            ByteBuffer out = FuseDevice.allocate(OUT_HEADER + 24);
            long address = FuseDevice.address(out);
            try {
                for (Pending p = queue.take(); p != STOP; p = queue.take()) {
                    try {
                        if (device.write(address, invalInode(out, p.node())) == FuseDevice.CONNECTION_GONE) {
                            LOG.log(Level.DEBUG, "cache of node " + p.node() + " not dropped: connection gone");
                        }
                    } catch (IOException | RuntimeException e) {
                        LOG.log(Level.WARNING, "cache of node " + p.node() + " not dropped: " + e);
                    }
                    try {
                        outHeader(out, OUT_HEADER, -p.errno(), p.unique());
                        device.write(address, OUT_HEADER);
                    } catch (IOException | RuntimeException e) {
                        LOG.log(Level.ERROR, "reply to the close of node " + p.node() + " not sent: " + e, e);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                finished(null);
            }
        }
    }

    /** The last close of a handle; after the last one of a hidden node, its hidden name is unlinked. */
    private boolean release(Request r) throws IOException {
        long fh = r.in.getLong(IN_HEADER);
        int releaseFlags = r.in.getInt(IN_HEADER + 12);
        boolean flushed = (releaseFlags & RELEASE_FLUSH) != 0;
        boolean invalidate = flushed && directHandles.contains(fh);
        int error = 0;
        if (flushed) error = flushOutcome(r, fh);
        try {
            directHandles.remove(fh);
            openers.released(fh);
            ops.release(fh);
        } catch (FsException e) {
            if (e.errno() == Errno.EIO) LOG.log(Level.WARNING, "release of handle " + fh + ": " + e.getMessage(), e);
            if (error == 0) error = e.errno().code;
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "release of handle " + fh + " failed: " + e, e);
            if (error == 0) error = Errno.EIO.code;
        } finally {
            if (nodes.released(r.node)) unlinkHidden(r.node);
        }
        if (invalidate) {
            invalidations.thenReply(r, error);
            return true;
        }
        return error == 0 ? r.reply(0) : r.error(error);
    }

    private void unlinkHidden(long node) {
        Lock lock = namespace.readLock();
        lock.lock();
        try {
            String path = nodes.pathOrNull(node);
            if (path != null) ops.unlink(path);
        } catch (FsException | RuntimeException e) {
            LOG.log(Level.WARNING, "unlink of the hidden name of node " + node + ": " + e);
        } finally {
            nodes.removed(node);
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------- xattrs, dirs

    /** The getxattr/listxattr size protocol: size 0 asks for the length; too small a buffer is ERANGE. */
    private static boolean sized(Request r, byte[] value, int size) throws FsException, IOException {
        if (size == 0) {
            r.out.putInt(OUT_HEADER, value.length).putInt(OUT_HEADER + 4, 0);
            return r.reply(8);
        }
        if (size < value.length) throw new FsException(Errno.ERANGE, "buffer of " + size + " < " + value.length);
        if (value.length > r.out.capacity() - OUT_HEADER) throw new FsException(Errno.ERANGE, "value of " + value.length + " bytes");
        r.out.put(OUT_HEADER, value);
        return r.reply(value.length);
    }

    private boolean getxattr(Request r) throws FsException, IOException {
        int size = r.in.getInt(IN_HEADER);
        String name = r.name(IN_HEADER + 8);
        return sized(r, ops.getxattr(nodes.path(r.node), name), size);
    }

    private boolean listxattr(Request r) throws FsException, IOException {
        int size = r.in.getInt(IN_HEADER);
        ByteArrayOutputStream names = new ByteArrayOutputStream();
        for (String name : ops.listxattr(nodes.path(r.node))) {
            names.writeBytes(name.getBytes(StandardCharsets.UTF_8));
            names.write(0);
        }
        return sized(r, names.toByteArray(), size);
    }

    private boolean setxattr(Request r) throws FsException, IOException {
        int size = r.in.getInt(IN_HEADER);
        int flags = r.in.getInt(IN_HEADER + 4);
        int nameAt = IN_HEADER + 8;
        String name = r.name(nameAt);
        int valueAt = skipString(r.in, nameAt, r.length);
        if (valueAt + size > r.length) throw new FsException(Errno.EINVAL, "setxattr value runs past the request");
        byte[] value = new byte[size];
        r.in.get(valueAt, value);
        ops.setxattr(nodes.path(r.node), name, value, flags);
        return r.reply(0);
    }

    private boolean removexattr(Request r) throws FsException, IOException {
        ops.removexattr(nodes.path(r.node), r.name(IN_HEADER));
        return r.reply(0);
    }

    private boolean opendir(Request r) throws FsException, IOException {
        nodes.path(r.node);
        long fh = nextDirHandle.getAndIncrement();
        return r.reply(openOut(r.out, OUT_HEADER, fh, 0));
    }

    /** The whole listing is taken at offset 0 and served from the handle after that (libfuse 2's readdir). */
    private boolean readdir(Request r) throws FsException, IOException {
        long fh = r.in.getLong(IN_HEADER);
        long offset = r.in.getLong(IN_HEADER + 8);
        int size = Math.min(r.in.getInt(IN_HEADER + 16), r.out.capacity() - OUT_HEADER);
        List<byte[]> entries = listings.get(fh);
        if (offset == 0 || entries == null) {
            List<String> names = ops.readdir(nodes.path(r.node));
            entries = new ArrayList<>(names.size() + 2);
            entries.add(new byte[] {'.'});
            entries.add(new byte[] {'.', '.'});
            for (String n : names) entries.add(n.getBytes(StandardCharsets.UTF_8));
            listings.put(fh, entries);
        }
        int at = OUT_HEADER, end = OUT_HEADER + size;
        for (long i = offset; i < entries.size(); i++) {
            int n = dirent(r.out, at, end, entries.get((int) i), i + 1);
            if (n == 0) break;
            at += n;
        }
        return r.reply(at - OUT_HEADER);
    }
}
