package io.excpfs.codec.format;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.Formats;
import io.excpfs.codec.Layout;

import java.nio.file.Path;

/**
 * Times {@link Formats#parse} on real files (not a test: figures go to the report / BENCHMARKS.md, never into
 * assertions). Usage, after {@code mvn -o -pl codec test-compile}:
 * <pre>
 * java -cp codec/target/test-classes:codec/target/classes:$(cat cp.txt) io.excpfs.codec.format.ParseTiming FILE [RUNS]
 * </pre>
 */
final class ParseTiming {
    private ParseTiming() {}

    public static void main(String[] args) throws Exception {
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            Layout l;
            try (ByteSource s = ByteSource.open(Path.of(args[0]))) {
                l = Formats.parse(s);
            }
            long t1 = System.nanoTime();
            long lossy = l.regions().stream().filter(r -> r.role().lossy()).count();
            System.out.printf("parse %s: %.1f ms, %s, %d regions (%d lossy), %d aliases, %d metadata, skeleton %d of %d bytes%n",
                    args[0], (t1 - t0) / 1e6, l.format(), l.regions().size(), lossy, l.aliases().size(), l.metadata().size(),
                    l.skeletonBytes(), l.size());
        }
    }
}
