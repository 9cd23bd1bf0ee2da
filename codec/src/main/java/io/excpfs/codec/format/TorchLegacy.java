package io.excpfs.codec.format;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.DType;
import io.excpfs.codec.Format;
import io.excpfs.codec.Layout;

import java.io.IOException;
import java.math.BigInteger;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Legacy {@code torch.save(..., _use_new_zipfile_serialization=False)}: five pickles (magic number, protocol
 * version, sys_info, the object tree, the sorted storage keys), then each storage as an 8-byte little-endian
 * element count followed by its raw data.
 */
final class TorchLegacy {
    static final BigInteger MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    static final long MAX_PICKLES = 256L << 20;

    private TorchLegacy() {}

    /** True when the file starts with a pickle of the legacy magic number. */
    static boolean looksLikeLegacy(ByteSource src) throws IOException {
        if (src.size() < 15) return false;
        byte[] b = src.read(0, (int) Math.min(src.size(), 64));
        try {
            PickleMachine.Result r = PickleMachine.run(b, 0, 0);
            return r.value() instanceof Py.BigInt v && v.value().equals(MAGIC);
        } catch (MalformedCheckpoint e) {
            return false;
        }
    }

    static Layout parse(ByteSource src) throws IOException, MalformedCheckpoint {
        long limit = Math.min(src.size(), MAX_PICKLES);
        int len = (int) Math.min(limit, 1 << 20);
        while (true) {
            byte[] head = src.read(0, len);
            try {
                return parse(src, head);
            } catch (PickleMachine.OutOfBytes e) {
                if (len >= limit) throw e;
                len = (int) Math.min(limit, (long) len * 4);
            }
        }
    }

    private static Layout parse(ByteSource src, byte[] head) throws IOException, MalformedCheckpoint {
        PickleMachine.Result magic = PickleMachine.run(head, 0, 0);
        PickleMachine.Result protocol = PickleMachine.run(head, magic.end(), 0);
        if (!(protocol.value() instanceof Py.Int p) || p.value() != 1001) {
            throw MalformedCheckpoint.at(magic.end(), "legacy torch: protocol version is not 1001");
        }
        PickleMachine.Result sysInfo = PickleMachine.run(head, protocol.end(), 0);
        if (sysInfo.value() instanceof Py.Dict d) {
            for (Py[] e : d.entries()) {
                if (e[0] instanceof Py.Str k && k.value().equals("little_endian") && !(e[1] instanceof Py.Bool b && b.value())) {
                    throw MalformedCheckpoint.at(protocol.end(), "legacy torch: big-endian file");
                }
            }
        }
        PickleMachine.Result main = PickleMachine.run(head, sysInfo.end(), 0);
        PickleMachine.Result keys = PickleMachine.run(head, main.end(), 0);
        if (!(keys.value() instanceof Py.PyList keyList)) throw MalformedCheckpoint.at(main.end(), "legacy torch: storage keys are not a list");
        ObjectWalk walk = ObjectWalk.of(main.value());
        Map<String, String> firstPath = new HashMap<>();
        Map<String, List<ObjectWalk.TensorUse>> uses = new HashMap<>();
        Map<String, Boolean> typeConflict = new HashMap<>();
        for (ObjectWalk.TensorUse u : walk.tensors) {
            Py.Storage s = u.tensor().storage;
            firstPath.putIfAbsent(s.key(), u.path());
            uses.computeIfAbsent(s.key(), k -> new java.util.ArrayList<>()).add(u);
            Py.Storage declared = main.storages().get(s.key());
            if (declared != null && declared.dtype() != s.dtype()) typeConflict.put(s.key(), true);
        }
        LayoutDraft draft = new LayoutDraft(Format.TORCH_LEGACY, src.size());
        Map<String, String> regionKeyOf = new HashMap<>();
        long pos = keys.end();
        List<Py> keyItems = keyList.items;
        for (Py k : keyItems) {
            if (!(k instanceof Py.Str ks)) throw MalformedCheckpoint.at(main.end(), "legacy torch: storage key is not text");
            Py.Storage s = main.storages().get(ks.value());
            if (s == null) throw MalformedCheckpoint.at(pos, "legacy torch: storage " + ks.value() + " is not used by the object tree");
            if (pos + 8 > src.size()) throw MalformedCheckpoint.at(pos, "legacy torch: file ends before storage " + ks.value());
            long numel = ZipArchive.u64(src.read(pos, 8), 0);
            if (numel != s.numel()) {
                throw MalformedCheckpoint.at(pos, "legacy torch: storage " + ks.value() + " holds " + numel + " elements, the pickle says " + s.numel());
            }
            long bytes = s.bytes();
            long data = pos + 8;
            if (bytes > src.size() - data) throw MalformedCheckpoint.at(pos, "legacy torch: storage " + ks.value() + " runs past the end of the file");
            String path = firstPath.get(ks.value());
            if (path != null && bytes > 0 && s.dtype() != DType.OTHER && !typeConflict.containsKey(ks.value())) {
                String key = draft.uniqueKey(path);
                regionKeyOf.put(ks.value(), key);
                draft.region(key, s.dtype(), TorchZip.shape(uses.get(ks.value()), s.numel()), data, bytes);
            }
            pos = data + bytes;
        }
        for (ObjectWalk.TensorUse u : walk.tensors) {
            String key = regionKeyOf.get(u.tensor().storage.key());
            if (key != null) draft.alias(u.path(), key);
        }
        draft.metadata(walk.metadata);
        draft.tensorOrder(walk.tensors.stream().map(ObjectWalk.TensorUse::path).toList());
        return draft.build("legacy torch: " + walk.tensors.size() + " tensors in " + keyItems.size() + " storages, "
                + draft.regionCount() + " regions" + (pos < src.size() ? ", " + (src.size() - pos) + " trailing bytes" : ""));
    }
}
