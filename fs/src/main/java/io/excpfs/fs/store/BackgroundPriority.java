package io.excpfs.fs.store;

import jnr.ffi.LibraryLoader;

/**
 * Lowers the scheduling priority of the calling thread (Linux: nice and I/O priority are per thread), so background
 * encodes yield most of the CPU and disk to writers and readers: a trainer's {@code torch.save} into the mount
 * must not slow down because the previous checkpoint is being encoded. Best effort: where the calls are missing or
 * refused, the thread keeps its priority and one debug line says why.
 */
final class BackgroundPriority {
    private static final System.Logger LOG = System.getLogger(BackgroundPriority.class.getName());
    /**
     * Nice 10: about a tenth of the CPU share of a nice-0 thread it competes with (FUSE threads serving a writer,
     * a trainer in the same session), yet never starved the way nice 19 or the idle I/O class would be on a busy
     * machine, where a flush would then wait for minutes. I/O: the lowest best-effort level.
     */
    static final int NICE = 10;
    private static final int PRIO_PROCESS = 0, IOPRIO_WHO_PROCESS = 1, IOPRIO_CLASS_BE = 2, IOPRIO_LOWEST = 7,
            IOPRIO_CLASS_SHIFT = 13;

    /** The C library calls used; {@code who = 0} is the calling thread on Linux. */
    public interface LibC {
        int setpriority(int which, int who, int prio);

        long syscall(long number, long a, long b, long c);
    }

    private BackgroundPriority() {}

    private static final class Holder {
        static final LibC LIBC = load();

        private static LibC load() {
            try {
                return LibraryLoader.create(LibC.class).load("c");
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.DEBUG, "no libc for thread priorities: " + t);
                return null;
            }
        }
    }

    /** The x86-64 / aarch64 numbers of {@code ioprio_set}; -1 elsewhere. */
    private static long ioprioSet() {
        return switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> 251;
            case "aarch64" -> 30;
            default -> -1;
        };
    }

    /** Lowers the calling thread's CPU and I/O priority; true when both took effect. */
    static boolean lowerCurrentThread() {
        LibC c = Holder.LIBC;
        if (c == null || !System.getProperty("os.name").startsWith("Linux")) return false;
        try {
            boolean cpu = c.setpriority(PRIO_PROCESS, 0, NICE) == 0;
            long nr = ioprioSet();
            boolean io = nr >= 0 && c.syscall(nr, IOPRIO_WHO_PROCESS, 0, (long) IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT | IOPRIO_LOWEST) == 0;
            if (!cpu || !io) LOG.log(System.Logger.Level.DEBUG, "background priority: nice " + cpu + ", low I/O " + io);
            return cpu && io;
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.DEBUG, "background priority not set: " + t);
            return false;
        }
    }
}
