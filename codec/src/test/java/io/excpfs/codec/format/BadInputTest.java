package io.excpfs.codec.format;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.Formats;
import io.excpfs.codec.Layout;
import io.excpfs.codec.Reconstruction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The committed bad-input corpus (see badinput/README.md): each file parses without an exception to an opaque
 * layout with a reason, or to a valid layout that reconstructs the file exactly; parsing allocates a bounded
 * amount of memory whatever sizes the file declares.
 */
class BadInputTest {
    /** Hostile but loadable or harmless inputs that must still be recognised. */
    static final Set<String> VALID = Set.of("st_path_name.safetensors", "pt_path_keys.pt", "pt_self_reference.pt",
            "pt_exec_global.pt", "pt_deflated_data.pt", "pt_exponential_dag.pt", "pt_zip_bomb_sizes.pt");

    static final long MAX_ALLOCATED = 64L << 20;

    static Stream<String> corpus() throws IOException, URISyntaxException {
        Path dir = Path.of(BadInputTest.class.getResource("/badinput/README.md").toURI()).getParent();
        try (Stream<Path> s = Files.list(dir)) {
            List<String> names = s.map(p -> p.getFileName().toString()).filter(n -> !n.equals("README.md")).sorted().toList();
            return names.stream();
        }
    }

    @ParameterizedTest
    @MethodSource("corpus")
    void parsesToOpaqueWithReasonOrToValidLayout(String name) throws IOException {
        byte[] file = Fixtures.bytes("badinput/" + name);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = mx.getCurrentThreadAllocatedBytes();
        Layout layout = Formats.parse(ByteSource.of(file));
        long allocated = mx.getCurrentThreadAllocatedBytes() - before;
        System.out.println(name + " -> " + layout.format() + ": " + layout.note() + " (" + layout.regions().size() + " regions)");
        assertTrue(allocated < MAX_ALLOCATED, name + " allocated " + allocated + " bytes");
        assertEquals(file.length, layout.size());
        if (VALID.contains(name)) {
            assertFalse(layout.isOpaque(), name + " should be recognised: " + layout.note());
        } else {
            assertTrue(layout.isOpaque(), name + " should be opaque, got " + layout.format() + " " + layout.regions());
            assertFalse(layout.note().isBlank());
        }
        assertArrayEquals(file, Reconstruction.exact(layout, ByteSource.of(file)).toByteArray());
    }

    @Test
    void readmeListsEveryCorpusFile() throws IOException, URISyntaxException {
        String readme = new String(Fixtures.bytes("badinput/README.md"), java.nio.charset.StandardCharsets.UTF_8);
        corpus().forEach(n -> assertTrue(readme.contains("`" + n + "`"), "README.md does not describe " + n));
    }
}
