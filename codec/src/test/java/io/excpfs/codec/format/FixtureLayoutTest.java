package io.excpfs.codec.format;

import com.fasterxml.jackson.databind.JsonNode;
import io.excpfs.codec.Formats;
import io.excpfs.codec.Layout;
import io.excpfs.codec.Reconstruction;
import io.excpfs.codec.TensorRegion;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Every real fixture parses to the regions torch / numpy themselves report (expected.json is written by the
 * generator from {@code torch.load} / {@code np.load}: key paths, dtypes, storage sizes, payload hashes), and the
 * exact reconstruction gives the file back byte for byte.
 */
class FixtureLayoutTest {
    static Stream<String> fixtures() {
        Iterable<String> names = () -> Fixtures.expected().fieldNames();
        return java.util.stream.StreamSupport.stream(names.spliterator(), false);
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void regionsMatchWhatTorchAndNumpyLoad(String name) throws IOException {
        JsonNode exp = Fixtures.expected().get(name);
        byte[] file = Fixtures.format(name);
        Layout layout = Formats.parse(io.excpfs.codec.ByteSource.of(file));
        assertEquals(exp.get("format").asText(), layout.format().name(), layout.note());

        Map<String, TensorRegion> byKey = new HashMap<>();
        for (TensorRegion r : layout.regions()) byKey.put(r.key(), r);
        assertEquals(exp.get("regions").size(), layout.regions().size(), () -> "regions " + layout.regions());
        for (JsonNode e : exp.get("regions")) {
            String key = e.get("key").asText();
            TensorRegion r = byKey.get(key);
            assertNotNull(r, () -> "no region " + key + " in " + layout.regions());
            assertEquals(e.get("dtype").asText(), r.dtype().name(), key);
            long[] shape = new long[e.get("shape").size()];
            for (int i = 0; i < shape.length; i++) shape[i] = e.get("shape").get(i).asLong();
            assertArrayEquals(shape, r.shape(), key + " shape " + Arrays.toString(r.shape()));
            assertEquals(e.get("role").asText(), r.role().name(), key);
            byte[] payload = Arrays.copyOfRange(file, (int) r.offset(), (int) r.end());
            assertEquals(e.get("sha256").asText(), Fixtures.sha256(payload), key + " payload");
        }
        Map<String, String> aliases = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> a : exp.get("aliases").properties()) {
            aliases.put(a.getKey(), a.getValue().asText());
        }
        assertEquals(aliases, layout.aliases());

        java.util.List<String> order = new java.util.ArrayList<>();
        exp.get("order").forEach(n -> order.add(n.asText()));
        java.util.List<String> got = new java.util.ArrayList<>();
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(layout.metadata().get("#tensor_order")).forEach(n -> got.add(n.asText()));
        assertEquals(order, got, "tensor key paths in object order");

        Reconstruction exact = Reconstruction.exact(layout, io.excpfs.codec.ByteSource.of(file));
        assertArrayEquals(file, exact.toByteArray(), "exact reconstruction differs from the file");
    }
}
