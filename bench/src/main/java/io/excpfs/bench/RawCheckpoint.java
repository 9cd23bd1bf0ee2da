package io.excpfs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.excpfs.codec.ByteSource;
import io.excpfs.codec.Certainty;
import io.excpfs.codec.DType;
import io.excpfs.codec.Format;
import io.excpfs.codec.Layout;
import io.excpfs.codec.MomentPair;
import io.excpfs.codec.Pairing;
import io.excpfs.codec.Reconstruction;
import io.excpfs.codec.Role;
import io.excpfs.codec.SetMember;
import io.excpfs.codec.TensorRef;
import io.excpfs.codec.TensorRegion;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint dumped by {@code bench/scripts/real_checkpoints.py}: every parameter and both Adam moments as raw
 * fp32, back to back, with an index. Modelled as one set member whose layout is built from the index (the codec
 * does not parse formats) and whose pairing comes from the index's {@code param} field.
 */
record RawCheckpoint(byte[] bytes, Layout layout, Pairing pairing) {
    static final String NAME = "ckpt.bin";

    static RawCheckpoint load(Path dir) throws IOException {
        byte[] bytes = Files.readAllBytes(dir.resolve("tensors.bin"));
        JsonNode index = new ObjectMapper().readTree(dir.resolve("index.json").toFile());
        List<TensorRegion> regions = new ArrayList<>();
        Map<String, String[]> byParam = new LinkedHashMap<>();
        for (JsonNode t : index) {
            long[] shape = new long[t.get("shape").size()];
            for (int i = 0; i < shape.length; i++) shape[i] = t.get("shape").get(i).asLong();
            Role role = Role.valueOf(t.get("role").asText());
            regions.add(new TensorRegion(t.get("key").asText(), DType.F32, shape, t.get("offset").asLong(), t.get("length").asLong(), role));
            String[] refs = byParam.computeIfAbsent(t.get("param").asText(), k -> new String[3]);
            refs[role.ordinal()] = t.get("key").asText();
        }
        List<MomentPair> pairs = new ArrayList<>();
        for (String[] r : byParam.values()) {
            pairs.add(new MomentPair(new TensorRef(NAME, r[0]), new TensorRef(NAME, r[1]), new TensorRef(NAME, r[2])));
        }
        Layout layout = new Layout(Format.SAFETENSORS, bytes.length, regions, List.of(), "raw dump of " + dir, Map.of(), Map.of());
        return new RawCheckpoint(bytes, layout, new Pairing(pairs, Certainty.CERTAIN, "dump index", List.of()));
    }

    SetMember member(Reconstruction base) { return new SetMember(NAME, ByteSource.of(bytes), layout, base); }
}
