package io.excpfs.fs.fuse;

import io.excpfs.fs.ops.Attr;
import io.excpfs.fs.ops.Errno;
import io.excpfs.fs.ops.FileSystemOps;
import io.excpfs.fs.ops.FsException;
import io.excpfs.fs.ops.StatFs;
import com.kenai.jffi.MemoryIO;
import jnr.ffi.Pointer;
import jnr.ffi.types.gid_t;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.uid_t;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

import java.io.ByteArrayOutputStream;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The jnr-fuse callbacks: a thin, total boundary over {@link FileSystemOps}. Each callback delegates, maps
 * {@link FsException} to {@code -errno}, and turns any other throwable into one log line plus {@code -EIO}; nothing
 * escapes into native code.
 *
 * <p>Handle operations (read, write, flush, release, fsync, ftruncate) use only the handle; with
 * {@code flag_nullpath_ok} set they keep working on a file that was removed or replaced while open.
 * An unlinked file stays readable through its open handles, which the ops keep: under a hidden name for ops that
 * understand {@link HiddenNames} (fstat(2) of its descriptors then works), else with {@code hard_remove}.
 * Mounted with {@code atomic_o_trunc} (O_TRUNC reaches {@link FileSystemOps#open} instead of a separate truncate
 * that would seal an empty version).
 */
final class FuseBoundary extends FuseStubFS {
    private static final System.Logger LOG = System.getLogger(FuseBoundary.class.getName());
    private static final long UTIME_NOW = (1L << 30) - 1, UTIME_OMIT = (1L << 30) - 2;
    private static final int BLOCK = 4096;
    private static final int KEEP_CACHE_BIT = 0b10;

    private final FileSystemOps ops;
    private final String fsName;
    private final Openers openers = new Openers();
    private final ThreadLocal<byte[]> buffers = ThreadLocal.withInitial(() -> new byte[256 * 1024]);

    FuseBoundary(FileSystemOps ops, String fsName) {
        this.ops = ops;
        this.fsName = fsName;
        // libfuse 2 bit field after bmap: bit 0 flag_nullpath_ok (handle ops keep working on a removed file under
        // hard_remove, with a NULL path), bit 2 flag_utime_omit_ok (UTIME_NOW/UTIME_OMIT reach utimens).
        jnr.ffi.Struct.getMemory(fuseOperations).putByte(offsetOf(fuseOperations.flag_nullpath_ok), (byte) 0b101);
    }

    /** jnr-ffi keeps member offsets package-private (padding and number fields alike); flag bits have no setter. */
    private static long offsetOf(Object member) {
        try {
            java.lang.reflect.Method offset = Class.forName("jnr.ffi.Struct$Member").getDeclaredMethod("offset");
            offset.setAccessible(true);
            return (Long) offset.invoke(member);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot locate fuse_operations flags in this jnr-ffi", e);
        }
    }

    @Override
    protected String getFSName() { return fsName; }

    @FunctionalInterface
    private interface Call {
        int run() throws FsException;
    }

    private static int total(String op, String path, Call call) {
        try {
            return call.run();
        } catch (FsException e) {
            if (e.errno() == Errno.EIO) LOG.log(Level.WARNING, op + " " + path + ": " + e.getMessage(), e);
            return -e.errno().code;
        } catch (Throwable t) {
            LOG.log(Level.ERROR, op + " " + path + " failed: " + t, t);
            return -Errno.EIO.code;
        }
    }

    /** Like {@link #total}, with {@link Caller} set to the requesting process (ownership of new entries). */
    private int asCaller(String op, String path, Call call) {
        try {
            ru.serce.jnrfuse.struct.FuseContext c = getContext();
            Caller.set(c.uid.intValue(), c.gid.intValue());
        } catch (Throwable t) {
            LOG.log(Level.WARNING, "no FUSE context for " + op + ": " + t);
        }
        try {
            return total(op, path, call);
        } finally {
            Caller.clear();
        }
    }

    /** The thread id of the requesting thread (FUSE reports the thread, not its process), or -1 when unknown. */
    private int callerThread() {
        try {
            return getContext().pid.intValue();
        } catch (Exception e) {
            LOG.log(Level.DEBUG, "no FUSE context for the caller: " + e);
            return -1;
        }
    }

    private static String nonNull(String path) throws FsException {
        if (path == null) throw new FsException(Errno.ENOENT, "no path (file was removed)");
        return path;
    }

    private byte[] buffer(long size) {
        byte[] b = buffers.get();
        if (b.length < size) {
            b = new byte[(int) size];
            buffers.set(b);
        }
        return b;
    }

    private static void fill(Attr a, FileStat st) {
        st.st_ino.set(a.ino());
        st.st_mode.set(a.mode());
        st.st_nlink.set(a.nlink());
        st.st_uid.set(a.uid());
        st.st_gid.set(a.gid());
        st.st_size.set(a.size());
        st.st_blksize.set(BLOCK);
        st.st_blocks.set((a.size() + 511) / 512);
        time(st.st_atim, a.atimeNanos());
        time(st.st_mtim, a.mtimeNanos());
        time(st.st_ctim, a.ctimeNanos());
    }

    private static void time(Timespec t, long nanos) {
        t.tv_sec.set(Math.floorDiv(nanos, 1_000_000_000L));
        t.tv_nsec.set(Math.floorMod(nanos, 1_000_000_000L));
    }

    private static long nanos(Timespec t) {
        long nsec = t.tv_nsec.longValue();
        if (nsec == UTIME_OMIT) return Long.MIN_VALUE;
        if (nsec == UTIME_NOW) {
            java.time.Instant now = java.time.Instant.now();
            return now.getEpochSecond() * 1_000_000_000L + now.getNano();
        }
        return t.tv_sec.get() * 1_000_000_000L + nsec;
    }

    /** NUL-terminated UTF-8, as C expects; jnr's String overloads use the platform charset and no terminator. */
    private static ByteBuffer cString(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocateDirect(utf8.length + 1);
        b.put(utf8).put((byte) 0).flip();
        return b;
    }

    /** The getxattr/listxattr size protocol: size 0 asks for the length; too small a buffer is ERANGE. */
    private static int reply(byte[] value, Pointer dst, long size) throws FsException {
        if (size == 0) return value.length;
        if (size < value.length) throw new FsException(Errno.ERANGE, "buffer of " + size + " < " + value.length);
        dst.put(0, value, 0, value.length);
        return value.length;
    }

    @Override
    public int getattr(String path, FileStat stat) {
        return total("getattr", path, () -> {
            fill(ops.getattr(nonNull(path)), stat);
            return 0;
        });
    }

    @Override
    public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
        if (path != null || !(ops instanceof HandleAttributes handles)) return getattr(path, stat);
        return total("fgetattr", "handle " + fi.fh.get(), () -> {
            fill(handles.fgetattr(fi.fh.get()), stat);
            return 0;
        });
    }

    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filler, @off_t long offset, FuseFileInfo fi) {
        return total("readdir", path, () -> {
            List<String> names = ops.readdir(nonNull(path));
            filler.apply(buf, cString("."), null, 0);
            filler.apply(buf, cString(".."), null, 0);
            for (String name : names) {
                if (filler.apply(buf, cString(name), null, 0) != 0) throw new FsException(Errno.ENOMEM, "readdir buffer full");
            }
            return 0;
        });
    }

    @Override
    public int mkdir(String path, @mode_t long mode) {
        return asCaller("mkdir", path, () -> {
            ops.mkdir(path, (int) mode & 07777);
            return 0;
        });
    }

    @Override
    public int rmdir(String path) {
        return total("rmdir", path, () -> {
            ops.rmdir(path);
            return 0;
        });
    }

    @Override
    public int unlink(String path) {
        return total("unlink", path, () -> {
            ops.unlink(path);
            return 0;
        });
    }

    @Override
    public int rename(String from, String to) {
        return total("rename", from + " -> " + to, () -> {
            ops.rename(from, to, 0);
            return 0;
        });
    }

    @Override
    public int symlink(String target, String linkPath) {
        return asCaller("symlink", linkPath, () -> {
            ops.symlink(target, linkPath);
            return 0;
        });
    }

    @Override
    public int readlink(String path, Pointer buf, @size_t long size) {
        return total("readlink", path, () -> {
            if (size <= 0) throw new FsException(Errno.EINVAL, "readlink buffer of size " + size);
            byte[] target = ops.readlink(path).getBytes(StandardCharsets.UTF_8);
            int n = (int) Math.min(target.length, size - 1);
            buf.put(0, target, 0, n);
            buf.putByte(n, (byte) 0);
            return 0;
        });
    }

    @Override
    public int link(String existing, String newPath) {
        return total("link", newPath, () -> {
            ops.link(existing, newPath);
            return 0;
        });
    }

    @Override
    public int chmod(String path, @mode_t long mode) {
        return total("chmod", path, () -> {
            ops.chmod(nonNull(path), (int) mode & 07777);
            return 0;
        });
    }

    @Override
    public int chown(String path, @uid_t long uid, @gid_t long gid) {
        return total("chown", path, () -> {
            ops.chown(nonNull(path), (int) uid, (int) gid);
            return 0;
        });
    }

    @Override
    public int utimens(String path, Timespec[] times) {
        return total("utimens", path, () -> {
            ops.utimens(nonNull(path), nanos(times[0]), nanos(times[1]));
            return 0;
        });
    }

    @Override
    public int truncate(String path, @off_t long size) {
        return total("truncate", path, () -> {
            ops.truncate(nonNull(path), size);
            return 0;
        });
    }

    @Override
    public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
        return total("ftruncate", path, () -> {
            ops.ftruncate(fi.fh.get(), size);
            return 0;
        });
    }

    @Override
    public int create(String path, @mode_t long mode, FuseFileInfo fi) {
        return asCaller("create", path, () -> {
            long fh = ops.create(path, (int) mode & 07777, fi.flags.get());
            fi.fh.set(fh);
            openers.opened(fh, callerThread());
            return 0;
        });
    }

    @Override
    public int open(String path, FuseFileInfo fi) {
        return total("open", path, () -> {
            long fh = ops.open(path, fi.flags.get());
            fi.fh.set(fh);
            openers.opened(fh, callerThread());
            if (ops instanceof PageCacheHint hint && hint.keepCache(fh)) keepCache(fi);
            return 0;
        });
    }

    /**
     * Sets {@code keep_cache} in libfuse 2's {@code struct fuse_file_info}: the bit field word right before
     * {@code fh} ({@code int flags; unsigned long fh_old; int writepage; unsigned direct_io:1, keep_cache:1, ...;
     * uint64_t fh}); jnr-fuse declares the bits as padding.
     */
    private static void keepCache(FuseFileInfo fi) {
        long bits = offsetOf(fi.fh) - Integer.BYTES;
        Pointer mem = jnr.ffi.Struct.getMemory(fi);
        mem.putByte(bits, (byte) (mem.getByte(bits) | KEEP_CACHE_BIT));
    }

    @Override
    public int read(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        return total("read", path, () -> {
            byte[] b = buffer(size);
            int n = ops.read(fi.fh.get(), offset, b, (int) size);
            if (n > 0) buf.put(0, b, 0, n);
            return n;
        });
    }

    @Override
    public int write(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        return total("write", path, () -> {
            if (ops instanceof DirectWrites direct && buf.isDirect() && size <= Integer.MAX_VALUE) {
                return direct.write(fi.fh.get(), offset, MemoryIO.getInstance().newDirectByteBuffer(buf.address(), (int) size));
            }
            byte[] b = buffer(size);
            buf.get(0, b, 0, (int) size);
            return ops.write(fi.fh.get(), offset, b, (int) size);
        });
    }

    @Override
    public int fsync(String path, int dataOnly, FuseFileInfo fi) {
        return total("fsync", path, () -> {
            ops.fsync(fi.fh.get(), dataOnly != 0);
            return 0;
        });
    }

    @Override
    public int flush(String path, FuseFileInfo fi) {
        return total("flush", path, () -> {
            long fh = fi.fh.get();
            if (openers.isOpenersClose(fh, callerThread())) ops.flush(fh);
            return 0;
        });
    }

    @Override
    public int release(String path, FuseFileInfo fi) {
        return total("release", path, () -> {
            openers.released(fi.fh.get());
            ops.release(fi.fh.get());
            return 0;
        });
    }

    @Override
    public int getxattr(String path, String name, Pointer value, @size_t long size) {
        return total("getxattr", path, () -> reply(ops.getxattr(nonNull(path), name), value, size));
    }

    @Override
    public int setxattr(String path, String name, Pointer value, @size_t long size, int flags) {
        return total("setxattr", path, () -> {
            byte[] v = new byte[(int) size];
            if (size > 0) value.get(0, v, 0, v.length);
            ops.setxattr(nonNull(path), name, v, flags);
            return 0;
        });
    }

    @Override
    public int listxattr(String path, Pointer list, @size_t long size) {
        return total("listxattr", path, () -> {
            ByteArrayOutputStream names = new ByteArrayOutputStream();
            for (String name : ops.listxattr(nonNull(path))) {
                names.writeBytes(name.getBytes(StandardCharsets.UTF_8));
                names.write(0);
            }
            return reply(names.toByteArray(), list, size);
        });
    }

    @Override
    public int removexattr(String path, String name) {
        return total("removexattr", path, () -> {
            ops.removexattr(nonNull(path), name);
            return 0;
        });
    }

    @Override
    public int statfs(String path, Statvfs st) {
        return total("statfs", path, () -> {
            StatFs s = ops.statfs();
            st.f_bsize.set(s.blockSize());
            st.f_frsize.set(s.blockSize());
            st.f_blocks.set(s.totalBlocks());
            st.f_bfree.set(s.freeBlocks());
            st.f_bavail.set(s.availBlocks());
            st.f_files.set(s.files());
            st.f_ffree.set(s.freeFiles());
            st.f_favail.set(s.freeFiles());
            st.f_namemax.set(s.maxNameLength());
            return 0;
        });
    }
}
