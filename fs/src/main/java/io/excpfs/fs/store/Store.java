package io.excpfs.fs.store;

import io.excpfs.cache.BaseCache;
import io.excpfs.cache.ChainSource;
import io.excpfs.cache.CorruptVersionException;
import io.excpfs.codec.ByteSource;
import io.excpfs.codec.ObjectStream;
import io.excpfs.codec.Reconstruction;
import io.excpfs.fs.ops.Attr;
import io.excpfs.fs.ops.Errno;
import io.excpfs.fs.ops.FileSystemOps;
import io.excpfs.fs.ops.FsException;
import io.excpfs.fs.ops.StatFs;
import io.excpfs.fs.store.blob.BlobChannel;
import io.excpfs.fs.store.blob.Blobs;
import io.excpfs.fs.store.blob.LocalBlobs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The versioned store: namespace by path, versions, lineages and history over SQLite metadata ({@code excpfs.db})
 * and immutable objects ({@code objects/}), with raw files being written in {@code staging/}. One public entry
 * point for the mount and the CLI. All object and staging I/O goes through {@link Blobs}.
 *
 * <p>Every namespace or metadata change is one transaction. Objects are written and fsynced before the commit that
 * references them and deleted only after the commit that makes them unreachable. A sealed version is HOT (exact
 * bytes, block checksums); once at least {@code hot} newer versions of its lineage exist, background encoder
 * threads demote it to COLD (an encoded object), in lineage order, so every residual is taken against what a read
 * of its base returns. Demotion never blocks a writer. Thread safe.
 */
public final class Store implements AutoCloseable {
    static final System.Logger LOG = System.getLogger("excpfs.store");
    static final int NAME_MAX = 255;
    static final String OBJECTS = "objects", STAGING = "staging";

    private final Path dir;
    private final StoreOptions options;
    private final boolean readOnly;
    private final Metadata db;
    private final Blobs blobs;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final BaseCache bases;
    private final Demotion demotion;
    private final Codec codec;
    private final Map<Long, Integer> pins = new HashMap<>();
    private final Map<Long, Long> lastOpened = new java.util.concurrent.ConcurrentHashMap<>();
    private final ReadTimes readTimes;
    private final SecureRandom random = new SecureRandom();
    private volatile boolean closed;

    private Store(Path dir, StoreOptions options, boolean readOnly, Metadata db, Blobs blobs, FileChannel lockChannel,
                  FileLock lock, Codec codec) {
        this.codec = codec;
        this.blobs = blobs;
        this.dir = dir;
        this.options = options;
        this.readOnly = readOnly;
        this.db = db;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.bases = BaseCache.builder(new StoredChain()).maximumBytes(options.cacheBytes()).decoder(codec.objectDecoder()).build();
        this.demotion = readOnly ? null : new Demotion(this, options);
        this.readTimes = readOnly ? null : new ReadTimes(db);
    }

    /**
     * Opens the store at {@code dir} for reading and writing, creating it (mode 0700) when missing. Drops unsealed
     * staging files, finishes interrupted deletions, removes objects no commit references, and resumes pending
     * demotions.
     *
     * @throws StoreFormatException when {@code dir} holds something else, or a store of a newer format version
     * @throws IOException when another process has the store open for writing
     */
    public static Store open(Path dir, StoreOptions options) throws IOException {
        return open(dir, options, Codec.checkpointCodec());
    }

    static Store open(Path dir, StoreOptions options, Codec codec) throws IOException {
        return open(dir, options, codec, LocalBlobs::new);
    }

    /** Opens with object and staging I/O through {@code blobs} (given the store directory): tests inject faults. */
    static Store open(Path dir, StoreOptions options, Codec codec, Function<Path, Blobs> blobsOf) throws IOException {
        Path d = dir.toAbsolutePath().normalize();
        if (!Files.exists(d)) {
            Files.createDirectories(d);
            try {
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwx------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system: nothing to restrict
            }
        } else if (!Files.isDirectory(d)) {
            throw new StoreFormatException(d + " is not a directory");
        } else if (!Files.exists(d.resolve(Metadata.DB_FILE)) && !isEmptyDir(d)) {
            throw new StoreFormatException(d + " is not an excpfs store (no " + Metadata.DB_FILE + ") and not empty");
        }
        Blobs blobs = blobsOf.apply(d);
        if (blobs.createDirectory("objects") | blobs.createDirectory("staging")) blobs.syncDirectory(Blobs.ROOT);
        FileChannel lc = FileChannel.open(d.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock fl;
        try {
            fl = lc.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            fl = null;
        } catch (IOException e) {
            lc.close();
            throw e;
        }
        if (fl == null) {
            lc.close();
            throw new IOException("store " + d + " is open for writing by another process (mounted?)");
        }
        Metadata md;
        try {
            md = Metadata.open(d.resolve(Metadata.DB_FILE), false);
            try {
                md.addRowCopies();
            } catch (IOException | RuntimeException e) {
                md.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            fl.release();
            lc.close();
            throw e;
        }
        Store s = new Store(d, options, false, md, blobs, lc, fl, codec);
        try {
            s.recover();
            s.lastOpened.putAll(s.readTimes.load());
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        s.demotion.start();
        return s;
    }

    /**
     * Opens an existing store read-only, also while it is mounted (reads the committed state; the WAL is
     * honoured). Every mutating call fails with EROFS.
     */
    public static Store openReadOnly(Path dir) throws IOException {
        return openReadOnly(dir, Codec.checkpointCodec());
    }

    static Store openReadOnly(Path dir, Codec codec) throws IOException {
        return openReadOnly(dir, codec, LocalBlobs::new);
    }

    static Store openReadOnly(Path dir, Codec codec, Function<Path, Blobs> blobsOf) throws IOException {
        Path d = dir.toAbsolutePath().normalize();
        if (!Files.exists(d.resolve(Metadata.DB_FILE))) throw new StoreFormatException(d + " is not an excpfs store (no " + Metadata.DB_FILE + ")");
        return new Store(d, StoreOptions.defaults(), true, Metadata.open(d.resolve(Metadata.DB_FILE), true), blobsOf.apply(d), null, null, codec);
    }

    private static boolean isEmptyDir(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.findAny().isEmpty();
        }
    }

    public Path directory() { return dir; }

    public StoreOptions options() { return options; }

    public boolean readOnly() { return readOnly; }

    Metadata metadata() { return db; }

    Codec codec() { return codec; }

    // ---------------------------------------------------------------- recovery

    private void recover() throws IOException {
        for (String name : blobs.list(STAGING)) {
            LOG.log(System.Logger.Level.INFO, "dropping unsealed staging file " + name.substring(STAGING.length() + 1));
            blobs.delete(name);
        }
        deleteGarbage();
        java.util.Set<String> referenced = db.referencedObjectFiles();
        java.util.Set<String> byCopy = db.referencedObjectFilesByCopy();
        if (byCopy != null && !byCopy.equals(referenced)) {
            // a damaged row would make a live object look unreferenced: delete nothing, let verify name the damage
            LOG.log(System.Logger.Level.ERROR, "metadata " + dir.resolve(Metadata.DB_FILE) + " is damaged: its versions table and"
                    + " their copy name different objects; no unreferenced object is removed (run excpfs verify)");
            return;
        }
        for (String name : blobs.list(OBJECTS)) {
            String rel = name.substring(OBJECTS.length() + 1);
            if (!referenced.contains(rel)) {
                LOG.log(System.Logger.Level.INFO, "removing unreferenced object " + rel + " (left by an interrupted write)");
                blobs.delete(name);
            }
        }
    }

    /** Deletes objects listed as garbage by committed transactions, then forgets them. */
    void deleteGarbage() throws IOException {
        List<String> garbage = db.garbage();
        if (garbage.isEmpty()) return;
        for (String rel : garbage) blobs.delete(OBJECTS + "/" + rel);
        db.forgetGarbage(garbage);
    }

    // ---------------------------------------------------------------- namespace

    /** The attributes of a path (lstat: symlinks are not followed). */
    public Attr stat(String path) throws FsException {
        return db.read(() -> db.attr(db.resolve(path)));
    }

    /** The inode number of a path. */
    public long ino(String path) throws FsException {
        return db.read(() -> db.resolve(path));
    }

    /** Entry names of a directory, sorted, without "." and "..". */
    public List<String> list(String path) throws FsException {
        return db.read(() -> {
            long ino = db.resolve(path);
            if (!db.attr(ino).isDir()) throw new FsException(Errno.ENOTDIR, path);
            return db.children(ino);
        });
    }

    public void mkdir(String path, int mode, int uid, int gid) throws FsException {
        writable();
        db.write(() -> db.createNode(path, Attr.S_IFDIR | (mode & 07777), uid, gid, null));
    }

    /** Creates an empty regular file (no version yet: size 0) so it is visible while being written. */
    public void createFile(String path, int mode, int uid, int gid) throws FsException {
        writable();
        db.write(() -> db.createNode(path, Attr.S_IFREG | (mode & 07777), uid, gid, null));
    }

    public void symlink(String target, String linkPath, int uid, int gid) throws FsException {
        writable();
        if (target.getBytes(StandardCharsets.UTF_8).length > 4095) throw new FsException(Errno.ENAMETOOLONG, "symlink target too long");
        db.write(() -> db.createNode(linkPath, Attr.S_IFLNK | 0777, uid, gid, target));
    }

    public String readlink(String path) throws FsException {
        return db.read(() -> db.readlink(db.resolve(path), path));
    }

    public void rmdir(String path) throws FsException {
        writable();
        db.update(() -> db.rmdir(path));
    }

    /** Removes a file or symlink; its current version goes to history as deleted. */
    public void unlink(String path) throws FsException {
        writable();
        db.update(() -> db.unlink(path, now()));
        afterChange();
    }

    /**
     * Atomic rename with rename(2) semantics: replaces an existing target of a compatible type (its current version
     * goes to history as replaced); {@link FileSystemOps#RENAME_NOREPLACE} fails with EEXIST instead;
     * {@link FileSystemOps#RENAME_EXCHANGE} swaps both entries. Live versions follow the new path (their lineage is
     * recomputed), so {@code save tmp; rename tmp → ckpt.pt} lands in the lineage of {@code ckpt.pt}.
     */
    public void rename(String from, String to, int flags) throws FsException {
        writable();
        db.update(() -> db.rename(from, to, flags, now()));
        afterChange();
    }

    public void chmod(String path, int mode) throws FsException {
        writable();
        db.update(() -> db.chmod(db.resolve(path), mode, now()));
    }

    public void chown(String path, int uid, int gid) throws FsException {
        writable();
        db.update(() -> db.chown(db.resolve(path), uid, gid, now()));
    }

    /** Times in ns since the epoch; {@code Long.MIN_VALUE} leaves a time unchanged. */
    public void utimens(String path, long atimeNanos, long mtimeNanos) throws FsException {
        writable();
        db.update(() -> db.utimens(db.resolve(path), atimeNanos, mtimeNanos, now()));
    }

    public byte[] getxattr(String path, String name) throws FsException {
        return db.read(() -> db.getxattr(db.resolve(path), name));
    }

    /** {@code flags}: 0, {@link FileSystemOps#XATTR_CREATE} or {@link FileSystemOps#XATTR_REPLACE}. */
    public void setxattr(String path, String name, byte[] value, int flags) throws FsException {
        writable();
        if (name.isEmpty() || name.length() > 255) throw new FsException(Errno.ERANGE, "xattr name length");
        if (value.length > 65536) throw new FsException(Errno.ERANGE, "xattr value larger than 64 KiB");
        db.update(() -> db.setxattr(db.resolve(path), name, value, flags, now()));
    }

    public List<String> listxattr(String path) throws FsException {
        return db.read(() -> db.listxattr(db.resolve(path)));
    }

    public void removexattr(String path, String name) throws FsException {
        writable();
        db.update(() -> db.removexattr(db.resolve(path), name, now()));
    }

    /** Space of the file system holding the store, in 4 KiB blocks, and the store's inode count. */
    public StatFs statfs() throws FsException {
        try {
            FileStore fs = Files.getFileStore(dir);
            long bs = 4096;
            long files = db.read(db::inodeCount);
            return new StatFs(bs, fs.getTotalSpace() / bs, fs.getUnallocatedSpace() / bs, fs.getUsableSpace() / bs,
                    files, Math.max(0, Integer.MAX_VALUE - files), NAME_MAX);
        } catch (IOException e) {
            throw new FsException(Errno.EIO, "statfs of " + dir + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- content

    /** A new empty file in {@code staging/} to write a version into (through {@link #openStaging}), then {@link #seal}. */
    public Path newStagingFile() throws IOException {
        if (readOnly) throw new IOException("store is read-only");
        Path p = dir.resolve(STAGING).resolve(newId() + ".tmp");
        blobs.create(stagingName(p)).close();
        return p;
    }

    /** Opens a staging file from {@link #newStagingFile} for reading and writing. */
    public BlobChannel openStaging(Path staging) throws IOException {
        return blobs.open(stagingName(staging), true);
    }

    /** Deletes a staging file that will not be sealed; false when it was already gone. */
    public boolean dropStaging(Path staging) throws IOException {
        return blobs.delete(stagingName(staging));
    }

    private String stagingName(Path staging) throws IOException {
        Path parent = staging.getParent();
        if (parent == null || !parent.equals(dir.resolve(STAGING))) throw new IOException(staging + " is not a staging file of store " + dir);
        return STAGING + "/" + staging.getFileName();
    }

    /** A new staging file holding the current content of {@code path} (for writes without O_TRUNC). */
    public Path newStagingCopy(String path) throws FsException, IOException {
        Path p = newStagingFile();
        try (VersionView v = openCurrent(path); BlobChannel out = openStaging(p)) {
            if (v == null) return p;
            byte[] buf = new byte[1 << 20];
            for (long pos = 0; pos < v.size(); ) {
                int n = v.readAt(pos, buf, 0, buf.length);
                out.writeFully(ByteBuffer.wrap(buf, 0, n), pos);
                pos += n;
            }
        } catch (FsException | IOException | RuntimeException e) {
            dropStaging(p);
            throw e;
        }
        return p;
    }

    /** Seals {@code staging} as the new current version of {@code path}; see {@link #seal(long, Path)}. */
    public VersionInfo seal(String path, Path staging) throws FsException, IOException {
        return seal(ino(path), staging);
    }

    /**
     * Seals {@code staging} (a file from {@link #newStagingFile}) as the new current version of the regular file
     * {@code ino}, in one transaction: the file becomes a HOT object (checksummed, fsynced before the commit), the
     * previous version goes to history as overwritten and is demoted in the background. The staging file is
     * consumed on success and on failure.
     *
     * @throws FsException ENOENT when the inode no longer exists, EISDIR when it is not a regular file
     * @throws CommitFailedException   nothing changed
     * @throws CommitStateUnknownException the new version may or may not be committed
     */
    public VersionInfo seal(long ino, Path staging) throws FsException, IOException {
        return seal(ino, staging, Long.MIN_VALUE);
    }

    /**
     * Like {@link #seal(long, Path)}, with the file's modification time set to {@code mtimeNanos} in the same
     * transaction ({@code Long.MIN_VALUE}: the seal time), as import does to keep the original times.
     */
    public VersionInfo seal(long ino, Path staging, long mtimeNanos) throws FsException, IOException {
        return seal(ino, staging, mtimeNanos, null);
    }

    /**
     * Like {@link #seal(long, Path)}, with the block sums mostly computed while the staging file was written, so
     * the seal reads again only what {@code sums} did not see; and for an open file's changes, which must outlive a
     * failed seal: a failure known to have committed nothing (ENOENT for a removed inode, ENOSPC, a failed write or
     * commit) leaves {@code staging} in place with the content it had, so the caller keeps its changes and may seal
     * them again (it then treats {@code sums} as stale). The staging file is consumed on success, and when the
     * commit's state is unknown ({@link CommitStateUnknownException}) or it could not be put back (both logged).
     */
    public VersionInfo seal(long ino, Path staging, StagingChecksums sums) throws FsException, IOException {
        return seal(ino, staging, Long.MIN_VALUE, sums, true);
    }

    private VersionInfo seal(long ino, Path staging, long mtimeNanos, StagingChecksums staged) throws FsException, IOException {
        return seal(ino, staging, mtimeNanos, staged, false);
    }

    private VersionInfo seal(long ino, Path staging, long mtimeNanos, StagingChecksums staged, boolean keepOnFailure)
            throws FsException, IOException {
        writable();
        String id = newId();
        String fanout = fanout(id);
        String raw = fanout + "/" + id + ".raw";
        String sum = fanout + "/" + id + ".sum";
        String stagingName = stagingName(staging);
        boolean committed = false, moved = false;
        try {
            try (BlobChannel ch = blobs.open(stagingName, true)) {
                ch.force();
            }
            BlockSums sums = staged == null ? BlockSums.compute(blobs, stagingName) : staged.finish(blobs, stagingName);
            byte[] sumBytes = sums.encode();
            // the .sum is durable before the .raw gets its name, so a .raw under objects/ always has its sums
            createFanout(fanout);
            blobs.writeDurably(sum, sumBytes);
            blobs.rename(stagingName, raw);
            moved = true;
            blobs.syncDirectory(fanout);
            long size = sums.rawSize();
            long stored = size + sumBytes.length;
            VersionInfo v = db.write(() -> db.seal(ino, id, size, stored, BlockSums.crc(sumBytes, 0, sumBytes.length), now(), mtimeNanos));
            committed = true;
            LOG.log(System.Logger.Level.INFO, "sealed version " + v.id() + " of " + v.path() + " (" + size + " bytes, lineage " + v.lineage() + ")");
            afterChange();
            return v;
        } catch (FsException e) {
            if (e.getCause() instanceof CommitStateUnknownException) committed = true;
            throw e;
        } finally {
            boolean kept = !committed && keepOnFailure && (!moved || putBack(raw, stagingName));
            if (!kept) deleteQuietly(stagingName);
            if (!committed) {
                deleteQuietly(raw);
                deleteQuietly(sum);
            }
        }
    }

    /** Moves the object of a seal that committed nothing back to its staging name; false (logged) when it cannot. */
    private boolean putBack(String raw, String stagingName) {
        try {
            blobs.rename(raw, stagingName);
            return true;
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "a failed seal could not put " + raw + " back to " + stagingName
                    + ": the open file's unsealed changes are lost: " + e.getMessage());
            return false;
        }
    }

    /**
     * Cleanup that must not change the outcome of the operation it follows (a failure after a commit must not
     * report the commit as failed): a file left behind is removed at the next open.
     */
    private void deleteQuietly(String name) {
        try {
            blobs.delete(name);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "could not delete " + name + " (removed at the next open): " + e.getMessage());
        }
    }

    /** {@code objects/ab} for an object id {@code ab...}. */
    private static String fanout(String objectId) {
        return OBJECTS + "/" + objectId.substring(0, 2);
    }

    /** Creates a fan-out directory, durably: a crash after the commit must not take it and its objects away. */
    private void createFanout(String fanout) throws IOException {
        if (blobs.createDirectory(fanout)) blobs.syncDirectory(OBJECTS);
    }

    /** Opens a pinned view of the current version of {@code path}; null when the file has no version (empty). */
    public VersionView openCurrent(String path) throws FsException, IOException {
        long versionId = db.read(() -> {
            long ino = db.resolve(path);
            Attr a = db.attr(ino);
            if (a.isDir()) throw new FsException(Errno.EISDIR, path);
            if (!a.isFile()) throw new FsException(Errno.EINVAL, path + " is not a regular file");
            String damage = db.inodeRowMismatch(ino);
            if (damage != null) throw new CorruptDataException(damage);
            String named = db.pathOf(ino);
            if (!named.equals(Metadata.normalize(path))) {
                throw new CorruptDataException("metadata " + dir.resolve(Metadata.DB_FILE) + " is damaged: " + path
                        + " resolves to inode " + ino + ", whose directory entry is " + named);
            }
            return db.currentVersion(ino);
        });
        if (versionId == 0) return null;
        return openVersion(versionId);
    }

    /** Opens a pinned view of any version still stored (live, history or hidden). */
    public VersionView openVersion(long versionId) throws FsException, IOException {
        VersionView view = openPinned(versionId);
        if (readTimes != null) readTimes.read(versionId, lastOpened(versionId));
        return view;
    }

    private VersionView openPinned(long versionId) throws FsException, IOException {
        VersionInfo info;
        ByteSource source;
        synchronized (db) {
            info = db.read(() -> db.version(versionId));
            if (info == null) throw new FsException(Errno.ENOENT, "no version " + versionId);
            checkRow(versionId);
            pin(versionId);
            if (info.state() == VersionState.HOT) {
                try {
                    source = openHot(db.read(() -> db.objectOf(versionId)));
                } catch (IOException | RuntimeException e) {
                    unpin(versionId);
                    throw e;
                }
                return new VersionView(info, source, () -> unpin(versionId));
            }
        }
        try {
            source = new ReconstructionSource(info, bases.open(versionId));
        } catch (RuntimeException e) {
            unpin(versionId);
            throw e;
        }
        return new VersionView(info, source, () -> unpin(versionId));
    }

    HotSource openHot(String objectId) throws IOException {
        String prefix = objectId.substring(0, 2) + "/" + objectId;
        BlockSums sums;
        try {
            sums = BlockSums.read(blobs, OBJECTS + "/" + prefix + ".sum");
        } catch (NoSuchFileException e) {
            throw new CorruptDataException("object " + prefix + ".sum is missing", e);
        }
        String raw = OBJECTS + "/" + prefix + ".raw";
        BlobChannel ch;
        try {
            ch = blobs.open(raw, false);
        } catch (NoSuchFileException e) {
            throw new CorruptDataException("object " + prefix + ".raw is missing", e);
        }
        return new HotSource(raw, ch, sums);
    }

    /**
     * What a read of a COLD version returns: resolves its chain iteratively back to the nearest cached version or
     * the seed, then decodes forward.
     */
    Reconstruction reconstruct(long versionId) throws IOException {
        try {
            return bases.get(versionId);
        } catch (CorruptVersionException e) {
            throw new CorruptDataException("version " + e.versionId() + " (in the chain of " + versionId + "): " + e.getMessage(), e);
        }
    }

    /** The chain of COLD versions as the cache of bases walks it: metadata for bases, object files for content. */
    private final class StoredChain implements ChainSource {
        @Override public OptionalLong baseOf(long versionId) throws IOException {
            Metadata.ChainLink link = link(versionId);
            return link.base() == 0 ? OptionalLong.empty() : OptionalLong.of(link.base());
        }

        @Override public byte[] object(long versionId) throws IOException {
            Metadata.ChainLink link = link(versionId);
            return readColdObject(link.object(), link.objectCrc());
        }

        @Override public ObjectStream open(long versionId) throws IOException {
            Metadata.ChainLink link = link(versionId);
            String p = fanout(link.object()) + "/" + link.object() + ".excp";
            try {
                return new ColdObjectStream(p, blobs.open(p, false), link.objectCrc());
            } catch (NoSuchFileException e) {
                throw new CorruptDataException("object " + p + " is missing", e);
            }
        }

        private Metadata.ChainLink link(long versionId) throws IOException {
            Metadata.ChainLink link;
            try {
                link = db.read(db.chainLinkSupplier(versionId));
            } catch (FsException e) {
                throw new IOException(e.getMessage(), e);
            }
            if (link == null) throw new CorruptDataException("version " + versionId + " is missing from the metadata");
            checkRow(versionId);
            if (link.state() != VersionState.COLD) throw new CorruptDataException("version " + versionId + " is read through a chain but is not COLD");
            return link;
        }
    }

    /** Fails with {@link CorruptDataException} when the metadata row of a version differs from its second copy. */
    void checkRow(long versionId) throws IOException {
        String damage;
        try {
            damage = db.read(() -> db.versionRowMismatch(versionId));
        } catch (FsException e) {
            throw new IOException(e.getMessage(), e);
        }
        if (damage != null) throw new CorruptDataException(damage);
    }

    byte[] readColdObject(String objectId, int crc) throws IOException {
        String p = fanout(objectId) + "/" + objectId + ".excp";
        byte[] b;
        try {
            b = blobs.readAll(p);
        } catch (NoSuchFileException e) {
            throw new CorruptDataException("object " + p + " is missing", e);
        }
        if (BlockSums.crc(b, 0, b.length) != crc) throw new CorruptDataException("object " + p + " fails its CRC32C");
        return b;
    }

    /** Writes an encoded object durably (content and name) and returns its CRC32C. */
    int writeColdObject(String objectId, byte[] object) throws IOException {
        String fanout = fanout(objectId);
        createFanout(fanout);
        blobs.writeDurably(fanout + "/" + objectId + ".excp", object);
        blobs.syncDirectory(fanout);
        return BlockSums.crc(object, 0, object.length);
    }

    void deleteColdObject(String objectId) throws IOException {
        blobs.delete(fanout(objectId) + "/" + objectId + ".excp");
    }

    void cacheReconstruction(long versionId, Reconstruction r) { bases.put(versionId, r); }

    void forget(long versionId) {
        bases.invalidate(versionId);
        lastOpened.remove(versionId);
        if (readTimes != null) readTimes.forget(versionId);
    }

    // ---------------------------------------------------------------- history, stats

    /** Every stored version of a lineage or path (live, history and hidden), in seal order. */
    public List<VersionInfo> history(String pathOrLineage) throws FsException {
        return db.read(() -> db.versionsOf(pathOrLineage));
    }

    /** The current version of a regular file, or null while it has none (created, not yet sealed). */
    public VersionInfo current(String path) throws FsException {
        return db.read(() -> {
            long ino = db.resolve(path);
            Attr a = db.attr(ino);
            if (a.isDir()) throw new FsException(Errno.EISDIR, path);
            long v = db.currentVersion(ino);
            return v == 0 ? null : db.version(v);
        });
    }

    /** Every stored version, in seal order. */
    public List<VersionInfo> versions() throws FsException {
        return db.read(db::allVersions);
    }

    public VersionInfo version(long id) throws FsException {
        VersionInfo v = db.read(() -> db.version(id));
        if (v == null) throw new FsException(Errno.ENOENT, "no version " + id);
        return v;
    }

    /** What the encoder measured for each COLD version it demoted, by version id (none for older stores). */
    public Map<Long, EncodeFigures> encodeFigures() throws FsException {
        return db.read(db::encodeFigures);
    }

    /** Returns once every pending demotion and retention step is committed. */
    public void flush() throws IOException {
        if (readOnly) return;
        demotion.drain();
    }

    /** Checks every object (and with {@code deep}, reconstructs every version); returns one line per problem. */
    public List<String> verify(boolean deep) throws IOException {
        return new Verifier(this).run(deep, v -> { });
    }

    /**
     * As {@link #verify(boolean)}, calling {@code checked} after each check of a version: once per version for its
     * object and chain, and with {@code deep} once more per COLD version reconstructed.
     */
    public List<String> verify(boolean deep, java.util.function.Consumer<VersionInfo> checked) throws IOException {
        return new Verifier(this).run(deep, checked);
    }

    // ---------------------------------------------------------------- internals

    void afterChange() {
        if (demotion != null) demotion.wake();
    }

    void pin(long versionId) {
        synchronized (pins) {
            pins.merge(versionId, 1, Integer::sum);
        }
        lastOpened.put(versionId, now());
    }

    /** When a version was last opened (or used as a base) in this session, ns since the epoch; 0 if never. */
    long lastOpened(long versionId) { return lastOpened.getOrDefault(versionId, 0L); }

    /** Bytes that compaction (re-seeding) has reclaimed over the store's life. */
    public long reclaimedBytes() throws FsException {
        return db.read(db::reclaimedBytes);
    }

    /** The background demotion of a writable store (null when read-only), for tests. */
    Demotion demotion() { return demotion; }

    void unpin(long versionId) {
        boolean released;
        synchronized (pins) {
            released = pins.computeIfPresent(versionId, (k, n) -> n <= 1 ? null : n - 1) == null;
        }
        if (released && options.keepLast() > 0) afterChange();
    }

    java.util.Set<Long> pinned() {
        synchronized (pins) {
            return java.util.Set.copyOf(pins.keySet());
        }
    }

    private void writable() throws FsException {
        if (readOnly) throw new FsException(Errno.EROFS, "store " + dir + " is open read-only");
        if (closed) throw new FsException(Errno.EIO, "store " + dir + " is closed");
    }

    String newId() {
        byte[] b = new byte[16];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    static long now() {
        java.time.Instant i = java.time.Instant.now();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    /** Copies a whole stream into a new staging file (for import and tests). */
    public Path stage(InputStream in) throws IOException {
        Path p = newStagingFile();
        try (BlobChannel out = openStaging(p)) {
            byte[] buf = new byte[1 << 16];
            long pos = 0;
            for (int n; (n = in.read(buf)) > 0; pos += n) out.writeFully(ByteBuffer.wrap(buf, 0, n), pos);
        } catch (IOException | RuntimeException e) {
            dropStaging(p);
            throw e;
        }
        return p;
    }

    /** Stops the encoders (pending demotions resume at the next open), then closes the metadata. */
    @Override public void close() {
        if (closed) return;
        closed = true;
        if (demotion != null) demotion.stop();
        try {
            if (readTimes != null) readTimes.recordAll();
            db.close();
        } finally {
            try {
                if (lock != null) lock.release();
                if (lockChannel != null) lockChannel.close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "releasing store lock: " + e.getMessage());
            }
        }
    }

    boolean isClosed() { return closed; }

    Path objectsDir() { return dir.resolve(OBJECTS); }

    Blobs blobs() { return blobs; }
}
