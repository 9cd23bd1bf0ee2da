package io.excpfs.codec.format;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.Format;
import io.excpfs.codec.Layout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code torch.save} zip files (torch 1.6 and later): {@code <top>/data.pkl} describes the object tree, and each
 * storage is the stored entry {@code <top>/data/<key>}. One region per storage, keyed by the first key path that
 * uses it; the other key paths become aliases; the CRC-32 fields of every region's entry are patched on rebuild.
 */
final class TorchZip {
    static final long MAX_PICKLE = 256L << 20;

    private TorchZip() {}

    /** The {@code data.pkl} entry of a torch zip, or null when the archive is not one. */
    static ZipArchive.Entry dataPkl(ZipArchive zip) {
        ZipArchive.Entry found = null;
        for (ZipArchive.Entry e : zip.entries.values()) {
            String n = e.name();
            int slash = n.indexOf('/');
            if (n.endsWith("/data.pkl") && slash == n.length() - "/data.pkl".length()) {
                if (found != null) return null;
                found = e;
            }
        }
        return found;
    }

    static Layout parse(ByteSource src, ZipArchive zip, ZipArchive.Entry pkl) throws IOException, MalformedCheckpoint {
        String prefix = pkl.name().substring(0, pkl.name().length() - "data.pkl".length());
        ZipArchive.Entry order = zip.entries.get(prefix + "byteorder");
        if (order != null) {
            String bo = new String(ZipArchive.storedBytes(src, order, 64), StandardCharsets.US_ASCII).trim();
            if (!bo.equals("little")) throw MalformedCheckpoint.at(order.dataOffset(), "torch zip: byteorder '" + bo + "' is not little");
        }
        byte[] pickle = ZipArchive.storedBytes(src, pkl, MAX_PICKLE);
        PickleMachine.Result r = PickleMachine.run(pickle, 0, pkl.dataOffset());
        ObjectWalk walk = ObjectWalk.of(r.value());

        LayoutDraft draft = new LayoutDraft(Format.TORCH_ZIP, src.size());
        Map<String, List<ObjectWalk.TensorUse>> byStorage = new LinkedHashMap<>();
        for (ObjectWalk.TensorUse u : walk.tensors) byStorage.computeIfAbsent(u.tensor().storage.key(), k -> new ArrayList<>()).add(u);
        int compressed = 0;
        int kept = 0;
        for (Map.Entry<String, List<ObjectWalk.TensorUse>> s : byStorage.entrySet()) {
            Py.Storage storage = s.getValue().get(0).tensor().storage;
            ZipArchive.Entry e = zip.entries.get(prefix + "data/" + s.getKey());
            if (e == null) throw new MalformedCheckpoint("torch zip: storage " + s.getKey() + " has no entry " + prefix + "data/" + s.getKey());
            boolean sameType = s.getValue().stream().allMatch(u -> u.tensor().storage.dtype() == storage.dtype()
                    && u.tensor().storage.elementSize() == storage.elementSize());
            if (!e.stored()) { compressed++; continue; }
            if (e.size() != storage.bytes()) {
                throw MalformedCheckpoint.at(e.dataOffset(), "torch zip: storage " + s.getKey() + " declares " + storage.bytes()
                        + " bytes, its entry holds " + e.size());
            }
            if (!sameType || storage.dtype() == io.excpfs.codec.DType.OTHER || storage.numel() == 0) { kept++; continue; }
            String key = draft.uniqueKey(s.getValue().get(0).path());
            draft.region(key, storage.dtype(), shape(s.getValue(), storage.numel()), e.dataOffset(), e.size());
            draft.crcPatch(e.crcPatch(), e.crc(), e.name());
            for (int i = 1; i < s.getValue().size(); i++) draft.alias(s.getValue().get(i).path(), key);
        }
        draft.metadata(walk.metadata);
        draft.tensorOrder(walk.tensors.stream().map(ObjectWalk.TensorUse::path).toList());
        String note = "torch zip '" + prefix + "': " + walk.tensors.size() + " tensors in " + byStorage.size() + " storages, "
                + draft.regionCount() + " regions" + (compressed > 0 ? ", " + compressed + " compressed storages kept exact" : "")
                + (kept > 0 ? ", " + kept + " empty or exotic storages kept exact" : "");
        return draft.build(note, src);
    }

    /**
     * The logical shape of a storage's region: the tensors' shape when every tensor using the storage is the same
     * contiguous view of all of it (the usual case, tied weights included), else the flat element count.
     */
    static long[] shape(List<ObjectWalk.TensorUse> uses, long numel) {
        Py.Tensor first = uses.get(0).tensor();
        for (ObjectWalk.TensorUse u : uses) {
            Py.Tensor t = u.tensor();
            if (t.storageOffset != 0 || !java.util.Arrays.equals(t.size, first.size) || !java.util.Arrays.equals(t.stride, first.stride)) {
                return new long[]{numel};
            }
        }
        long expect = 1;
        for (int i = first.size.length - 1; i >= 0; i--) {
            if (first.size[i] != 1 && first.stride[i] != expect) return new long[]{numel};
            expect *= first.size[i];
        }
        return expect == numel ? first.size.clone() : new long[]{numel};
    }
}
