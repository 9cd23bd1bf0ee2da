package io.excpfs.fs.mount;

import io.excpfs.fs.fuse.Caller;
import io.excpfs.fs.fuse.DirectReads;
import io.excpfs.fs.fuse.DirectWrites;
import io.excpfs.fs.fuse.HandleAttributes;
import io.excpfs.fs.fuse.HiddenNames;
import io.excpfs.fs.fuse.PageCacheHint;
import io.excpfs.fs.ops.Attr;
import io.excpfs.fs.ops.Errno;
import io.excpfs.fs.ops.FileSystemOps;
import io.excpfs.fs.ops.FsException;
import io.excpfs.fs.ops.StatFs;
import io.excpfs.fs.store.CorruptDataException;
import io.excpfs.fs.store.Store;
import io.excpfs.fs.store.VersionInfo;
import io.excpfs.fs.store.VersionState;
import io.excpfs.fs.store.VersionStatus;
import io.excpfs.fs.store.VersionView;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * POSIX file system semantics over the versioned {@link Store}: what the mount serves.
 *
 * <ul>
 * <li>Every handle of a regular file shares the inode's {@link Draft}: the version current at the first open
 *     (pinned), then the staging file of the changes. A handle opened for writing without O_TRUNC starts from the
 *     current content. The last {@code close(2)} after writes ({@link #flush} of the only writable handle, so close
 *     returns the outcome), the release of the last writable handle, or {@link #fsync} seals the changes into a new
 *     HOT version, which the draft continues from; nothing is sealed when nothing changed.</li>
 * <li>So a read-only handle follows in-place changes of its inode, as POSIX asks and as the kernel's page cache
 *     (one per inode) does anyway: it never mixes two versions. Once the inode is unlinked or replaced by a rename,
 *     its handles keep reading (and writing) the content it had; a version demoted meanwhile stays readable.</li>
 * <li>A file unlinked or replaced while open is kept by libfuse under a hidden name ({@code .fuse_hidden*}, see
 *     {@link #hide}) that the store never holds: fstat(2) of its descriptors works, and its directory can still be
 *     removed.</li>
 * <li>{@code /.excp} (hidden from the root listing) is a read-only control tree: {@code /.excp/history/<path>@<id>}
 *     lists every overwritten, replaced or deleted version still kept, as read-only files;
 *     writing anything to {@code /.excp/flush} returns once all pending demotions and encodes are committed.</li>
 * <li>Every regular file has read-only extended attributes {@code user.excp.state} (hot, cold, opaque, or staging
 *     while unsealed changes are open), {@code user.excp.kind} (hot, seed, residual, opaque, or empty),
 *     {@code user.excp.version}, {@code user.excp.lineage} and {@code user.excp.ratio} (raw/stored bytes).</li>
 * </ul>
 */
public final class StoreFileSystem implements FileSystemOps, HandleAttributes, PageCacheHint, DirectWrites, DirectReads,
        HiddenNames {
    static final System.Logger LOG = System.getLogger(StoreFileSystem.class.getName());
    static final String CONTROL = "/.excp", HISTORY = "/.excp/history", FLUSH = "/.excp/flush";
    static final String XATTR_PREFIX = "user.excp.";
    static final List<String> VIRTUAL_XATTRS =
            List.of("user.excp.state", "user.excp.kind", "user.excp.version", "user.excp.lineage", "user.excp.ratio");
    private static final long VIRTUAL_INO = 1L << 62;

    /** An open file; {@code opened} is its attributes at open time (fstat after unlink). */
    private sealed interface Handle permits ViewHandle, DraftHandle, FlushHandle {
        Attr opened();
    }

    /** Reads a history version, which never changes; {@code keepCache}: see {@link #keepCache}. */
    private record ViewHandle(VersionView view, Attr opened, boolean keepCache) implements Handle {}

    /** A handle on a live regular file; {@code keepCache}: see {@link #keepCache}. */
    private record DraftHandle(Draft draft, int flags, Attr opened, boolean keepCache) implements Handle {
        boolean writable() { return writable(flags); }

        static boolean writable(int flags) { return (flags & O_ACCMODE) != O_RDONLY; }
    }

    private record FlushHandle(Attr opened) implements Handle {}

    private final Store store;
    private final Map<Long, Handle> handles = new ConcurrentHashMap<>();
    /** Drafts by inode; the map's monitor guards it and every {@link Draft#refs}. */
    private final Map<Long, Draft> drafts = new HashMap<>();
    private final AtomicLong nextFh = new AtomicLong(1);
    /**
     * The version each inode was last opened at read-only, while no handle that may write was opened on it since:
     * the kernel's page cache for the inode then holds only bytes of that version, which never change.
     */
    private final Map<Long, Long> cachedVersion = new ConcurrentHashMap<>();
    /** Counts writer attaches and seals, so an open that raced a writer never vouches for the kernel's pages. */
    private final AtomicLong draftEpoch = new AtomicLong();
    private final long mountedNanos = System.currentTimeMillis() * 1_000_000L;

    public StoreFileSystem(Store store) {
        this.store = store;
    }

    public Store store() { return store; }

    // ------------------------------------------------------------------------------------------- helpers

    private static boolean isControl(String path) {
        return path.equals(CONTROL) || path.startsWith(CONTROL + "/");
    }

    private static FsException readOnly(String path) {
        return new FsException(Errno.EROFS, path + " is part of the read-only control tree " + CONTROL);
    }

    private static void requireLive(String... paths) throws FsException {
        for (String p : paths) if (isControl(p)) throw readOnly(p);
    }

    private static FsException io(String what, IOException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("No space left on device") || m.contains("Disk quota exceeded")) {
            LOG.log(Level.WARNING, what + ": " + m);
            return new FsException(Errno.ENOSPC, what + ": " + m, e);
        }
        if (e instanceof CorruptDataException) {
            LOG.log(Level.ERROR, what + ": corrupt data: " + e.getMessage());
            return new FsException(Errno.EIO, what + ": " + e.getMessage(), e);
        }
        LOG.log(Level.ERROR, what + ": " + e);
        return new FsException(Errno.EIO, what + ": " + e.getMessage(), e);
    }

    private Handle handle(long fh) throws FsException {
        Handle h = handles.get(fh);
        if (h == null) throw new FsException(Errno.EBADF, "no open handle " + fh);
        return h;
    }

    private long register(Handle h) {
        long fh = nextFh.getAndIncrement();
        handles.put(fh, h);
        return fh;
    }

    /** The inode's draft, created on the first open; one more handle on it ({@code write}: one that may write). */
    private Draft attach(long ino, boolean write) {
        if (write) {
            draftEpoch.incrementAndGet();
            cachedVersion.remove(ino);
        }
        synchronized (drafts) {
            Draft d = drafts.computeIfAbsent(ino, Draft::new);
            d.refs++;
            if (write) d.writers++;
            return d;
        }
    }

    /**
     * Whether the kernel may keep its pages for a read-only open of {@code d}: the draft holds exactly its pinned
     * version, no writer is open, and the previous open of the inode read that same version. {@code epoch}:
     * {@link #draftEpoch} before the draft was attached.
     */
    private boolean keepCacheFor(Draft d, long epoch) {
        boolean clean;
        synchronized (drafts) {
            clean = d.writers == 0;
        }
        long id = d.baseVersion();
        if (clean && d.isClean() && id != 0 && draftEpoch.get() == epoch) {
            Long before = cachedVersion.put(d.ino, id);
            return before != null && before == id;
        }
        cachedVersion.remove(d.ino);
        return false;
    }

    /**
     * A read-only handle on a history version; the kernel keeps its page cache when it holds this very version.
     * {@code epoch}: {@link #draftEpoch} before the version was looked up.
     */
    private long registerView(VersionView view, Attr a, long epoch) {
        boolean keep = false;
        if (view != null && draftEpoch.get() == epoch) {
            long id = view.info().id();
            Long before = cachedVersion.put(a.ino(), id);
            keep = before != null && before == id;
        } else {
            cachedVersion.remove(a.ino());
        }
        return register(new ViewHandle(view, a, keep));
    }

    @Override
    public boolean keepCache(long fh) {
        Handle h = handles.get(fh);
        return h instanceof ViewHandle v && v.keepCache() || h instanceof DraftHandle d && d.keepCache();
    }

    /**
     * Drops one handle ({@code write}: one that may write). Pending changes are sealed when the last handle that
     * may write goes, or the last handle at all (a seal that failed before is retried); the last handle forgets
     * the draft.
     */
    private void detach(Draft d, boolean write) throws FsException {
        boolean sealNow;
        synchronized (drafts) {
            d.refs--;
            if (write) d.writers--;
            sealNow = write && d.writers == 0 || d.refs == 0;
        }
        FsException failure = null;
        if (sealNow && d.isDirty()) {
            draftEpoch.incrementAndGet();
            cachedVersion.remove(d.ino);
            try {
                seal(d);
            } catch (FsException e) {
                failure = e;
            }
        }
        boolean gone;
        synchronized (drafts) {
            gone = d.refs == 0;
            if (gone) {
                if (drafts.get(d.ino) == d) drafts.remove(d.ino);
                d.discard();
            }
        }
        if (gone && !hidden.isEmpty()) hidden.values().removeIf(h -> h.draft() == d);
        if (failure != null) throw failure;
    }

    /** Detaches the draft of a removed inode from the table, so a new file given the same number starts afresh. */
    private void orphan(long ino) {
        cachedVersion.remove(ino);
        synchronized (drafts) {
            Draft d = drafts.remove(ino);
            if (d == null) return;
            d.orphan();
            if (d.refs == 0) d.discard();
        }
    }

    private void seal(Draft d) throws FsException {
        try {
            VersionInfo v = d.seal(store);
            changed();
            if (v != null) LOG.log(Level.DEBUG, "sealed " + v.path() + " as version " + v.id());
        } catch (FsException e) {
            if (e.errno() == Errno.ENOENT) {
                // removed while the seal ran (an unlink or a rename over it committed first): like the changes of
                // any removed file, they stay readable through its handles and are never sealed
                d.orphan();
                LOG.log(Level.INFO, "changes to a removed file dropped (inode " + d.ino + ")");
                return;
            }
            throw e;
        } catch (IOException e) {
            throw io("sealing inode " + d.ino, e);
        }
    }

    /**
     * The open draft of a regular file, if any. Times set on a file with unsealed changes (cp -p and rsync -t set
     * them on the descriptor before closing it) apply to the sealed version: the changes are sealed first, since a
     * seal stamps the time of sealing.
     */
    private Draft draftOf(Attr a) {
        if (!a.isFile()) return null;
        synchronized (drafts) {
            return drafts.get(a.ino());
        }
    }

    /**
     * The attributes of {@code path} with its unsealed changes. When a seal finishes while the store was read, the
     * store is read again: an attribute from before the seal would shrink the kernel's idea of the file size.
     */
    private Attr withDraft(String path, Attr a) throws FsException {
        Draft d = draftOf(a);
        if (d == null) return a;
        Draft.Unsealed u = d.unsealed();
        if (u == null) return store.stat(path);
        return new Attr(a.ino(), a.mode(), a.nlink(), a.uid(), a.gid(), u.size(), a.atimeNanos(),
                Math.max(a.mtimeNanos(), u.mtimeNanos()), a.ctimeNanos());
    }

    // ------------------------------------------------------------------------------------------- namespace

    @Override
    public Attr getattr(String path) throws FsException {
        settle(path);
        if (isControl(path)) return controlAttr(path);
        if (isHidden(path)) return hiddenAttr(path);
        return withDraft(path, store.stat(path));
    }

    @Override
    public List<String> readdir(String path) throws FsException {
        settleBelow(path);
        if (isControl(path)) return controlList(path);
        return store.list(path);
    }

    @Override
    public void mkdir(String path, int mode) throws FsException {
        settle(path);
        if (isControl(path)) throw new FsException(Errno.EEXIST, path);
        store.mkdir(path, mode & 07777, Caller.uid(), Caller.gid());
    }

    @Override
    public void rmdir(String path) throws FsException {
        settleBelow(path);
        requireLive(path);
        store.rmdir(path);
        changed();
    }

    @Override
    public void unlink(String path) throws FsException {
        settle(path);
        requireLive(path);
        if (isHidden(path)) {
            // libfuse unlinks the hidden name after the last release: a hide still pending was an unlink
            boolean known = hidden.remove(path) != null;
            settle(p -> p.hiddenPath().equals(path));
            if (known || !exists(path)) return;
        }
        long ino = store.stat(path).ino();
        store.unlink(path);
        orphan(ino);
        changed();
    }

    @Override
    public void rename(String from, String to, int flags) throws FsException {
        requireLive(from, to);
        if (isHidden(to) && flags == 0) {
            hide(from, to);
            return;
        }
        consumeHide(to);
        settleBelow(from);
        settleBelow(to);
        long replaced = -1;
        if ((flags & RENAME_EXCHANGE) == 0) {
            try {
                Attr target = store.stat(to);
                if (target.isFile()) replaced = target.ino();
            } catch (FsException e) {
                if (e.errno() != Errno.ENOENT && e.errno() != Errno.ENOTDIR) throw e;
            }
        }
        store.rename(from, to, flags);
        if (replaced >= 0 && replaced != store.stat(to).ino()) orphan(replaced);
        changed();
    }

    @Override
    public void symlink(String target, String linkPath) throws FsException {
        settle(linkPath);
        requireLive(linkPath);
        store.symlink(target, linkPath, Caller.uid(), Caller.gid());
    }

    @Override
    public String readlink(String path) throws FsException {
        settle(path);
        if (isControl(path)) throw new FsException(Errno.EINVAL, path + " is not a symlink");
        return store.readlink(path);
    }

    @Override
    public void link(String existing, String newPath) throws FsException {
        throw new FsException(Errno.EPERM, "hard links are not supported (" + newPath + ")");
    }

    @Override
    public void chmod(String path, int mode) throws FsException {
        settle(path);
        requireLive(path);
        store.chmod(path, mode & 07777);
    }

    @Override
    public void chown(String path, int uid, int gid) throws FsException {
        settle(path);
        requireLive(path);
        store.chown(path, uid, gid);
    }

    @Override
    public void utimens(String path, long atimeNanos, long mtimeNanos) throws FsException {
        settle(path);
        requireLive(path);
        Draft d = mtimeNanos == Long.MIN_VALUE ? null : draftOf(store.stat(path));
        if (d != null && d.isDirty()) seal(d);
        store.utimens(path, atimeNanos, mtimeNanos);
    }

    // ------------------------------------------------------------------------------------------- content

    @Override
    public void truncate(String path, long size) throws FsException {
        settle(path);
        if (path.equals(FLUSH)) return;
        requireLive(path);
        Attr a = store.stat(path);
        if (a.isDir()) throw new FsException(Errno.EISDIR, path);
        if (!a.isFile()) throw new FsException(Errno.EINVAL, path + " is not a regular file");
        Draft d = attach(a.ino(), true);
        try {
            d.init(store, path);
            d.truncate(store, size);
        } catch (IOException e) {
            throw io("truncate " + path, e);
        } finally {
            detach(d, true);
        }
    }

    @Override
    public long create(String path, int mode, int flags) throws FsException {
        settle(path);
        if (path.equals(FLUSH)) return register(new FlushHandle(controlAttr(FLUSH)));
        requireLive(path);
        try {
            store.createFile(path, mode & 07777, Caller.uid(), Caller.gid());
        } catch (FsException e) {
            if (e.errno() != Errno.EEXIST || (flags & O_EXCL) != 0) throw e;
        }
        return openFile(path, flags);
    }

    @Override
    public long open(String path, int flags) throws FsException {
        settle(path);
        if (path.equals(FLUSH)) return register(new FlushHandle(controlAttr(FLUSH)));
        if (isControl(path)) return openHistory(path, flags);
        return openFile(path, flags);
    }

    private long openFile(String path, int flags) throws FsException {
        Attr a = store.stat(path);
        if (a.isDir()) throw new FsException(Errno.EISDIR, path);
        if (!a.isFile()) throw new FsException(Errno.EINVAL, path + " is not a regular file");
        boolean write = DraftHandle.writable(flags);
        if (write && store.readOnly()) throw new FsException(Errno.EROFS, "the store is open read-only");
        long epoch = draftEpoch.get();
        Draft d = attach(a.ino(), write);
        boolean keep;
        try {
            d.init(store, path);
            if (write && (flags & O_TRUNC) != 0) d.truncate(store, 0);
            keep = !write && keepCacheFor(d, epoch);
        } catch (IOException e) {
            detach(d, write);
            throw io("open " + path, e);
        } catch (FsException | RuntimeException e) {
            detach(d, write);
            throw e;
        }
        return register(new DraftHandle(d, flags, a, keep));
    }

    @Override
    public Attr fgetattr(long fh) throws FsException {
        Handle h = handle(fh);
        Attr a = h.opened();
        long size = a.size();
        if (h instanceof ViewHandle v) size = v.view() == null ? 0 : v.view().size();
        if (h instanceof DraftHandle d) size = d.draft().size();
        return new Attr(a.ino(), a.mode(), a.nlink(), a.uid(), a.gid(), size, a.atimeNanos(), a.mtimeNanos(),
                a.ctimeNanos());
    }

    @Override
    public int read(long fh, long offset, byte[] dst, int len) throws FsException {
        return read(fh, offset, ByteBuffer.wrap(dst, 0, Math.max(0, len)));
    }

    /** Like {@link #read(long, long, byte[], int)}, straight into {@code dst} (a HOT version: verified there). */
    @Override
    public int read(long fh, long offset, ByteBuffer dst) throws FsException {
        Handle h = handle(fh);
        try {
            if (h instanceof ViewHandle v) return v.view() == null ? 0 : v.view().readAt(offset, dst);
            if (h instanceof DraftHandle d) return d.draft().read(offset, dst);
            return 0;
        } catch (IOException e) {
            throw io("read of handle " + fh + " at " + offset, e);
        }
    }

    @Override
    public int write(long fh, long offset, byte[] src, int len) throws FsException {
        return write(fh, offset, ByteBuffer.wrap(src, 0, len));
    }

    @Override
    public int write(long fh, long offset, ByteBuffer src) throws FsException {
        Handle h = handle(fh);
        if (h instanceof FlushHandle) {
            flushAll();
            return src.remaining();
        }
        if (!(h instanceof DraftHandle d) || !d.writable()) throw new FsException(Errno.EBADF, "handle " + fh + " is read-only");
        try {
            return d.draft().write(store, offset, src, (d.flags() & O_APPEND) != 0);
        } catch (IOException e) {
            throw io("write of handle " + fh + " at " + offset, e);
        }
    }

    @Override
    public void ftruncate(long fh, long size) throws FsException {
        Handle h = handle(fh);
        if (h instanceof FlushHandle) return;
        if (!(h instanceof DraftHandle d) || !d.writable()) throw new FsException(Errno.EBADF, "handle " + fh + " is read-only");
        try {
            d.draft().truncate(store, size);
        } catch (IOException e) {
            throw io("ftruncate of handle " + fh, e);
        }
    }

    @Override
    public void fsync(long fh, boolean dataOnly) throws FsException {
        if (handle(fh) instanceof DraftHandle d) seal(d.draft());
    }

    /**
     * A close(2): when this is the only handle that may write and bytes were written, seals now, so close returns the outcome and
     * the data survives a daemon crash from then on. A bare truncation (shell {@code >} redirections open, dup and
     * close before writing) waits for the release, so it does not become a version of its own.
     */
    @Override
    public void flush(long fh) throws FsException {
        if (!(handle(fh) instanceof DraftHandle d) || !d.writable()) return;
        boolean only;
        synchronized (drafts) {
            only = d.draft().writers == 1;
        }
        if (only && d.draft().hasWrites()) seal(d.draft());
    }

    @Override
    public void release(long fh) throws FsException {
        Handle h = handles.remove(fh);
        if (h == null) throw new FsException(Errno.EBADF, "no open handle " + fh);
        if (h instanceof ViewHandle v && v.view() != null) {
            try {
                v.view().close();
            } catch (IOException e) {
                LOG.log(Level.WARNING, "closing a version view: " + e);
            }
        } else if (h instanceof DraftHandle d) {
            detach(d.draft(), d.writable());
        }
    }

    // ------------------------------------------------------------------------------------------- xattrs

    @Override
    public byte[] getxattr(String path, String name) throws FsException {
        settle(path);
        if (isControl(path)) {
            VersionInfo v = historyVersion(path);
            if (v == null || !VIRTUAL_XATTRS.contains(name)) throw new FsException(Errno.ENODATA, name);
            return describe(v, false, name).getBytes(StandardCharsets.UTF_8);
        }
        if (VIRTUAL_XATTRS.contains(name)) {
            Attr a = store.stat(path);
            if (a.isFile()) return virtualXattr(path, a, name).getBytes(StandardCharsets.UTF_8);
        }
        return store.getxattr(path, name);
    }

    @Override
    public void setxattr(String path, String name, byte[] value, int flags) throws FsException {
        settle(path);
        requireLive(path);
        if (name.startsWith(XATTR_PREFIX)) throw new FsException(Errno.EPERM, name + " is maintained by excpfs");
        store.setxattr(path, name, value, flags);
    }

    @Override
    public List<String> listxattr(String path) throws FsException {
        settle(path);
        if (isControl(path)) return historyVersion(path) == null ? List.of() : VIRTUAL_XATTRS;
        List<String> names = new ArrayList<>(store.listxattr(path));
        if (store.stat(path).isFile()) names.addAll(VIRTUAL_XATTRS);
        return names;
    }

    @Override
    public void removexattr(String path, String name) throws FsException {
        settle(path);
        requireLive(path);
        if (name.startsWith(XATTR_PREFIX)) throw new FsException(Errno.EPERM, name + " is maintained by excpfs");
        store.removexattr(path, name);
    }

    private String virtualXattr(String path, Attr a, String name) throws FsException {
        Draft d;
        synchronized (drafts) {
            d = drafts.get(a.ino());
        }
        boolean staging = d != null && d.isDirty();
        return describe(currentVersion(path, a.ino()), staging, name);
    }

    /** The value of one {@code user.excp.*} attribute of version {@code v} (null: a file without a version). */
    private static String describe(VersionInfo v, boolean staging, String name) throws FsException {
        return switch (name) {
            case "user.excp.state" -> staging ? "staging" : v == null || v.state() == VersionState.HOT ? "hot"
                    : v.kind().equals("opaque") ? "opaque" : "cold";
            case "user.excp.kind" -> v == null ? "empty" : v.kind();
            case "user.excp.version" -> v == null ? "0" : Long.toString(v.id());
            case "user.excp.lineage" -> v == null ? "" : v.lineage();
            case "user.excp.ratio" -> v == null ? "1.00" : String.format(Locale.ROOT, "%.2f", v.ratio());
            default -> throw new FsException(Errno.ENODATA, name);
        };
    }

    private VersionInfo currentVersion(String path, long ino) throws FsException {
        VersionInfo v = store.current(path);
        return v != null && v.ino() == ino ? v : null;
    }

    // ------------------------------------------------------------------------------------------- libfuse's hidden files

    /** The names libfuse 2 gives a file it hides: {@code .fuse_hidden%08x%08x} (node id, counter). */
    private static final Pattern HIDDEN = Pattern.compile("\\.fuse_hidden[0-9a-f]{16}");
    /** How long an unlink by hiding may wait for a call that would see it. */
    private static final long SETTLE_MILLIS = 500;

    /** A file libfuse keeps under a hidden name while it is open: its attributes, and its draft for the size. */
    private record Hidden(Attr attr, Draft draft) {}

    /** A hide whose outcome (unlink, or the first half of a rename over an open file) is not known yet. */
    private record PendingHide(String path, long ino, String hiddenPath) {}

    private final Map<String, Hidden> hidden = new ConcurrentHashMap<>();
    private final Set<PendingHide> pendingHides = ConcurrentHashMap.newKeySet();
    /** Held while pending hides are carried out or consumed; see {@link #settle(Predicate)}. */
    private final Object hides = new Object();
    private final ScheduledExecutorService settler = settlerThread();

    private static ScheduledExecutorService settlerThread() {
        ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "excpfs-unlink");
            t.setDaemon(true);
            return t;
        });
        e.setRemoveOnCancelPolicy(true);
        return e;
    }

    private boolean exists(String path) {
        try {
            store.stat(path);
            return true;
        } catch (FsException e) {
            return false;
        }
    }

    static boolean isHidden(String path) {
        return HIDDEN.matcher(path.substring(path.lastIndexOf('/') + 1)).matches();
    }

    /**
     * libfuse 2 (mounted without {@code hard_remove}) keeps a file that is unlinked or replaced while open: it renames
     * it to a hidden name in the same directory, asks for that name's attributes on fstat(2) of its descriptors, and
     * unlinks the name after the last release. The store never holds hidden names (so {@code rmdir} and
     * {@code shutil.rmtree} of the directory succeed, and history shows the file under its real path). The rename
     * to the hidden name is only recorded here, since it is the first half of either an unlink(2) or a rename(2) onto
     * the path (libfuse does both halves in one request, but not always on one Java thread): a rename onto the path
     * then replaces the file atomically in the store ({@link #consumeHide}); any call that would see the path (on
     * it or below it; a listing, rmdir or rename of a directory above it) carries the hide out as an unlink first,
     * and so do libfuse's unlink of the hidden name and a timer {@link #SETTLE_MILLIS} later. A daemon crash within
     * that time keeps the file.
     */
    private void hide(String path, String hiddenPath) throws FsException {
        settle(path);
        Attr a = store.stat(path);
        hidden.put(hiddenPath, new Hidden(a, draftOf(a)));
        pendingHides.add(new PendingHide(path, a.ino(), hiddenPath));
        settler.schedule(this::settleQuietly, SETTLE_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** A rename onto {@code target} stands for the pending hides of that path: it replaces the file itself. */
    private void consumeHide(String target) {
        if (pendingHides.isEmpty()) return;
        synchronized (hides) {
            pendingHides.removeIf(p -> p.path().equals(target));
        }
    }

    /** Carries out, as unlinks, the pending hides a call on {@code path} would see: of that path or one above it. */
    private void settle(String path) {
        settle(path, false);
    }

    /** Like {@link #settle(String)}, also for paths below {@code path} (a listing, rmdir, rename of a directory). */
    private void settleBelow(String path) {
        settle(path, true);
    }

    private void settle(String path, boolean below) {
        if (pendingHides.isEmpty()) return;
        String dir = path.endsWith("/") ? path : path + "/";
        settle(p -> p.path().equals(path) || path.startsWith(p.path() + "/") || below && p.path().startsWith(dir));
    }

    private void settleAll() {
        settle(p -> true);
    }

    /**
     * Carries out the pending hides {@code seen} selects. A hide leaves {@link #pendingHides} only once its unlink
     * is committed, and under {@link #hides}: so a call that would see the path and finds a hide pending waits for
     * it, and one that finds none sees the unlink done (a hide taken by another thread, the timer's say, is never
     * skipped while its unlink is still running, which would show the removed name again).
     */
    private void settle(Predicate<PendingHide> seen) {
        if (pendingHides.isEmpty()) return;
        synchronized (hides) {
            for (PendingHide p : pendingHides) {
                if (!seen.test(p)) continue;
                unlinkHidden(p);
                pendingHides.remove(p);
            }
        }
    }

    private void settleQuietly() {
        try {
            settleAll();
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "carrying out an unlink: " + e, e);
        }
    }

    private void unlinkHidden(PendingHide p) {
        try {
            if (store.stat(p.path()).ino() != p.ino()) return;
            store.unlink(p.path());
            orphan(p.ino());
            changed();
        } catch (FsException e) {
            if (e.errno() != Errno.ENOENT && e.errno() != Errno.ENOTDIR) {
                LOG.log(Level.ERROR, "unlink of " + p.path() + " (open, hidden by libfuse) failed: " + e.getMessage());
            }
        }
    }

    /** A hidden file's attributes: no links, the size of its open content. */
    private Attr hiddenAttr(String path) throws FsException {
        Hidden h = hidden.get(path);
        if (h == null) throw new FsException(Errno.ENOENT, path);
        Attr a = h.attr();
        long size = h.draft() == null ? a.size() : h.draft().size();
        return new Attr(a.ino(), a.mode(), 0, a.uid(), a.gid(), size, a.atimeNanos(), a.mtimeNanos(), a.ctimeNanos());
    }

    // ------------------------------------------------------------------------------------------- control tree

    private record HistorySnapshot(long generation, long takenNanos, Map<String, VersionInfo> entries) {}

    private volatile HistorySnapshot history = new HistorySnapshot(-1, 0, Map.of());
    private final AtomicLong generation = new AtomicLong();

    /** Something that may move versions into history happened; the next listing re-reads the store. */
    private void changed() { generation.incrementAndGet(); }

    /**
     * History versions by their entry path below {@link #HISTORY}, e.g. {@code /run/ckpt.pt@12}. Re-read after
     * every change made through this mount, and at least every second (retention runs in the background).
     */
    private Map<String, VersionInfo> historyEntries() throws FsException {
        HistorySnapshot h = history;
        long now = System.nanoTime();
        if (h.generation() == generation.get() && now - h.takenNanos() < 1_000_000_000L) return h.entries();
        long gen = generation.get();
        Map<String, VersionInfo> out = new HashMap<>();
        for (VersionInfo v : store.versions()) {
            if (v.status() == VersionStatus.HISTORY) out.put(v.path() + "@" + v.id(), v);
        }
        history = new HistorySnapshot(gen, now, out);
        return out;
    }

    /** The history version a control path names, or null. */
    private VersionInfo historyVersion(String path) throws FsException {
        if (!path.startsWith(HISTORY + "/")) return null;
        return historyEntries().get(path.substring(HISTORY.length()));
    }

    private Attr dirAttr(long ino) {
        return new Attr(ino, Attr.S_IFDIR | 0555, 2, 0, 0, 0, mountedNanos, mountedNanos, mountedNanos);
    }

    private Attr controlAttr(String path) throws FsException {
        if (path.equals(CONTROL)) return dirAttr(VIRTUAL_INO);
        if (path.equals(HISTORY)) return dirAttr(VIRTUAL_INO + 1);
        if (path.equals(FLUSH)) {
            return new Attr(VIRTUAL_INO + 2, Attr.S_IFREG | 0200, 1, 0, 0, 0, mountedNanos, mountedNanos, mountedNanos);
        }
        if (path.startsWith(HISTORY + "/")) {
            String rel = path.substring(HISTORY.length());
            Map<String, VersionInfo> entries = historyEntries();
            VersionInfo v = entries.get(rel);
            if (v != null) {
                return new Attr(VIRTUAL_INO + 16 + v.id() * 2, Attr.S_IFREG | 0444, 1, 0, 0, v.rawBytes(),
                        v.endedNanos(), v.sealedNanos(), v.endedNanos());
            }
            for (String e : entries.keySet()) {
                if (e.startsWith(rel + "/")) return dirAttr(VIRTUAL_INO + 17 + ((long) rel.hashCode() & 0xffffffffL) * 2);
            }
        }
        throw new FsException(Errno.ENOENT, path);
    }

    private List<String> controlList(String path) throws FsException {
        if (path.equals(CONTROL)) return List.of("flush", "history");
        Attr a = controlAttr(path);
        if (!a.isDir()) throw new FsException(Errno.ENOTDIR, path);
        String rel = path.substring(HISTORY.length()) + "/";
        TreeSet<String> names = new TreeSet<>();
        for (String e : historyEntries().keySet()) {
            if (!e.startsWith(rel)) continue;
            String rest = e.substring(rel.length());
            int slash = rest.indexOf('/');
            names.add(slash < 0 ? rest : rest.substring(0, slash));
        }
        return new ArrayList<>(names);
    }

    private long openHistory(String path, int flags) throws FsException {
        if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0) throw readOnly(path);
        long epoch = draftEpoch.get();
        Attr a = controlAttr(path);
        if (a.isDir()) throw new FsException(Errno.EISDIR, path);
        VersionInfo v = historyEntries().get(path.substring(HISTORY.length()));
        if (v == null) throw new FsException(Errno.ENOENT, path);
        try {
            return registerView(store.openVersion(v.id()), a, epoch);
        } catch (IOException e) {
            throw io("open " + path, e);
        }
    }

    // ------------------------------------------------------------------------------------------- whole mount

    @Override
    public StatFs statfs() throws FsException {
        return store.statfs();
    }

    @Override
    public void flushAll() throws FsException {
        settleAll();
        try {
            store.flush();
        } catch (IOException e) {
            throw io("flush", e);
        }
    }

    /** Seals changes still open (a clean unmount keeps them), unpins every view, then closes the store. */
    @Override
    public void close() {
        try {
            settleAll();
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "unmount: pending removals: " + e);
        }
        settler.shutdownNow();
        List<Draft> open;
        synchronized (drafts) {
            open = new ArrayList<>(drafts.values());
            drafts.clear();
        }
        for (Draft d : open) {
            try {
                seal(d);
            } catch (FsException e) {
                LOG.log(Level.ERROR, "unmount: could not seal open changes of inode " + d.ino + ": " + e.getMessage());
            }
            d.discard();
        }
        for (Handle h : handles.values()) {
            if (h instanceof ViewHandle v && v.view() != null) {
                try {
                    v.view().close();
                } catch (IOException e) {
                    LOG.log(Level.WARNING, "closing a version view: " + e);
                }
            }
        }
        handles.clear();
        store.close();
    }
}
