package io.excpfs.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Runs the {@code @Benchmark} methods of JMH benchmark classes and reports the median <em>process CPU time</em> per
 * call (all threads, so native libraries' worker threads count too), over batches of calls long enough for the
 * OS's 10 ms CPU accounting. On a shared, oversubscribed machine wall-clock
 * JMH scores mostly measure the other tenants; CPU time measures the code. Usage:
 * {@code CpuTimeRun CLASS[:param=value] [calls]}.
 */
public final class CpuTimeRun {
    private CpuTimeRun() {}

    private static long cpu() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    public static void main(String[] args) throws Exception {
        String[] spec = args[0].split(":");
        int calls = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        Class<?> c = Class.forName(spec[0]);
        Object bench = c.getDeclaredConstructor().newInstance();
        for (int i = 1; i < spec.length; i++) {
            String[] kv = spec[i].split("=");
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
        Method[] methods = Arrays.stream(c.getMethods()).filter(m -> m.isAnnotationPresent(Benchmark.class))
                .sorted((a, b) -> a.getName().compareTo(b.getName())).toArray(Method[]::new);
        for (Method m : methods) {
            int batch = 1;
            long t0 = cpu();
            for (int i = 0; i < 3; i++) m.invoke(bench);
            long warm = Math.max(1, (cpu() - t0) / 3);
            batch = (int) Math.max(1, Math.min(10_000, 300_000_000L / warm));
            double[] t = new double[calls];
            for (int i = 0; i < calls; i++) {
                long b0 = cpu();
                for (int k = 0; k < batch; k++) m.invoke(bench);
                t[i] = (cpu() - b0) / (double) batch;
            }
            Arrays.sort(t);
            System.out.printf("%-45s %s  median cpu %10.1f us/op  (min %.1f, max %.1f, %d calls per sample)%n", c.getSimpleName() + "." + m.getName(),
                    String.join(",", Arrays.copyOfRange(spec, 1, spec.length)), t[calls / 2] / 1e3, t[0] / 1e3, t[calls - 1] / 1e3, batch);
        }
    }
}
