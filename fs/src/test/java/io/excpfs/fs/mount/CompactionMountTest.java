package io.excpfs.fs.mount;

import io.excpfs.fs.fuse.FuseMount;
import io.excpfs.fs.fuse.MountFixture;
import io.excpfs.fs.store.Store;
import io.excpfs.fs.store.StoreOptions;
import io.excpfs.fs.store.VersionInfo;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static io.excpfs.fs.fuse.MountFixture.ok;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A trainer rotating HF-style checkpoint directories through a real mount ({@code save_total_limit=1}: each new
 * {@code checkpoint-N} is written, then the previous one is deleted). Without retention the store keeps every
 * deleted checkpoint as history; remounted with {@code keep_last=1} it shrinks, and it stays bounded from then on,
 * while every version left reads the same bytes.
 */
@Tag("slow")
class CompactionMountTest {
    @TempDir Path tmp;

    static byte[] checkpoint(int step) {
        int rows = 64, cols = 512, n = rows * cols;
        String[] names = {"h.0.weight", "h.0.weight.exp_avg", "h.0.weight.exp_avg_sq"};
        StringBuilder h = new StringBuilder("{\"__metadata__\":{\"step\":\"" + step + "\"}");
        for (int t = 0; t < names.length; t++) {
            h.append(",\"").append(names[t]).append("\":{\"dtype\":\"F32\",\"shape\":[").append(rows).append(',').append(cols)
                    .append("],\"data_offsets\":[").append((long) t * n * 4).append(',').append((long) (t + 1) * n * 4).append("]}");
        }
        h.append('}');
        while ((8 + h.length()) % 8 != 0) h.append(' ');
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + 3 * n * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        Random base = new Random(3), drift = new Random(3_000_009L + step);
        for (int i = 0; i < n; i++) b.putFloat((float) (base.nextGaussian() * 0.02 + drift.nextGaussian() * 0.0005 * step));
        for (int i = 0; i < n; i++) b.putFloat((float) (base.nextGaussian() * 1e-3 + drift.nextGaussian() * 1e-4));
        for (int i = 0; i < n; i++) b.putFloat((float) Math.abs(base.nextGaussian() * 1e-6 + drift.nextGaussian() * 1e-7));
        return b.array();
    }

    static long objectBytes(Path store) throws Exception {
        try (Stream<Path> files = Files.walk(store.resolve("objects"))) {
            long n = 0;
            for (Path p : files.filter(Files::isRegularFile).toList()) n += Files.size(p);
            return n;
        }
    }

    /** Runs {@code body} with the store mounted at {@code mnt}; always unmounts. */
    void mounted(Path store, Path mnt, String options, MountedBody body) throws Exception {
        StoreFileSystem fs = new StoreFileSystem(Store.open(store, StoreOptions.parse(options)));
        FuseMount mount = null;
        try {
            mount = MountFixture.mount(fs, mnt);
            body.run(mnt);
        } finally {
            try {
                MountFixture.unmount(mount);
            } finally {
                fs.close();
            }
        }
    }

    interface MountedBody { void run(Path mnt) throws Exception; }

    static void rotate(Path mnt, int step) throws Exception {
        Path dir = Files.createDirectories(mnt.resolve("run/checkpoint-" + step));
        Files.write(dir.resolve("model.safetensors"), checkpoint(step));
        Files.writeString(dir.resolve("trainer_state.json"), "{\"global_step\": " + step + "}\n");
        if (step > 1) ok(mnt, "rm", "-rf", "run/checkpoint-" + (step - 1));
        Files.write(mnt.resolve(".excp/flush"), "\n".getBytes(StandardCharsets.UTF_8), StandardOpenOption.WRITE);
    }

    /** Every history file under /.excp/history with its bytes, by name ({@code path@version}). */
    static Map<String, byte[]> history(Path mnt) throws Exception {
        Map<String, byte[]> out = new HashMap<>();
        Path root = mnt.resolve(".excp/history");
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) out.put(root.relativize(p).toString(), Files.readAllBytes(p));
        }
        return out;
    }

    @Test void rotatingCheckpointDirectoriesWithKeepLastShrinksTheStoreAndStaysBounded() throws Exception {
        MountFixture.assumeFuse();
        Path store = tmp.resolve("store"), mnt = tmp.resolve("mnt");
        long[] grown = new long[1];
        Map<String, byte[]> historyBefore = new HashMap<>();
        mounted(store, mnt, "", m -> {
            Files.createDirectories(m.resolve("run"));
            for (int step = 1; step <= 6; step++) rotate(m, step);
            grown[0] = objectBytes(store);
            historyBefore.putAll(history(m));
        });
        assertEquals(5 * 2, historyBefore.size(), "keep_last=0 keeps every deleted checkpoint: " + historyBefore.keySet());

        long[] shrunk = new long[1];
        mounted(store, mnt, "keep_last=1", m -> {
            Files.write(m.resolve(".excp/flush"), "\n".getBytes(StandardCharsets.UTF_8), StandardOpenOption.WRITE);
            shrunk[0] = objectBytes(store);
            Map<String, byte[]> left = history(m);
            assertEquals(2, left.size(), "keep_last=1: one history version per lineage: " + left.keySet());
            for (Map.Entry<String, byte[]> e : left.entrySet()) {
                assertArrayEquals(historyBefore.get(e.getKey()), e.getValue(), e.getKey() + " reads the same after compaction");
            }
            for (int step = 7; step <= 12; step++) {
                rotate(m, step);
                assertArrayEquals(checkpoint(step), Files.readAllBytes(m.resolve("run/checkpoint-" + step + "/model.safetensors")));
                assertTrue(objectBytes(store) <= shrunk[0] + 64 * 1024, "step " + step + ": the store stays bounded: "
                        + objectBytes(store) + " vs " + shrunk[0]);
            }
        });
        assertTrue(shrunk[0] < grown[0], "remounting with keep_last=1 shrinks the store: " + shrunk[0] + " < " + grown[0]);
        try (Store s = Store.openReadOnly(store)) {
            assertTrue(s.reclaimedBytes() > 0);
            assertEquals(List.of(), s.verify(true));
            List<VersionInfo> model = s.history("/run/checkpoint-*/model.safetensors");
            assertEquals(List.of("seed", "hot"), model.stream().map(VersionInfo::kind).toList(), model.toString());
        }
    }
}
