import io.excpfs.codec.envelope.BytesIn;
import io.excpfs.codec.envelope.LayoutRecord;
import io.excpfs.codec.envelope.ObjectEnvelope;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The layout records of a store's residual objects (docs/format.md): their bytes, and how much of each differs from
 * the record of the same file name in the previous COLD version (the span between the common prefix and suffix):
 * what coding the layout against the base's would leave. Usage: java -cp CODEC_CLASSES:LIBS LayoutRecords.java STORE
 */
public class LayoutRecords {
    public static void main(String[] a) throws Exception {
        Path store = Path.of(a[0]);
        Map<String, byte[]> prev = new HashMap<>();
        long total = 0, diffBytes = 0, identical = 0, n = 0;
        Map<String, long[]> byFile = new TreeMap<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + store.resolve("excpfs.db"));
             ResultSet rs = c.createStatement().executeQuery("SELECT path, object, kind FROM versions WHERE state='COLD' ORDER BY id")) {
            while (rs.next()) {
                String path = rs.getString(1), obj = rs.getString(2);
                String file = path.substring(path.lastIndexOf('/') + 1);
                byte[] o = Files.readAllBytes(store.resolve("objects").resolve(obj.substring(0, 2)).resolve(obj + ".excp"));
                ObjectEnvelope.Header h = ObjectEnvelope.open(o, 1, 99);
                BytesIn in = new BytesIn(o, h.bodyStart(), h.bodyEnd());
                if (h.needsBase()) in.u32("fp");
                int at = in.position();
                LayoutRecord.read(in);
                byte[] rec = Arrays.copyOfRange(o, at, in.position());
                byte[] p = prev.put(file, rec);
                if (p == null || !rs.getString(3).equals("residual")) continue;
                int pre = 0;
                while (pre < Math.min(p.length, rec.length) && p[pre] == rec[pre]) pre++;
                int suf = 0;
                while (suf < Math.min(p.length, rec.length) - pre && p[p.length - 1 - suf] == rec[rec.length - 1 - suf]) suf++;
                long d = rec.length - pre - suf;
                total += rec.length; diffBytes += d; n++;
                if (d == 0) identical++;
                long[] f = byFile.computeIfAbsent(file, k -> new long[3]);
                f[0] += rec.length; f[1] += d; f[2]++;
            }
        }
        System.out.printf("%d residual layout records, %d bytes; %d identical to the previous checkpoint's; differing span %d bytes%n", n, total, identical, diffBytes);
        for (var e : byFile.entrySet()) System.out.printf("  %-20s %8d bytes in %d records, differing span %d%n", e.getKey(), e.getValue()[0], e.getValue()[2], e.getValue()[1]);
    }
}
