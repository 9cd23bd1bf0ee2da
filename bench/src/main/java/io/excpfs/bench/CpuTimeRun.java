package io.excpfs.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Runs the {@code @Benchmark} methods of JMH benchmark classes and reports the median CPU time per call: of the
 * calling thread (the per-core cost of single-threaded code) and of the whole process (all threads, so native
 * libraries' worker threads, JIT and GC count too), over batches of calls long enough for the OS's 10 ms CPU
 * accounting. On a shared, oversubscribed machine wall-clock JMH scores mostly measure the other tenants; CPU time
 * measures the code. Usage: {@code CpuTimeRun CLASS[:param=value] [calls]}.
 */
public final class CpuTimeRun {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** Median, min and max CPU nanoseconds per call, of the calling thread and of the process. */
    record Sample(double threadNanos, double minThreadNanos, double maxThreadNanos, double processNanos, int batch) {}

    private CpuTimeRun() {}

    static long processCpu() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static long threadCpu() {
        return THREADS.getCurrentThreadCpuTime();
    }

    /** A benchmark instance of {@code spec} = {@code CLASS[:field=value...]}, its @Param defaults filled and @Setup run. */
    static Object instantiate(String spec) throws Exception {
        String[] parts = spec.split(":");
        Class<?> c = Class.forName(parts[0]);
        Object bench = c.getDeclaredConstructor().newInstance();
        for (int i = 1; i < parts.length; i++) {
            String[] kv = parts[i].split("=");
            Field f = c.getDeclaredField(kv[0]);
            f.setAccessible(true);
            f.set(bench, f.getType() == int.class ? (Object) Integer.parseInt(kv[1]) : kv[1]);
        }
        for (Field f : c.getDeclaredFields()) {
            Param p = f.getAnnotation(Param.class);
            f.setAccessible(true);
            if (p != null && (f.get(bench) == null || (f.getType() == int.class && (int) f.get(bench) == 0))) {
                f.set(bench, f.getType() == int.class ? (Object) Integer.parseInt(p.value()[0]) : p.value()[0]);
            }
        }
        for (Method m : c.getMethods()) if (m.isAnnotationPresent(Setup.class)) m.invoke(bench);
        return bench;
    }

    static Method[] benchmarks(Class<?> c) {
        return Arrays.stream(c.getMethods()).filter(m -> m.isAnnotationPresent(Benchmark.class))
                .sorted((a, b) -> a.getName().compareTo(b.getName())).toArray(Method[]::new);
    }

    /** Three warm-up calls, then {@code calls} batches of ≥ 0.3 s CPU each. */
    static Sample measure(Object bench, Method m, int calls) throws Exception {
        long t0 = threadCpu();
        for (int i = 0; i < 3; i++) m.invoke(bench);
        long warm = Math.max(1, (threadCpu() - t0) / 3);
        int batch = (int) Math.max(1, Math.min(10_000, 300_000_000L / warm));
        double[] t = new double[calls];
        double[] p = new double[calls];
        for (int i = 0; i < calls; i++) {
            long b0 = threadCpu(), p0 = processCpu();
            for (int k = 0; k < batch; k++) m.invoke(bench);
            t[i] = (threadCpu() - b0) / (double) batch;
            p[i] = (processCpu() - p0) / (double) batch;
        }
        Arrays.sort(t);
        Arrays.sort(p);
        return new Sample(t[calls / 2], t[0], t[calls - 1], p[calls / 2], batch);
    }

    public static void main(String[] args) throws Exception {
        String[] spec = args[0].split(":");
        int calls = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        Object bench = instantiate(args[0]);
        for (Method m : benchmarks(bench.getClass())) {
            Sample s = measure(bench, m, calls);
            System.out.printf("%-45s %s  median thread cpu %10.1f us/op (min %.1f, max %.1f), process cpu %.1f us/op, %d calls per sample%n",
                    bench.getClass().getSimpleName() + "." + m.getName(), String.join(",", Arrays.copyOfRange(spec, 1, spec.length)),
                    s.threadNanos() / 1e3, s.minThreadNanos() / 1e3, s.maxThreadNanos() / 1e3, s.processNanos() / 1e3, s.batch());
        }
    }
}
