package io.excpfs.fs.fuse;

import io.excpfs.fs.ops.Attr;
import io.excpfs.fs.ops.StatFs;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The FUSE kernel protocol (include/uapi/linux/fuse.h, 7.x) as far as excpfs speaks it: opcodes, flags, the INIT
 * negotiation and the encoding of reply records. All records are little-endian and 64-bit aligned.
 *
 * <p>Request: {@code fuse_in_header} (40 bytes: len u32, opcode u32, unique u64, nodeid u64, uid, gid, pid u32,
 * total_extlen u16, padding u16) and the opcode's argument. Reply: {@code fuse_out_header} (16 bytes: len u32,
 * error i32 = -errno, unique u64) and the opcode's result, written with one write(2).
 */
final class KernelProtocol {
    private KernelProtocol() {}

    static final int IN_HEADER = 40, OUT_HEADER = 16;
    static final int MAJOR = 7;
    /** The newest minor whose records this code writes (the header it was written against). */
    static final int MINOR = 38;
    /** Oldest kernel minor accepted (max_pages arrived in 7.28). */
    static final int MIN_MINOR = 28;

    static final int LOOKUP = 1, FORGET = 2, GETATTR = 3, SETATTR = 4, READLINK = 5, SYMLINK = 6, MKNOD = 8,
            MKDIR = 9, UNLINK = 10, RMDIR = 11, RENAME = 12, LINK = 13, OPEN = 14, READ = 15, WRITE = 16,
            STATFS = 17, RELEASE = 18, FSYNC = 20, SETXATTR = 21, GETXATTR = 22, LISTXATTR = 23, REMOVEXATTR = 24,
            FLUSH = 25, INIT = 26, OPENDIR = 27, READDIR = 28, RELEASEDIR = 29, FSYNCDIR = 30, ACCESS = 34,
            CREATE = 35, INTERRUPT = 36, DESTROY = 38, BATCH_FORGET = 42, RENAME2 = 45;

    static final int ASYNC_READ = 1, ATOMIC_O_TRUNC = 1 << 3, EXPORT_SUPPORT = 1 << 4, BIG_WRITES = 1 << 5,
            DONT_MASK = 1 << 6, AUTO_INVAL_DATA = 1 << 12, WRITEBACK_CACHE = 1 << 16, PARALLEL_DIROPS = 1 << 18,
            MAX_PAGES = 1 << 22;

    static final int FATTR_MODE = 1, FATTR_UID = 1 << 1, FATTR_GID = 1 << 2, FATTR_SIZE = 1 << 3,
            FATTR_ATIME = 1 << 4, FATTR_MTIME = 1 << 5, FATTR_FH = 1 << 6, FATTR_ATIME_NOW = 1 << 7,
            FATTR_MTIME_NOW = 1 << 8;
    static final int GETATTR_FH = 1;
    static final int RELEASE_FLUSH = 1;
    static final int FSYNC_FDATASYNC = 1;
    static final int FOPEN_DIRECT_IO = 1, FOPEN_KEEP_CACHE = 1 << 1;
    /** {@code fuse_notify_code} of an unsolicited message that drops the kernel's cache of an inode. */
    static final int NOTIFY_INVAL_INODE = 2;
    /**
     * The first minor (Linux 6.6) whose kernels invalidate cached pages over the range of a {@code FOPEN_DIRECT_IO}
     * write before sending it, so such writes stay coherent with other descriptors' page cache.
     */
    static final int COHERENT_DIRECT_WRITES_MINOR = 39;
    static final long UNKNOWN_INO = 0xffffffffL;

    /** Sizes of argument records (at minor ≥ 28). */
    static final int WRITE_IN = 40, READ_IN = 40, ENTRY_OUT = 128, ATTR_OUT = 104, OPEN_OUT = 16, STATFS_OUT = 80,
            INIT_OUT = 64, SETATTR_IN = 88, CREATE_IN = 16, MKNOD_IN = 16;

    /** What the kernel offered in FUSE_INIT. */
    record InitRequest(int major, int minor, int maxReadahead, int flags) {
        static InitRequest read(ByteBuffer in, int at) {
            return new InitRequest(in.getInt(at), in.getInt(at + 4), in.getInt(at + 8), in.getInt(at + 12));
        }
    }

    /** The reply to FUSE_INIT ({@code fuse_init_out}). */
    record InitReply(int major, int minor, int maxReadahead, int flags, int maxBackground, int congestionThreshold,
                     int maxWrite, int timeGran, int maxPages) {
        int write(ByteBuffer out, int at) {
            out.putInt(at, major).putInt(at + 4, minor).putInt(at + 8, maxReadahead).putInt(at + 12, flags)
                    .putShort(at + 16, (short) maxBackground).putShort(at + 18, (short) congestionThreshold)
                    .putInt(at + 20, maxWrite).putInt(at + 24, timeGran).putShort(at + 28, (short) maxPages)
                    .putShort(at + 30, (short) 0);
            for (int i = 32; i < INIT_OUT; i += 4) out.putInt(at + i, 0);
            return INIT_OUT;
        }
    }

    /**
     * What this transport asks for. {@code directWrites}: write-only opens bypass the kernel's page cache
     * ({@code FOPEN_DIRECT_IO}), where the kernel keeps such writes coherent ({@link #directWrites}).
     */
    record Wanted(int maxWrite, int maxReadahead, int maxBackground, boolean directWrites) {
        static final Wanted DEFAULT = new Wanted(1 << 20, 1 << 20, 64, true);

        int maxPages() { return Math.max(1, maxWrite / 4096); }
    }

    /**
     * Negotiates: our minor is the kernel's up to {@link #MINOR}; flags are those we want that the kernel offers
     * (async reads, atomic O_TRUNC, big writes, max_pages, parallel lookups/readdir; never writeback cache, export
     * support or DONT_MASK). Without FUSE_MAX_PAGES, requests stay at the kernel's 32 pages (128 KiB).
     *
     * @throws IllegalArgumentException when the kernel speaks another major or too old a minor
     */
    static InitReply negotiate(InitRequest in, Wanted wanted) {
        if (in.major() != MAJOR) throw new IllegalArgumentException("kernel FUSE protocol " + in.major() + "." + in.minor() + " is not 7.x");
        if (in.minor() < MIN_MINOR) throw new IllegalArgumentException("kernel FUSE protocol 7." + in.minor() + " older than 7." + MIN_MINOR);
        int want = ASYNC_READ | ATOMIC_O_TRUNC | BIG_WRITES | MAX_PAGES | PARALLEL_DIROPS;
        int flags = want & in.flags();
        int maxPages = (flags & MAX_PAGES) != 0 ? wanted.maxPages() : 32;
        int maxWrite = Math.min(wanted.maxWrite(), maxPages * 4096);
        int readahead = Math.min(wanted.maxReadahead(), in.maxReadahead());
        int background = wanted.maxBackground();
        return new InitReply(MAJOR, Math.min(in.minor(), MINOR), readahead, flags, background, background * 3 / 4,
                maxWrite, 1, maxPages);
    }

    /** Whether write-only opens get {@code FOPEN_DIRECT_IO} on the kernel that sent {@code in}. */
    static boolean directWrites(InitRequest in, Wanted wanted) {
        return wanted.directWrites() && in.minor() >= COHERENT_DIRECT_WRITES_MINOR;
    }

    /**
     * {@code FUSE_NOTIFY_INVAL_INODE} for {@code nodeId}: its attributes and all its cached pages (offset 0,
     * length 0 = to the end). Returns the message length.
     */
    static int invalInode(ByteBuffer out, long nodeId) {
        int length = OUT_HEADER + 24;
        outHeader(out, length, NOTIFY_INVAL_INODE, 0);
        out.putLong(OUT_HEADER, nodeId).putLong(OUT_HEADER + 8, 0).putLong(OUT_HEADER + 16, 0);
        return length;
    }

    static void outHeader(ByteBuffer out, int length, int error, long unique) {
        out.putInt(0, length).putInt(4, error).putLong(8, unique);
    }

    /** {@code fuse_attr} (88 bytes) at {@code at}; the inode number is the node id, as libfuse 2 reports it. */
    static void attr(ByteBuffer out, int at, long nodeId, Attr a) {
        out.putLong(at, nodeId)
                .putLong(at + 8, a.size())
                .putLong(at + 16, (a.size() + 511) / 512)
                .putLong(at + 24, Math.floorDiv(a.atimeNanos(), 1_000_000_000L))
                .putLong(at + 32, Math.floorDiv(a.mtimeNanos(), 1_000_000_000L))
                .putLong(at + 40, Math.floorDiv(a.ctimeNanos(), 1_000_000_000L))
                .putInt(at + 48, (int) Math.floorMod(a.atimeNanos(), 1_000_000_000L))
                .putInt(at + 52, (int) Math.floorMod(a.mtimeNanos(), 1_000_000_000L))
                .putInt(at + 56, (int) Math.floorMod(a.ctimeNanos(), 1_000_000_000L))
                .putInt(at + 60, a.mode())
                .putInt(at + 64, a.nlink())
                .putInt(at + 68, a.uid())
                .putInt(at + 72, a.gid())
                .putInt(at + 76, 0)
                .putInt(at + 80, 4096)
                .putInt(at + 84, 0);
    }

    /** {@code fuse_entry_out}: node id, generation 0, entry and attribute timeouts in seconds, the attributes. */
    static int entry(ByteBuffer out, int at, long nodeId, Attr a, long entrySeconds, long attrSeconds) {
        out.putLong(at, nodeId).putLong(at + 8, 0).putLong(at + 16, entrySeconds).putLong(at + 24, attrSeconds)
                .putInt(at + 32, 0).putInt(at + 36, 0);
        attr(out, at + 40, nodeId, a);
        return ENTRY_OUT;
    }

    /** {@code fuse_attr_out}. */
    static int attrOut(ByteBuffer out, int at, long nodeId, Attr a, long attrSeconds) {
        out.putLong(at, attrSeconds).putInt(at + 8, 0).putInt(at + 12, 0);
        attr(out, at + 16, nodeId, a);
        return ATTR_OUT;
    }

    static int openOut(ByteBuffer out, int at, long fh, int openFlags) {
        out.putLong(at, fh).putInt(at + 8, openFlags).putInt(at + 12, 0);
        return OPEN_OUT;
    }

    static int statfs(ByteBuffer out, int at, StatFs s) {
        out.putLong(at, s.totalBlocks()).putLong(at + 8, s.freeBlocks()).putLong(at + 16, s.availBlocks())
                .putLong(at + 24, s.files()).putLong(at + 32, s.freeFiles())
                .putInt(at + 40, (int) s.blockSize()).putInt(at + 44, (int) s.maxNameLength())
                .putInt(at + 48, (int) s.blockSize()).putInt(at + 52, 0);
        for (int i = 56; i < STATFS_OUT; i += 4) out.putInt(at + i, 0);
        return STATFS_OUT;
    }

    /**
     * One {@code fuse_dirent} (ino u64, off u64 = the cookie of the next entry, namelen u32, type u32, name,
     * zero padding to 8 bytes) at {@code at}, if it fits below {@code end}; returns its size or 0.
     */
    static int dirent(ByteBuffer out, int at, int end, byte[] name, long nextOffset) {
        int size = (24 + name.length + 7) & ~7;
        if (at + size > end) return 0;
        out.putLong(at, UNKNOWN_INO).putLong(at + 8, nextOffset).putInt(at + 16, name.length).putInt(at + 20, 0);
        out.put(at + 24, name);
        for (int i = 24 + name.length; i < size; i++) out.put(at + i, (byte) 0);
        return size;
    }

    /** The NUL-terminated string at {@code at} (UTF-8); {@code end} bounds the search. */
    static String string(ByteBuffer in, int at, int end) {
        int z = at;
        while (z < end && in.get(z) != 0) z++;
        byte[] b = new byte[z - at];
        in.get(at, b);
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Offset just past the NUL-terminated string at {@code at}. */
    static int skipString(ByteBuffer in, int at, int end) {
        int z = at;
        while (z < end && in.get(z) != 0) z++;
        return Math.min(z + 1, end);
    }

    static String opcodeName(int opcode) {
        return switch (opcode) {
            case LOOKUP -> "lookup";
            case FORGET -> "forget";
            case GETATTR -> "getattr";
            case SETATTR -> "setattr";
            case READLINK -> "readlink";
            case SYMLINK -> "symlink";
            case MKNOD -> "mknod";
            case MKDIR -> "mkdir";
            case UNLINK -> "unlink";
            case RMDIR -> "rmdir";
            case RENAME -> "rename";
            case LINK -> "link";
            case OPEN -> "open";
            case READ -> "read";
            case WRITE -> "write";
            case STATFS -> "statfs";
            case RELEASE -> "release";
            case FSYNC -> "fsync";
            case SETXATTR -> "setxattr";
            case GETXATTR -> "getxattr";
            case LISTXATTR -> "listxattr";
            case REMOVEXATTR -> "removexattr";
            case FLUSH -> "flush";
            case INIT -> "init";
            case OPENDIR -> "opendir";
            case READDIR -> "readdir";
            case RELEASEDIR -> "releasedir";
            case FSYNCDIR -> "fsyncdir";
            case ACCESS -> "access";
            case CREATE -> "create";
            case INTERRUPT -> "interrupt";
            case DESTROY -> "destroy";
            case BATCH_FORGET -> "batch_forget";
            case RENAME2 -> "rename2";
            default -> "opcode " + opcode;
        };
    }
}
