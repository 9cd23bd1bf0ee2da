package io.excpfs.fs.fuse;

/**
 * The uid and gid of the process whose request is being served, for ownership of new files. Set by the FUSE
 * boundary for the duration of a callback; outside one (tests, the CLI) it is the daemon's own uid and gid.
 */
public final class Caller {
    private static final long OWN;

    static {
        com.sun.security.auth.module.UnixSystem unix = new com.sun.security.auth.module.UnixSystem();
        OWN = pack((int) unix.getUid(), (int) unix.getGid());
    }

    private static final ThreadLocal<Long> CURRENT = new ThreadLocal<>();

    private Caller() {}

    private static long pack(int uid, int gid) { return ((long) uid << 32) | (gid & 0xffffffffL); }

    static void set(int uid, int gid) { CURRENT.set(pack(uid, gid)); }

    static void clear() { CURRENT.remove(); }

    private static long current() {
        Long c = CURRENT.get();
        return c == null ? OWN : c;
    }

    public static int uid() { return (int) (current() >>> 32); }

    public static int gid() { return (int) current(); }
}
