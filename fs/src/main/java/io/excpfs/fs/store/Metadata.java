package io.excpfs.fs.store;

import io.excpfs.fs.ops.Attr;
import io.excpfs.fs.ops.Errno;
import io.excpfs.fs.ops.FileSystemOps;
import io.excpfs.fs.ops.FsException;
import org.sqlite.SQLiteConfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The metadata engine over SQLite: inodes, directory entries, xattrs, versions, checkpoint sets and the garbage
 * list of objects to delete after a commit. One connection, used under this object's monitor. The schema is in
 * docs/store-format.md.
 */
final class Metadata implements AutoCloseable {
    static final String DB_FILE = "excpfs.db";
    /**
     * The metadata format this code writes; it reads [1, FORMAT_VERSION]. Version 2 hands out inode numbers from the
     * {@code next_ino} counter in {@code meta} (never reused); version 3 hands out version ids from
     * {@code next_version} (never reused) and keeps coarse last-read times in {@code version_reads}. An older store
     * is migrated when opened writable.
     */
    static final int FORMAT_VERSION = 3;
    static final long ROOT = 1;

    /** When each version was last opened by a reader (ns since the epoch), recorded coarsely; from format 3 on. */
    private static final String VERSION_READS = "CREATE TABLE IF NOT EXISTS version_reads(version INTEGER PRIMARY KEY,"
            + " last_read INTEGER NOT NULL)";

    private static final String[] SCHEMA = {
            "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "CREATE TABLE inodes(ino INTEGER PRIMARY KEY, mode INTEGER NOT NULL, uid INTEGER NOT NULL, gid INTEGER NOT NULL,"
                    + " atime INTEGER NOT NULL, mtime INTEGER NOT NULL, ctime INTEGER NOT NULL, target TEXT, version INTEGER)",
            "CREATE TABLE dentries(parent INTEGER NOT NULL, name TEXT NOT NULL, ino INTEGER NOT NULL UNIQUE, PRIMARY KEY(parent, name))",
            "CREATE TABLE xattrs(ino INTEGER NOT NULL, name TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY(ino, name))",
            "CREATE TABLE sets(id INTEGER PRIMARY KEY, dir TEXT NOT NULL, closed INTEGER NOT NULL DEFAULT 0)",
            "CREATE TABLE versions(id INTEGER PRIMARY KEY, ino INTEGER NOT NULL, path TEXT NOT NULL, lineage TEXT NOT NULL,"
                    + " set_id INTEGER NOT NULL, step INTEGER NOT NULL, sealed INTEGER NOT NULL, ended INTEGER NOT NULL DEFAULT 0,"
                    + " end_reason TEXT NOT NULL DEFAULT '', raw_bytes INTEGER NOT NULL, stored_bytes INTEGER NOT NULL,"
                    + " state TEXT NOT NULL, kind TEXT NOT NULL, object TEXT NOT NULL, object_crc INTEGER NOT NULL,"
                    + " base INTEGER NOT NULL DEFAULT 0, depth INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL)",
            "CREATE INDEX versions_lineage ON versions(lineage, id)",
            "CREATE INDEX versions_path ON versions(path)",
            "CREATE INDEX versions_set ON versions(set_id)",
            "CREATE TABLE garbage(file TEXT PRIMARY KEY)",
            VERSION_READS,
    };


    /**
     * Encode figures per COLD version, for {@code excpfs report}. Added without a format bump: an older excpfs
     * ignores the table, this one creates it when it opens a store writable and reads its absence as "no figures".
     */
    private static final String ENCODE_STATS = "CREATE TABLE IF NOT EXISTS encode_stats(version INTEGER PRIMARY KEY,"
            + " params INTEGER NOT NULL, lossy_elements INTEGER NOT NULL, kept_weights INTEGER NOT NULL,"
            + " weight_elements INTEGER NOT NULL, kept_moments INTEGER NOT NULL, moment_elements INTEGER NOT NULL,"
            + " weight_rel_error REAL NOT NULL, exp_avg_rel_error REAL NOT NULL, exp_avg_sq_rel_error REAL NOT NULL)";

    private final Connection conn;
    private final Path file;
    private final Map<String, PreparedStatement> statements = new HashMap<>();

    private Metadata(Connection conn, Path file) {
        this.conn = conn;
        this.file = file;
    }

    static Metadata open(Path file, boolean readOnly) throws IOException {
        try {
            SQLiteConfig cfg = new SQLiteConfig();
            cfg.setBusyTimeout(30_000);
            if (readOnly) {
                cfg.setReadOnly(true);
            } else {
                cfg.setJournalMode(SQLiteConfig.JournalMode.WAL);
                cfg.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
            }
            Connection c = cfg.createConnection("jdbc:sqlite:" + file);
            Metadata m = new Metadata(c, file);
            try {
                m.init(readOnly);
            } catch (IOException | SQLException | RuntimeException e) {
                c.close();
                throw e;
            }
            return m;
        } catch (SQLException e) {
            throw new IOException("cannot open metadata " + file + ": " + e.getMessage(), e);
        }
    }

    private void init(boolean readOnly) throws SQLException, IOException {
        boolean fresh;
        try (Statement s = conn.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'")) {
            fresh = rs.getInt(1) == 0;
        }
        if (fresh) {
            if (readOnly) throw new StoreFormatException(file + " holds no excpfs metadata");
            conn.setAutoCommit(false);
            try (Statement s = conn.createStatement()) {
                for (String ddl : SCHEMA) s.execute(ddl);
                s.execute(ENCODE_STATS);
                s.execute("INSERT INTO meta VALUES('format_version', '" + FORMAT_VERSION + "')");
                s.execute("INSERT INTO meta VALUES('created', '" + java.time.Instant.now() + "')");
                s.execute("INSERT INTO meta VALUES('next_ino', '2')");
                s.execute("INSERT INTO meta VALUES('next_version', '1')");
                long t = Store.now();
                s.execute("INSERT INTO inodes VALUES(1, " + (Attr.S_IFDIR | 0755) + ", 0, 0, " + t + ", " + t + ", " + t + ", NULL, NULL)");
                conn.commit();
            } catch (SQLException e) {
                conn.rollback();
                throw e;
            }
            return;
        }
        String v;
        try (Statement s = conn.createStatement();
             ResultSet rs = s.executeQuery("SELECT value FROM meta WHERE key='format_version'")) {
            if (!rs.next()) throw new StoreFormatException(file + ": metadata has no format version");
            v = rs.getString(1);
        }
        int version;
        try {
            version = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new StoreFormatException(file + ": metadata format version '" + v + "' is not a number");
        }
        if (version > FORMAT_VERSION) {
            throw new StoreFormatException("store " + file.getParent() + " has metadata format version " + version
                    + ", newer than this excpfs reads (up to " + FORMAT_VERSION + "); use a newer excpfs");
        }
        if (version < 1) throw new StoreFormatException(file + ": metadata format version " + version + " is invalid");
        if (!readOnly) {
            try (Statement s = conn.createStatement()) {
                s.execute(ENCODE_STATS);
            }
        }
        conn.setAutoCommit(false);
        if (!readOnly && version < 2) migrateToMonotonicInodes();
        if (!readOnly && version < 3) migrateToMonotonicVersionIds();
    }

    /**
     * Format 1 → 2: inode numbers came from SQLite's rowid, which hands the number of a deleted newest inode to the
     * next file while the kernel may still hold it. From 2 on they come from {@code next_ino}, which starts above
     * every number ever used that the store still remembers (live inodes and the inodes of stored versions).
     */
    private void migrateToMonotonicInodes() throws SQLException {
        try (Statement s = conn.createStatement()) {
            long next = 1;
            try (ResultSet rs = s.executeQuery("SELECT max(m) FROM (SELECT max(ino) AS m FROM inodes UNION ALL SELECT max(ino) FROM versions)")) {
                if (rs.next()) next = Math.max(next, rs.getLong(1)) + 1;
            }
            s.execute("INSERT OR REPLACE INTO meta VALUES('next_ino', '" + next + "')");
            s.execute("UPDATE meta SET value='2' WHERE key='format_version'");
            conn.commit();
            Store.LOG.log(System.Logger.Level.INFO, "metadata " + file + " migrated to format version 2 (inode numbers from " + next + " on are never reused)");
        } catch (SQLException e) {
            rollbackQuietly();
            throw e;
        }
    }

    /**
     * Format 2 → 3: version ids came from SQLite's rowid, which hands the id of a deleted newest version to the next
     * seal, while history names ({@code ckpt.pt@7}), logs, {@code stats} and users' scripts may still hold it. From 3
     * on they come from {@code next_version}, which starts above every id the store still remembers (versions, their
     * bases, current versions of inodes, encode figures); an id deleted before the migration cannot be known and is
     * not protected. Also creates {@code version_reads}.
     */
    private void migrateToMonotonicVersionIds() throws SQLException {
        try (Statement s = conn.createStatement()) {
            long next = 1;
            try (ResultSet rs = s.executeQuery("SELECT max(m) FROM (SELECT max(id) AS m FROM versions UNION ALL SELECT max(base) FROM versions"
                    + " UNION ALL SELECT max(version) FROM inodes UNION ALL SELECT max(version) FROM encode_stats)")) {
                if (rs.next()) next = Math.max(next, rs.getLong(1) + 1);
            }
            s.execute(VERSION_READS);
            s.execute("INSERT OR REPLACE INTO meta VALUES('next_version', '" + next + "')");
            s.execute("UPDATE meta SET value='3' WHERE key='format_version'");
            conn.commit();
            Store.LOG.log(System.Logger.Level.INFO, "metadata " + file + " migrated to format version 3 (version ids from " + next + " on are never reused)");
        } catch (SQLException e) {
            rollbackQuietly();
            throw e;
        }
    }

    int formatVersion() { return FORMAT_VERSION; }

    // ---------------------------------------------------------------- transactions

    interface Work<T> { T run() throws FsException, SQLException, IOException; }

    interface Action { void run() throws FsException, SQLException, IOException; }

    /** Runs queries without changing anything (inside a read transaction of its own). */
    synchronized <T> T read(Work<T> w) throws FsException {
        try {
            T t = w.run();
            conn.rollback();
            return t;
        } catch (SQLException | IOException e) {
            rollbackQuietly();
            throw new FsException(Errno.EIO, "metadata: " + e.getMessage(), e);
        } catch (FsException | RuntimeException e) {
            rollbackQuietly();
            throw e;
        }
    }

    /**
     * Runs {@code w} as one transaction. A failure before the commit rolls back and raises FsException with a
     * {@link CommitFailedException} cause (EIO) or the FsException the work raised; a failing commit raises EIO
     * with a {@link CommitStateUnknownException} cause.
     */
    synchronized <T> T write(Work<T> w) throws FsException {
        T t;
        try {
            t = w.run();
        } catch (SQLException | IOException e) {
            rollbackQuietly();
            throw new FsException(Errno.EIO, "metadata change failed: " + e.getMessage(), new CommitFailedException(e.getMessage(), e));
        } catch (FsException | RuntimeException e) {
            rollbackQuietly();
            throw e;
        }
        try {
            conn.commit();
        } catch (SQLException e) {
            rollbackQuietly();
            throw new FsException(Errno.EIO, "metadata commit: state unknown: " + e.getMessage(), new CommitStateUnknownException(e.getMessage(), e));
        }
        return t;
    }

    void update(Action a) throws FsException {
        write(() -> {
            a.run();
            return null;
        });
    }

    private void rollbackQuietly() {
        try {
            conn.rollback();
        } catch (SQLException e) {
            Store.LOG.log(System.Logger.Level.WARNING, "rollback failed: " + e.getMessage());
        }
    }

    private PreparedStatement st(String sql, Object... args) throws SQLException {
        PreparedStatement p = statements.get(sql);
        if (p == null) {
            p = conn.prepareStatement(sql);
            statements.put(sql, p);
        }
        p.clearParameters();
        for (int i = 0; i < args.length; i++) p.setObject(i + 1, args[i]);
        return p;
    }

    private int exec(String sql, Object... args) throws SQLException {
        return st(sql, args).executeUpdate();
    }

    private String metaValue(String key, String dflt) throws SQLException {
        try (ResultSet rs = st("SELECT value FROM meta WHERE key=?", key).executeQuery()) {
            return rs.next() ? rs.getString(1) : dflt;
        }
    }

    private long queryLong(String sql, long dflt, Object... args) throws SQLException {
        try (ResultSet rs = st(sql, args).executeQuery()) {
            if (!rs.next()) return dflt;
            long v = rs.getLong(1);
            return rs.wasNull() ? dflt : v;
        }
    }

    // ---------------------------------------------------------------- paths and inodes

    static List<String> components(String path) throws FsException {
        if (path == null || !path.startsWith("/")) throw new FsException(Errno.EINVAL, "not an absolute path: " + path);
        List<String> out = new ArrayList<>();
        for (String c : path.split("/")) {
            if (c.isEmpty() || c.equals(".")) continue;
            if (c.equals("..")) throw new FsException(Errno.EINVAL, "'..' in path " + path);
            if (c.getBytes(StandardCharsets.UTF_8).length > Store.NAME_MAX) throw new FsException(Errno.ENAMETOOLONG, path);
            out.add(c);
        }
        return out;
    }

    static String join(List<String> comps, int n) {
        if (n == 0) return "/";
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) b.append('/').append(comps.get(i));
        return b.toString();
    }

    static String normalize(String path) throws FsException {
        List<String> c = components(path);
        return join(c, c.size());
    }

    long resolve(String path) throws FsException, SQLException {
        long ino = ROOT;
        for (String c : components(path)) {
            if ((modeOf(ino) & Attr.S_IFMT) != Attr.S_IFDIR) throw new FsException(Errno.ENOTDIR, path);
            long child = queryLong("SELECT ino FROM dentries WHERE parent=? AND name=?", 0, ino, c);
            if (child == 0) throw new FsException(Errno.ENOENT, path);
            ino = child;
        }
        return ino;
    }

    private int modeOf(long ino) throws SQLException, FsException {
        long m = queryLong("SELECT mode FROM inodes WHERE ino=?", -1, ino);
        if (m < 0) throw new FsException(Errno.ENOENT, "inode " + ino);
        return (int) m;
    }

    /** The path of an inode now, walking up its directory entries. */
    String pathOf(long ino) throws SQLException, FsException {
        List<String> names = new ArrayList<>();
        long cur = ino;
        while (cur != ROOT) {
            try (ResultSet rs = st("SELECT parent, name FROM dentries WHERE ino=?", cur).executeQuery()) {
                if (!rs.next()) throw new FsException(Errno.ENOENT, "inode " + ino + " is not linked");
                names.add(0, rs.getString(2));
                cur = rs.getLong(1);
            }
            if (names.size() > 4096) throw new FsException(Errno.EIO, "directory loop at inode " + ino);
        }
        return join(names, names.size());
    }

    Attr attr(long ino) throws SQLException, FsException {
        try (ResultSet rs = st("SELECT i.mode, i.uid, i.gid, i.atime, i.mtime, i.ctime, i.target, v.raw_bytes"
                + " FROM inodes i LEFT JOIN versions v ON v.id = i.version WHERE i.ino=?", ino).executeQuery()) {
            if (!rs.next()) throw new FsException(Errno.ENOENT, "inode " + ino);
            int mode = rs.getInt(1);
            long size;
            int type = mode & Attr.S_IFMT;
            if (type == Attr.S_IFLNK) size = rs.getString(7).getBytes(StandardCharsets.UTF_8).length;
            else if (type == Attr.S_IFDIR) size = 4096;
            else size = rs.getLong(8);
            return new Attr(ino, mode, type == Attr.S_IFDIR ? 2 : 1, rs.getInt(2), rs.getInt(3), size, rs.getLong(4),
                    rs.getLong(5), rs.getLong(6));
        }
    }

    List<String> children(long ino) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = st("SELECT name FROM dentries WHERE parent=? ORDER BY name", ino).executeQuery()) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }

    long inodeCount() throws SQLException { return queryLong("SELECT count(*) FROM inodes", 0); }

    long currentVersion(long ino) throws SQLException { return queryLong("SELECT version FROM inodes WHERE ino=?", 0, ino); }

    String readlink(long ino, String path) throws SQLException, FsException {
        try (ResultSet rs = st("SELECT target FROM inodes WHERE ino=?", ino).executeQuery()) {
            if (!rs.next()) throw new FsException(Errno.ENOENT, path);
            String t = rs.getString(1);
            if (t == null) throw new FsException(Errno.EINVAL, path + " is not a symlink");
            return t;
        }
    }

    private long parentDir(List<String> comps, String path) throws SQLException, FsException {
        if (comps.isEmpty()) throw new FsException(Errno.EEXIST, "/");
        long parent = resolve(join(comps, comps.size() - 1));
        if ((modeOf(parent) & Attr.S_IFMT) != Attr.S_IFDIR) throw new FsException(Errno.ENOTDIR, path);
        return parent;
    }

    long createNode(String path, int mode, int uid, int gid, String target) throws SQLException, FsException {
        List<String> comps = components(path);
        long parent = parentDir(comps, path);
        String name = comps.get(comps.size() - 1);
        if (queryLong("SELECT ino FROM dentries WHERE parent=? AND name=?", 0, parent, name) != 0) throw new FsException(Errno.EEXIST, path);
        long t = Store.now();
        long ino = Long.parseLong(metaValue("next_ino", "0"));
        if (ino <= ROOT) throw new SQLException("metadata has no valid next_ino counter");
        exec("UPDATE meta SET value=? WHERE key='next_ino'", Long.toString(ino + 1));
        exec("INSERT INTO inodes(ino, mode, uid, gid, atime, mtime, ctime, target, version) VALUES(?,?,?,?,?,?,?,?,NULL)", ino, mode, uid, gid, t, t, t, target);
        exec("INSERT INTO dentries VALUES(?,?,?)", parent, name, ino);
        touch(parent, t);
        return ino;
    }

    private void touch(long dirIno, long t) throws SQLException {
        exec("UPDATE inodes SET mtime=?, ctime=? WHERE ino=?", t, t, dirIno);
    }

    void rmdir(String path) throws SQLException, FsException {
        List<String> comps = components(path);
        if (comps.isEmpty()) throw new FsException(Errno.EBUSY, "cannot remove the root directory");
        long ino = resolve(path);
        if ((modeOf(ino) & Attr.S_IFMT) != Attr.S_IFDIR) throw new FsException(Errno.ENOTDIR, path);
        if (queryLong("SELECT count(*) FROM dentries WHERE parent=?", 0, ino) > 0) throw new FsException(Errno.ENOTEMPTY, path);
        long parent = resolve(join(comps, comps.size() - 1));
        dropInode(ino);
        touch(parent, Store.now());
    }

    void unlink(String path, long now) throws SQLException, FsException {
        List<String> comps = components(path);
        if (comps.isEmpty()) throw new FsException(Errno.EISDIR, path);
        long ino = resolve(path);
        if ((modeOf(ino) & Attr.S_IFMT) == Attr.S_IFDIR) throw new FsException(Errno.EISDIR, path);
        endVersion(ino, now, "deleted");
        dropInode(ino);
        touch(resolve(join(comps, comps.size() - 1)), now);
    }

    private void endVersion(long ino, long now, String reason) throws SQLException {
        long v = currentVersion(ino);
        if (v != 0) exec("UPDATE versions SET status='HISTORY', ended=?, end_reason=? WHERE id=?", now, reason, v);
    }

    private void dropInode(long ino) throws SQLException {
        exec("DELETE FROM dentries WHERE ino=?", ino);
        exec("DELETE FROM xattrs WHERE ino=?", ino);
        exec("DELETE FROM inodes WHERE ino=?", ino);
    }

    void rename(String from, String to, int flags, long now) throws SQLException, FsException {
        if ((flags & ~(FileSystemOps.RENAME_NOREPLACE | FileSystemOps.RENAME_EXCHANGE)) != 0
                || flags == (FileSystemOps.RENAME_NOREPLACE | FileSystemOps.RENAME_EXCHANGE)) {
            throw new FsException(Errno.EINVAL, "rename flags " + flags);
        }
        List<String> fc = components(from);
        List<String> tc = components(to);
        if (fc.isEmpty() || tc.isEmpty()) throw new FsException(Errno.EBUSY, "cannot rename the root directory");
        String f = join(fc, fc.size());
        String t = join(tc, tc.size());
        long src = resolve(f);
        long fromParent = resolve(join(fc, fc.size() - 1));
        long toParent = parentDir(tc, t);
        String toName = tc.get(tc.size() - 1);
        long dst = queryLong("SELECT ino FROM dentries WHERE parent=? AND name=?", 0, toParent, toName);
        boolean srcDir = (modeOf(src) & Attr.S_IFMT) == Attr.S_IFDIR;
        if (srcDir && (t + "/").startsWith(f + "/") && !t.equals(f)) throw new FsException(Errno.EINVAL, "cannot move " + f + " into itself");
        if ((flags & FileSystemOps.RENAME_EXCHANGE) != 0) {
            if (dst == 0) throw new FsException(Errno.ENOENT, t);
            boolean dstDir = (modeOf(dst) & Attr.S_IFMT) == Attr.S_IFDIR;
            if (dstDir && (f + "/").startsWith(t + "/")) throw new FsException(Errno.EINVAL, "cannot exchange " + t + " with its descendant");
            if (src == dst) return;
            Map<Long, String> moved = livePathsUnder(f, t);
            moved.putAll(livePathsUnder(t, f));
            exec("DELETE FROM dentries WHERE ino=?", src);
            exec("UPDATE dentries SET parent=?, name=? WHERE ino=?", fromParent, fc.get(fc.size() - 1), dst);
            exec("INSERT INTO dentries VALUES(?,?,?)", toParent, toName, src);
            applyPaths(moved);
            exec("UPDATE inodes SET ctime=? WHERE ino IN (?, ?)", now, src, dst);
            touch(fromParent, now);
            touch(toParent, now);
            return;
        }
        if (dst == src) return;
        if (dst != 0) {
            if ((flags & FileSystemOps.RENAME_NOREPLACE) != 0) throw new FsException(Errno.EEXIST, t);
            boolean dstDir = (modeOf(dst) & Attr.S_IFMT) == Attr.S_IFDIR;
            if (srcDir && !dstDir) throw new FsException(Errno.ENOTDIR, t);
            if (!srcDir && dstDir) throw new FsException(Errno.EISDIR, t);
            if (dstDir && queryLong("SELECT count(*) FROM dentries WHERE parent=?", 0, dst) > 0) throw new FsException(Errno.ENOTEMPTY, t);
            if (!dstDir) endVersion(dst, now, "replaced");
            dropInode(dst);
        }
        Map<Long, String> moved = livePathsUnder(f, t);
        exec("UPDATE dentries SET parent=?, name=? WHERE ino=?", toParent, toName, src);
        applyPaths(moved);
        exec("UPDATE inodes SET ctime=? WHERE ino=?", now, src);
        touch(fromParent, now);
        touch(toParent, now);
    }

    /** Live versions at {@code from} or below it, with their path after a move to {@code to}. */
    private Map<Long, String> livePathsUnder(String from, String to) throws SQLException {
        Map<Long, String> out = new HashMap<>();
        String prefix = from + "/";
        try (ResultSet rs = st("SELECT id, path FROM versions WHERE status='LIVE' AND (path=? OR substr(path, 1, ?)=?)",
                from, prefix.length(), prefix).executeQuery()) {
            while (rs.next()) out.put(rs.getLong(1), to + rs.getString(2).substring(from.length()));
        }
        return out;
    }

    private void applyPaths(Map<Long, String> moved) throws SQLException {
        for (Map.Entry<Long, String> e : moved.entrySet()) {
            exec("UPDATE versions SET path=?, lineage=?, step=? WHERE id=?", e.getValue(), Lineage.key(e.getValue()),
                    Lineage.step(e.getValue()), e.getKey());
        }
    }

    void chmod(long ino, int mode, long now) throws SQLException, FsException {
        int type = modeOf(ino) & Attr.S_IFMT;
        exec("UPDATE inodes SET mode=?, ctime=? WHERE ino=?", type | (mode & 07777), now, ino);
    }

    void chown(long ino, int uid, int gid, long now) throws SQLException, FsException {
        modeOf(ino);
        if (uid != -1) exec("UPDATE inodes SET uid=? WHERE ino=?", uid, ino);
        if (gid != -1) exec("UPDATE inodes SET gid=? WHERE ino=?", gid, ino);
        exec("UPDATE inodes SET ctime=? WHERE ino=?", now, ino);
    }

    void utimens(long ino, long atime, long mtime, long now) throws SQLException, FsException {
        modeOf(ino);
        if (atime != Long.MIN_VALUE) exec("UPDATE inodes SET atime=? WHERE ino=?", atime, ino);
        if (mtime != Long.MIN_VALUE) exec("UPDATE inodes SET mtime=? WHERE ino=?", mtime, ino);
        exec("UPDATE inodes SET ctime=? WHERE ino=?", now, ino);
    }

    byte[] getxattr(long ino, String name) throws SQLException, FsException {
        try (ResultSet rs = st("SELECT value FROM xattrs WHERE ino=? AND name=?", ino, name).executeQuery()) {
            if (!rs.next()) throw new FsException(Errno.ENODATA, name);
            return rs.getBytes(1);
        }
    }

    void setxattr(long ino, String name, byte[] value, int flags, long now) throws SQLException, FsException {
        modeOf(ino);
        boolean exists = queryLong("SELECT count(*) FROM xattrs WHERE ino=? AND name=?", 0, ino, name) > 0;
        if ((flags & FileSystemOps.XATTR_CREATE) != 0 && exists) throw new FsException(Errno.EEXIST, name);
        if ((flags & FileSystemOps.XATTR_REPLACE) != 0 && !exists) throw new FsException(Errno.ENODATA, name);
        exec("INSERT OR REPLACE INTO xattrs VALUES(?,?,?)", ino, name, value);
        exec("UPDATE inodes SET ctime=? WHERE ino=?", now, ino);
    }

    List<String> listxattr(long ino) throws SQLException, FsException {
        modeOf(ino);
        List<String> out = new ArrayList<>();
        try (ResultSet rs = st("SELECT name FROM xattrs WHERE ino=? ORDER BY name", ino).executeQuery()) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }

    void removexattr(long ino, String name, long now) throws SQLException, FsException {
        if (exec("DELETE FROM xattrs WHERE ino=? AND name=?", ino, name) == 0) throw new FsException(Errno.ENODATA, name);
        exec("UPDATE inodes SET ctime=? WHERE ino=?", now, ino);
    }

    // ---------------------------------------------------------------- versions

    private static final String VERSION_COLUMNS = "id, ino, path, lineage, set_id, step, sealed, ended, end_reason,"
            + " raw_bytes, stored_bytes, state, kind, base, depth, status";

    private static VersionInfo versionOf(ResultSet rs) throws SQLException {
        return new VersionInfo(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4), rs.getLong(5),
                rs.getLong(6), rs.getLong(7), rs.getLong(8), rs.getString(9), rs.getLong(10), rs.getLong(11),
                VersionState.valueOf(rs.getString(12)), rs.getString(13), rs.getLong(14), rs.getInt(15),
                VersionStatus.valueOf(rs.getString(16)));
    }

    private List<VersionInfo> versions(String where, Object... args) throws SQLException {
        List<VersionInfo> out = new ArrayList<>();
        try (ResultSet rs = st("SELECT " + VERSION_COLUMNS + " FROM versions " + where, args).executeQuery()) {
            while (rs.next()) out.add(versionOf(rs));
        }
        return out;
    }

    VersionInfo version(long id) throws SQLException {
        List<VersionInfo> v = versions("WHERE id=?", id);
        return v.isEmpty() ? null : v.get(0);
    }

    List<VersionInfo> allVersions() throws SQLException { return versions("ORDER BY id"); }

    List<VersionInfo> versionsOf(String pathOrLineage) throws SQLException {
        return versions("WHERE path=? OR lineage=? OR lineage=? ORDER BY id", pathOrLineage, pathOrLineage, Lineage.key(pathOrLineage));
    }

    String objectOf(long versionId) throws SQLException, FsException {
        try (ResultSet rs = st("SELECT object FROM versions WHERE id=?", versionId).executeQuery()) {
            if (!rs.next()) throw new FsException(Errno.ENOENT, "no version " + versionId);
            return rs.getString(1);
        }
    }

    int objectCrc(long versionId) throws SQLException {
        return (int) queryLong("SELECT object_crc FROM versions WHERE id=?", 0, versionId);
    }

    /** One step of a chain: enough to read and decode a COLD version's object. */
    record ChainLink(long id, VersionState state, String object, int objectCrc, long base) {}

    Work<ChainLink> chainLinkSupplier(long id) {
        return () -> {
            try (ResultSet rs = st("SELECT id, state, object, object_crc, base FROM versions WHERE id=?", id).executeQuery()) {
                if (!rs.next()) return null;
                return new ChainLink(rs.getLong(1), VersionState.valueOf(rs.getString(2)), rs.getString(3), rs.getInt(4), rs.getLong(5));
            }
        };
    }

    VersionInfo seal(long ino, String objectId, long size, long stored, int sumCrc, long now, long mtime) throws SQLException, FsException {
        int mode = modeOf(ino);
        if ((mode & Attr.S_IFMT) == Attr.S_IFDIR) throw new FsException(Errno.EISDIR, "inode " + ino);
        if ((mode & Attr.S_IFMT) != Attr.S_IFREG) throw new FsException(Errno.EINVAL, "inode " + ino + " is not a regular file");
        String path = pathOf(ino);
        endVersion(ino, now, "overwritten");
        int slash = path.lastIndexOf('/');
        String dir = slash <= 0 ? "/" : path.substring(0, slash);
        long set = queryLong("SELECT max(id) FROM sets WHERE dir=?", 0, dir);
        if (set != 0) {
            boolean closed = queryLong("SELECT closed FROM sets WHERE id=?", 0, set) != 0;
            boolean sameLineage = queryLong("SELECT count(*) FROM versions WHERE set_id=? AND (path=? OR lineage=?)", 0,
                    set, path, Lineage.key(path)) > 0;
            if (closed || sameLineage) set = 0;
        }
        if (set == 0) {
            exec("INSERT INTO sets(dir) VALUES(?)", dir);
            set = queryLong("SELECT last_insert_rowid()", 0);
        }
        long id = Long.parseLong(metaValue("next_version", "0"));
        if (id < 1) throw new SQLException("metadata has no valid next_version counter");
        exec("UPDATE meta SET value=? WHERE key='next_version'", Long.toString(id + 1));
        exec("INSERT INTO versions(id, ino, path, lineage, set_id, step, sealed, raw_bytes, stored_bytes, state, kind, object,"
                        + " object_crc, status) VALUES(?,?,?,?,?,?,?,?,?,'HOT','hot',?,?,'LIVE')",
                id, ino, path, Lineage.key(path), set, Lineage.step(path), now, size, stored, objectId, sumCrc);
        exec("UPDATE inodes SET version=?, mtime=?, ctime=? WHERE ino=?", id, mtime == Long.MIN_VALUE ? now : mtime, now, ino);
        return version(id);
    }

    void closeSet(long setId) throws SQLException { exec("UPDATE sets SET closed=1 WHERE id=?", setId); }

    /** Replaces a HOT version's object by an encoded one; the raw object becomes garbage. */
    boolean demote(long id, String kind, String object, int objectCrc, long storedBytes, long base, int depth) throws SQLException {
        String old = null;
        try (ResultSet rs = st("SELECT object FROM versions WHERE id=? AND state='HOT'", id).executeQuery()) {
            if (rs.next()) old = rs.getString(1);
        }
        if (old == null) return false;
        exec("UPDATE versions SET state='COLD', kind=?, object=?, object_crc=?, stored_bytes=?, base=?, depth=? WHERE id=?",
                kind, object, objectCrc, storedBytes, base, depth, id);
        addGarbage(old.substring(0, 2) + "/" + old + ".raw");
        addGarbage(old.substring(0, 2) + "/" + old + ".sum");
        return true;
    }

    /** Records the codec's figures of a version just demoted ({@code params}: PARAM-role float elements of its layout). */
    void recordStats(long id, long params, io.excpfs.codec.EncodeStats e) throws SQLException {
        exec("INSERT OR REPLACE INTO encode_stats VALUES(?,?,?,?,?,?,?,?,?,?)", id, params, e.lossyElements(), e.keptWeights(),
                e.weightElements(), e.keptMoments(), e.momentElements(), e.weightRelError(), e.expAvgRelError(), e.expAvgSqRelError());
    }

    /** Encode figures by version id; empty for a store written before they were recorded. */
    Map<Long, EncodeFigures> encodeFigures() throws SQLException {
        Map<Long, EncodeFigures> out = new HashMap<>();
        if (queryLong("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='encode_stats'", 0) == 0) return out;
        try (ResultSet rs = st("SELECT s.version, s.params, v.raw_bytes, v.stored_bytes, s.lossy_elements, s.kept_weights,"
                + " s.weight_elements, s.kept_moments, s.moment_elements, s.weight_rel_error, s.exp_avg_rel_error,"
                + " s.exp_avg_sq_rel_error FROM encode_stats s JOIN versions v ON v.id = s.version").executeQuery()) {
            while (rs.next()) {
                out.put(rs.getLong(1), new EncodeFigures(rs.getLong(2), new io.excpfs.codec.EncodeStats(rs.getLong(3), rs.getLong(4),
                        rs.getLong(5), rs.getLong(6), rs.getLong(7), rs.getLong(8), rs.getLong(9), rs.getDouble(10),
                        rs.getDouble(11), rs.getDouble(12))));
            }
        }
        return out;
    }

    void hide(long id) throws SQLException { exec("UPDATE versions SET status='HIDDEN' WHERE id=? AND status<>'LIVE'", id); }

    /** Deletes a version that is not live and not a base of another; its objects become garbage. */
    boolean remove(long id) throws SQLException {
        VersionInfo v = version(id);
        if (v == null || v.status() == VersionStatus.LIVE) return false;
        if (queryLong("SELECT count(*) FROM versions WHERE base=?", 0, id) > 0) return false;
        String obj = objectOf0(id);
        exec("DELETE FROM versions WHERE id=?", id);
        exec("DELETE FROM encode_stats WHERE version=?", id);
        exec("DELETE FROM version_reads WHERE version=?", id);
        for (String f : objectFiles(v.state(), obj)) addGarbage(f);
        return true;
    }

    /** Versions whose base is {@code id}, in id order. */
    List<Long> dependents(long id) throws SQLException {
        List<Long> out = new ArrayList<>();
        try (ResultSet rs = st("SELECT id FROM versions WHERE base=? ORDER BY id", id).executeQuery()) {
            while (rs.next()) out.add(rs.getLong(1));
        }
        return out;
    }

    /**
     * Switches COLD residual {@code id} to the seed {@code object} and removes the hidden versions {@code freed}
     * (its base, the base's base, ...), after checking that nothing changed since the re-seeding was planned: the
     * version still has {@code expectedObject} on {@code expectedBase}, every freed version is HIDDEN with the
     * previous one as its only dependent, and neither the version, its dependents, nor a freed version is in
     * {@code pinned}. Objects it unreferences become garbage; depths below the version are recomputed.
     *
     * @return false, changing nothing, when a check fails
     */
    boolean reseed(long id, String expectedObject, long expectedBase, String kind, String object, int objectCrc,
                   long storedBytes, List<Long> freed, Set<Long> pinned) throws SQLException {
        VersionInfo v = version(id);
        if (v == null || v.state() != VersionState.COLD || v.base() != expectedBase || !expectedObject.equals(objectOf0(id))) return false;
        if (pinned.contains(id)) return false;
        Map<Long, Integer> depths = new HashMap<>();
        java.util.ArrayDeque<Long> todo = new java.util.ArrayDeque<>();
        depths.put(id, 0);
        todo.add(id);
        while (!todo.isEmpty()) {
            long cur = todo.pop();
            for (long c : dependents(cur)) {
                if (pinned.contains(c) || depths.containsKey(c)) return false;
                depths.put(c, depths.get(cur) + 1);
                todo.add(c);
            }
        }
        long below = id;
        long expected = expectedBase;
        for (long f : freed) {
            VersionInfo fv = version(f);
            if (f != expected || fv == null || fv.status() != VersionStatus.HIDDEN || pinned.contains(f)) return false;
            if (!dependents(f).equals(List.of(below))) return false;
            below = f;
            expected = fv.base();
        }
        exec("UPDATE versions SET kind=?, object=?, object_crc=?, stored_bytes=?, base=0, depth=0 WHERE id=?",
                kind, object, objectCrc, storedBytes, id);
        for (String f : objectFiles(VersionState.COLD, expectedObject)) addGarbage(f);
        for (Map.Entry<Long, Integer> e : depths.entrySet()) {
            if (e.getKey() != id) exec("UPDATE versions SET depth=? WHERE id=?", e.getValue(), e.getKey());
        }
        for (long f : freed) {
            if (!remove(f)) throw new SQLException("hidden version " + f + " could not be removed after re-seeding " + id);
        }
        return true;
    }

    /** Last-read times by version id (ns since the epoch); empty for a store of format 2 or older opened read-only. */
    Map<Long, Long> lastReads() throws SQLException {
        Map<Long, Long> out = new HashMap<>();
        if (queryLong("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='version_reads'", 0) == 0) return out;
        try (ResultSet rs = st("SELECT version, last_read FROM version_reads").executeQuery()) {
            while (rs.next()) out.put(rs.getLong(1), rs.getLong(2));
        }
        return out;
    }

    /** Records that version {@code id} was read at {@code nanos}, unless a later read is recorded or it is gone. */
    void recordRead(long id, long nanos) throws SQLException {
        exec("INSERT INTO version_reads SELECT ?, ? WHERE EXISTS (SELECT 1 FROM versions WHERE id=?)"
                + " ON CONFLICT(version) DO UPDATE SET last_read=max(last_read, excluded.last_read)", id, nanos, id);
    }

    /** Adds to the bytes compaction reclaimed over the store's life. */
    void addReclaimed(long bytes) throws SQLException {
        long now = Long.parseLong(metaValue("reclaimed_bytes", "0"));
        exec("INSERT OR REPLACE INTO meta VALUES('reclaimed_bytes', ?)", Long.toString(now + bytes));
    }

    /** Bytes compaction reclaimed over the store's life (0 for a store never compacted). */
    long reclaimedBytes() throws SQLException { return Long.parseLong(metaValue("reclaimed_bytes", "0")); }

    private String objectOf0(long id) throws SQLException {
        try (ResultSet rs = st("SELECT object FROM versions WHERE id=?", id).executeQuery()) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    static List<String> objectFiles(VersionState state, String object) {
        String p = object.substring(0, 2) + "/" + object;
        return state == VersionState.HOT ? List.of(p + ".raw", p + ".sum") : List.of(p + ".excp");
    }

    private void addGarbage(String file) throws SQLException { exec("INSERT OR IGNORE INTO garbage VALUES(?)", file); }

    synchronized List<String> garbage() throws IOException {
        try {
            List<String> out = new ArrayList<>();
            try (ResultSet rs = st("SELECT file FROM garbage").executeQuery()) {
                while (rs.next()) out.add(rs.getString(1));
            }
            conn.rollback();
            return out;
        } catch (SQLException e) {
            throw new IOException("metadata: " + e.getMessage(), e);
        }
    }

    synchronized void forgetGarbage(List<String> files) throws IOException {
        try {
            for (String f : files) exec("DELETE FROM garbage WHERE file=?", f);
            conn.commit();
        } catch (SQLException e) {
            rollbackQuietly();
            throw new IOException("metadata: " + e.getMessage(), e);
        }
    }

    synchronized Set<String> referencedObjectFiles() throws IOException {
        try {
            Set<String> out = new HashSet<>();
            try (ResultSet rs = st("SELECT state, object FROM versions").executeQuery()) {
                while (rs.next()) out.addAll(objectFiles(VersionState.valueOf(rs.getString(1)), rs.getString(2)));
            }
            conn.rollback();
            return out;
        } catch (SQLException e) {
            throw new IOException("metadata: " + e.getMessage(), e);
        }
    }

    @Override public synchronized void close() {
        try {
            for (PreparedStatement p : statements.values()) p.close();
            conn.rollback();
            conn.close();
        } catch (SQLException e) {
            Store.LOG.log(System.Logger.Level.WARNING, "closing metadata: " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------- row copies (damage to values)

    /**
     * Second copies of the columns that decide what a read returns, whom it is allowed to, and what retention may
     * delete: covering indexes, which SQLite keeps equal to their table in every connection (an older excpfs or the
     * sqlite3 shell included). SQLite pages carry no checksum, so a flipped byte inside a value goes unnoticed by
     * SQLite itself; {@code PRAGMA integrity_check} compares every row with its index entries, and
     * {@link #versionRowMismatch}/{@link #inodeRowMismatch} compare one row with its copy on each open. Added within
     * format version 1 (like {@code encode_stats}): created when a store is opened writable.
     */
    private static final String[] ROW_COPIES = {
            "CREATE INDEX IF NOT EXISTS versions_copy ON versions(id, ino, state, kind, object, object_crc, base, depth, raw_bytes, status)",
            "CREATE INDEX IF NOT EXISTS inodes_copy ON inodes(ino, mode, uid, gid, version, target)",
    };
    private static final String VERSION_COPY_COLUMNS = "id, ino, state, kind, object, object_crc, base, depth, raw_bytes, status";
    private static final String INODE_COPY_COLUMNS = "ino, mode, uid, gid, version, target";
    private Boolean rowCopies;

    /** Creates the row copies if missing (a writable open of a store written before they existed). */
    synchronized void addRowCopies() throws IOException {
        try (Statement s = conn.createStatement()) {
            for (String ddl : ROW_COPIES) s.execute(ddl);
            conn.commit();
            rowCopies = null;
        } catch (SQLException e) {
            rollbackQuietly();
            throw new IOException("metadata " + file + ": adding row copies: " + e.getMessage(), e);
        }
    }

    private boolean hasRowCopies() throws SQLException {
        if (rowCopies == null) {
            rowCopies = queryLong("SELECT count(*) FROM sqlite_master WHERE type='index' AND name IN ('versions_copy', 'inodes_copy')", 0) == 2;
        }
        return rowCopies;
    }

    /** Null when the row of version {@code id} equals its index copy (or the store has none), else what differs. */
    String versionRowMismatch(long id) throws SQLException {
        return rowMismatch("versions", "versions_copy", VERSION_COPY_COLUMNS, "id", id, "version " + id);
    }

    /** Null when the row of inode {@code ino} equals its index copy (or the store has none), else what differs. */
    String inodeRowMismatch(long ino) throws SQLException {
        return rowMismatch("inodes", "inodes_copy", INODE_COPY_COLUMNS, "ino", ino, "inode " + ino);
    }

    private String rowMismatch(String table, String index, String columns, String key, long id, String what) throws SQLException {
        if (!hasRowCopies()) return null;
        List<Object> row = rowValues("SELECT " + columns + " FROM " + table + " NOT INDEXED WHERE " + key + "=?", id);
        List<Object> copy = rowValues("SELECT " + columns + " FROM " + table + " INDEXED BY " + index + " WHERE " + key + "=?", id);
        if (java.util.Objects.equals(row, copy)) return null;
        String[] names = columns.split(", ");
        if (row == null || copy == null) {
            return file + " is damaged: the row of " + what + " is " + (row == null ? "missing from its table" : "missing from its copy " + index);
        }
        for (int i = 0; i < names.length; i++) {
            if (!java.util.Objects.equals(row.get(i), copy.get(i))) {
                return file + " is damaged: " + what + " has " + names[i] + " " + row.get(i) + " in its row but " + copy.get(i) + " in its copy " + index;
            }
        }
        return file + " is damaged: the row of " + what + " differs from its copy " + index;
    }

    private List<Object> rowValues(String sql, long id) throws SQLException {
        try (ResultSet rs = st(sql, id).executeQuery()) {
            if (!rs.next()) return null;
            int n = rs.getMetaData().getColumnCount();
            List<Object> out = new ArrayList<>(n);
            for (int i = 1; i <= n; i++) {
                Object o = rs.getObject(i);
                out.add(o instanceof Integer x ? Long.valueOf(x) : o);
            }
            return out;
        }
    }

    /** {@code PRAGMA integrity_check}: structure, and every row against its index entries; one line per problem. */
    synchronized List<String> integrityProblems() throws IOException {
        List<String> out = new ArrayList<>();
        try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("PRAGMA integrity_check(100)")) {
            while (rs.next()) {
                String line = rs.getString(1);
                if (!"ok".equals(line)) out.add(file + ": " + line);
            }
            conn.rollback();
        } catch (SQLException e) {
            rollbackQuietly();
            out.add(file + ": integrity check failed: " + e.getMessage());
        }
        return out;
    }

    /** The object files the index copy of the versions table references; null when the store has no row copies. */
    synchronized Set<String> referencedObjectFilesByCopy() throws IOException {
        try {
            if (!hasRowCopies()) {
                conn.rollback();
                return null;
            }
            Set<String> out = new HashSet<>();
            try (ResultSet rs = st("SELECT state, object FROM versions INDEXED BY versions_copy").executeQuery()) {
                while (rs.next()) out.addAll(objectFiles(VersionState.valueOf(rs.getString(1)), rs.getString(2)));
            }
            conn.rollback();
            return out;
        } catch (SQLException | IllegalArgumentException e) {
            rollbackQuietly();
            throw new IOException("metadata " + file + ": " + e.getMessage(), e);
        }
    }
}
