package io.excpfs.codec.format;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.Formats;
import io.excpfs.codec.Layout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Large hostile pickles built in memory (too big to commit): every one hits a named limit and the file is opaque.
 * Each would need gigabytes of heap if the reader had no bound on values, memo entries, marks or key paths.
 */
class HostilePickleTest {
    static final int OPS = 5_000_000;

    @ParameterizedTest
    @ValueSource(strings = {"lists", "marks", "memo", "gets", "long-paths"})
    void hitsALimitAndIsOpaque(String kind) throws IOException {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(new byte[]{(byte) 0x80, 2});
        switch (kind) {
            case "lists" -> { for (int i = 0; i < OPS; i++) p.write(']'); }
            case "marks" -> { for (int i = 0; i < OPS; i++) p.write('('); }
            case "memo" -> {
                p.write(']');
                for (int i = 0; i < OPS; i++) { p.write('r'); p.write(i); p.write(i >>> 8); p.write(i >>> 16); p.write(i >>> 24); }
            }
            case "gets" -> {
                p.write(']'); p.write('q'); p.write(0);
                for (int i = 0; i < OPS; i++) { p.write('h'); p.write(0); }
            }
            default -> {
                // {"<4000 x k>": [[0, 0, ...] x 200000]}: a long key above many small containers
                p.write('}');
                byte[] key = "k".repeat(4000).getBytes(StandardCharsets.US_ASCII);
                p.write('X'); p.write(key.length); p.write(key.length >>> 8); p.write(0); p.write(0); p.write(key);
                p.write(']'); p.write('q'); p.write(0);
                p.write('(');
                for (int i = 0; i < 200_000; i++) { p.write('}'); }
                p.write('e');
                p.write('s');
            }
        }
        p.write('.');
        Layout l = Formats.parse(ByteSource.of(torchZip(p.toByteArray())));
        System.out.println(kind + " -> " + l.note());
        assertTrue(l.isOpaque(), kind + " should be opaque: " + l.note());
        assertTrue(l.note().contains("more than") || l.note().contains("exceed") || l.note().contains("longer than")
                || l.note().contains("values left"), l.note());
    }

    static byte[] torchZip(byte[] pickle) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(out)) {
            ZipEntry e = new ZipEntry("archive/data.pkl");
            e.setMethod(ZipEntry.STORED);
            e.setSize(pickle.length);
            CRC32 crc = new CRC32();
            crc.update(pickle);
            e.setCrc(crc.getValue());
            z.putNextEntry(e);
            z.write(pickle);
            z.closeEntry();
        }
        return out.toByteArray();
    }
}
