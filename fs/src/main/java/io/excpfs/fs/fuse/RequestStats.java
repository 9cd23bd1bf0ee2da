package io.excpfs.fs.fuse;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Where the time of a mount's FUSE requests goes: per operation the number of requests, their bytes, the wall and
 * thread CPU time spent in the handler, and how many requests were in the handlers at once. Off unless the daemon
 * runs with {@code -Dexcpfs.fuse.stats=true}; then {@link FuseMount} logs {@link #report} at unmount (as warnings, so the default log level shows them). The round
 * trip a caller sees (e.g. {@code dd} time / requests) minus the handler time is the kernel's and libfuse's share.
 * The counts include the mount's warm-up calls ({@code FuseMount#warmUp}: a few thousand reads and writes right after
 * mounting, most of them cheap).
 */
final class RequestStats {
    static final boolean ENABLED = Boolean.getBoolean("excpfs.fuse.stats");

    private record Totals(LongAdder count, LongAdder bytes, LongAdder wallNanos, LongAdder cpuNanos) {
        Totals() {
            this(new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder());
        }
    }

    private final Map<String, Totals> byOp = new ConcurrentHashMap<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();

    /** A request being served: start times, or null when stats are off. */
    record Timing(long wall, long cpu) {}

    Timing begin() {
        if (!ENABLED) return null;
        int n = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(n, Math::max);
        return new Timing(System.nanoTime(), threads.getCurrentThreadCpuTime());
    }

    void end(String op, Timing t, long bytes) {
        if (t == null) return;
        long wall = System.nanoTime() - t.wall();
        long cpu = threads.getCurrentThreadCpuTime() - t.cpu();
        inFlight.decrementAndGet();
        Totals s = byOp.computeIfAbsent(op, k -> new Totals());
        s.count().increment();
        if (bytes > 0) s.bytes().add(bytes);
        s.wallNanos().add(wall);
        s.cpuNanos().add(cpu);
    }

    /** One line per operation: count, bytes, mean handler wall and CPU microseconds; then the peak concurrency. */
    String report() {
        StringBuilder b = new StringBuilder("FUSE requests (handler time):");
        for (Map.Entry<String, Totals> e : new TreeMap<>(byOp).entrySet()) {
            Totals s = e.getValue();
            long n = Math.max(1, s.count().sum());
            b.append(String.format(Locale.ROOT, "%n  %-10s %8d requests %,14d bytes  wall %8.1f us  cpu %8.1f us  (total wall %.3f s, cpu %.3f s)",
                    e.getKey(), s.count().sum(), s.bytes().sum(), s.wallNanos().sum() / 1e3 / n, s.cpuNanos().sum() / 1e3 / n,
                    s.wallNanos().sum() / 1e9, s.cpuNanos().sum() / 1e9));
        }
        b.append("\n  at most ").append(maxInFlight.get()).append(" requests in the handlers at once");
        return b.toString();
    }
}
