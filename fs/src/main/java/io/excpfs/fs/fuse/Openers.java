package io.excpfs.fs.fuse;

import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The process (thread group) that opened each handle, for both transports. A close(2) by another process than the
 * opener is an inherited descriptor closing (fork, exec, a shell's dup2 in a child): it must not seal the file under
 * the opener's feet. FUSE reports the requesting thread's id; its thread group comes from /proc.
 */
final class Openers {
    private static final System.Logger LOG = System.getLogger(Openers.class.getName());
    private final Map<Long, Integer> byHandle = new ConcurrentHashMap<>();

    /** Records the process of thread {@code tid} as the opener of {@code fh}. */
    void opened(long fh, int tid) { byHandle.put(fh, processOf(tid)); }

    /**
     * True when a flush of {@code fh} by thread {@code tid} is the opener's own close, or either process is unknown;
     * false for an inherited descriptor of another process.
     */
    boolean isOpenersClose(long fh, int tid) {
        Integer opener = byHandle.get(fh);
        int closer = processOf(tid);
        return opener == null || opener <= 0 || closer <= 0 || closer == opener;
    }

    void released(long fh) { byHandle.remove(fh); }

    /** The thread group of thread {@code tid}, or -1 when unknown. */
    private static int processOf(int tid) {
        if (tid <= 0) return -1;
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(tid), "status"))) {
                if (line.startsWith("Tgid:")) return Integer.parseInt(line.substring(5).strip());
            }
        } catch (Exception e) {
            LOG.log(Level.DEBUG, "no thread group for the caller: " + e);
        }
        return -1;
    }
}
