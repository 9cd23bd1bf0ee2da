package io.excpfs.fs.reliability;

import io.excpfs.fs.fuse.MountFixture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * fsx in Java: long random sequences of open, pwrite, ftruncate, pread, fsync, close, rename and unlink on the mount,
 * with up to eight descriptors held open across operations, checked byte for byte against an in-memory model of
 * POSIX files. Data is random or looks like a checkpoint without being one (a safetensors header whose tensors run
 * past the end, a torch zip prefix without a central directory): with hot=0,idle=0 every version is encoded as soon
 * as it is sealed, so each read also proves such data is stored exactly.
 */
@Tag("slow")
class FsxTest extends DaemonTest {
    static final int OPS = Integer.getInteger("excpfs.fsx.ops", 1500);
    /** Extra runs as {@code seed:options;seed:options}, e.g. {@code -Dexcpfs.fsx.seeds='7:hot=0,idle=0;8:hot=1'}. */
    static final String SEEDS = System.getProperty("excpfs.fsx.seeds", "");
    static final List<String> NAMES = List.of("model.safetensors", "ckpt.pt", "d/model.safetensors", "d/optimizer.pt", "data.bin");


    /** One file's bytes, shared by every descriptor and name that refers to it. */
    static final class Inode {
        byte[] bytes = new byte[0];
    }

    /**
     * An open descriptor. A read-only open while no writer has the file open reads the version current at open
     * (docs/mount.md: it pins that version), so it gets its own copy.
     */
    record Handle(FileChannel channel, Inode inode, boolean writable, boolean readable, String openedAs) {}

    private final Map<String, Inode> names = new HashMap<>();
    private final List<Handle> handles = new ArrayList<>();
    private final List<String> log_ = new ArrayList<>();

    static Stream<Arguments> runs() {
        List<Arguments> runs = new ArrayList<>(List.of(Arguments.of(1L, "hot=0,idle=0"), Arguments.of(2L, "hot=0,idle=0"),
                Arguments.of(3L, "hot=1")));
        for (String run : SEEDS.split(";")) {
            if (run.isBlank()) continue;
            int colon = run.indexOf(':');
            runs.add(Arguments.of(Long.parseLong(run.substring(0, colon).trim()), run.substring(colon + 1).trim()));
        }
        return runs.stream();
    }

    @ParameterizedTest
    @MethodSource("runs")
    void randomOperationsMatchTheModel(long seed, String options) throws Exception {
        Random r = new Random(seed);
        try (Daemon d = Daemon.start(store, mnt, log, options + ",encode_threads=1")) {
            Files.createDirectories(mnt.resolve("d"));
            try {
                for (int i = 0; i < OPS; i++) step(r, i);
                for (Handle h : handles) h.channel().close();
                handles.clear();
                MountFixture.ok(mnt, "sh", "-c", "echo > .excp/flush");
                checkAllNames("after flush");
            } catch (AssertionError | IOException e) {
                throw new AssertionError("seed " + seed + " " + options + ", last operations:\n"
                        + String.join("\n", log_.subList(Math.max(0, log_.size() - 25), log_.size())) + "\n" + e
                        + "\ndaemon log:\n" + Daemon.tail(log), e);
            } finally {
                for (Handle h : handles) {
                    try {
                        h.channel().close();
                    } catch (IOException ignored) {
                        // the assertion above is the report
                    }
                }
            }
            d.unmount();
        }
        Daemon.Verdict v = Daemon.verify(store, true);
        assertEquals(0, v.exitCode(), v.output());
        try (Daemon d = Daemon.start(store, mnt, log, options)) {
            checkAllNames("after remount");
            d.unmount();
        }
        System.out.println("FsxTest seed " + seed + " " + options + ": " + OPS + " operations checked");
    }

    private void step(Random r, int i) throws IOException {
        String name = NAMES.get(r.nextInt(NAMES.size()));
        Path p = mnt.resolve(name);
        int op = r.nextInt(100);
        if (op < 12 && handles.size() < 8) {
            boolean write = r.nextInt(3) > 0;
            boolean trunc = write && r.nextInt(4) == 0;
            // write-only descriptors bypass the kernel's page cache (FOPEN_DIRECT_IO), the others go through it
            boolean writeOnly = write && r.nextInt(3) == 0;
            Inode inode = names.get(name);
            if (inode == null && !write) {
                note(i, "open ro " + name + " (absent)");
                assertThrows(NoSuchFileException.class, () -> FileChannel.open(p, StandardOpenOption.READ));
                return;
            }
            note(i, "open " + (writeOnly ? "wo" : write ? "rw" : "ro") + (trunc ? "+trunc " : " ") + name);
            StandardOpenOption truncation = trunc ? StandardOpenOption.TRUNCATE_EXISTING : StandardOpenOption.WRITE;
            FileChannel ch = writeOnly
                    ? FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE, truncation)
                    : write
                    ? FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE, truncation)
                    : FileChannel.open(p, StandardOpenOption.READ);
            if (inode == null) names.put(name, inode = new Inode());
            if (trunc) {
                inode.bytes = new byte[0];
            }
            // POSIX: every descriptor of an inode, read-only ones too, sees its in-place changes (docs/mount.md)
            handles.add(new Handle(ch, inode, write, !writeOnly, name));
        } else if (op < 40 && !handles.isEmpty()) {
            Handle h = handles.get(r.nextInt(handles.size()));
            if (!h.writable()) return;
            byte[] data = data(r);
            long at = r.nextInt(4) == 0 ? h.inode().bytes.length : r.nextInt(h.inode().bytes.length + 70_000);
            note(i, "pwrite " + h.openedAs() + " at " + at + " len " + data.length);
            ByteBuffer b = ByteBuffer.wrap(data);
            long pos = at;
            while (b.hasRemaining()) pos += h.channel().write(b, pos);
            byte[] cur = h.inode().bytes;
            if (at + data.length > cur.length) cur = Arrays.copyOf(cur, (int) (at + data.length));
            System.arraycopy(data, 0, cur, (int) at, data.length);
            h.inode().bytes = cur;
        } else if (op < 55 && !handles.isEmpty()) {
            Handle h = handles.get(r.nextInt(handles.size()));
            if (!h.readable()) return;
            int len = h.inode().bytes.length;
            long at = r.nextInt(len + 1000);
            int n = r.nextInt(200_000);
            note(i, "pread " + h.openedAs() + " at " + at + " len " + n);
            ByteBuffer b = ByteBuffer.allocate(n);
            long pos = at;
            while (b.hasRemaining()) {
                int k = h.channel().read(b, pos);
                if (k < 0) break;
                pos += k;
            }
            byte[] want = at >= len ? new byte[0] : Arrays.copyOfRange(h.inode().bytes, (int) at, (int) Math.min(len, at + n));
            assertArrayEquals(want, Arrays.copyOf(b.array(), b.position()), "step " + i + ": pread of " + h.openedAs());
        } else if (op < 60 && !handles.isEmpty()) {
            Handle h = handles.get(r.nextInt(handles.size()));
            // also on descriptors of unlinked or replaced files (FileChannel.truncate calls fstat first)
            if (!h.writable()) return;
            int len = r.nextInt(h.inode().bytes.length + 50_000);
            note(i, "ftruncate " + h.openedAs() + " to " + len);
            if (len < h.inode().bytes.length) {
                h.channel().truncate(len);
            } else if (len > h.inode().bytes.length) {
                h.channel().write(ByteBuffer.wrap(new byte[1]), len - 1);
            }
            h.inode().bytes = Arrays.copyOf(h.inode().bytes, len);
        } else if (op < 66 && !handles.isEmpty()) {
            Handle h = handles.get(r.nextInt(handles.size()));
            note(i, "fsync " + h.openedAs());
            h.channel().force(r.nextBoolean());
        } else if (op < 78 && !handles.isEmpty()) {
            Handle h = handles.remove(r.nextInt(handles.size()));
            note(i, "close " + h.openedAs());
            h.channel().close();
        } else if (op < 84) {
            String to = NAMES.get(r.nextInt(NAMES.size()));
            note(i, "rename " + name + " -> " + to);
            if (!names.containsKey(name)) {
                assertThrows(NoSuchFileException.class, () -> Files.move(p, mnt.resolve(to), StandardCopyOption.ATOMIC_MOVE));
                return;
            }
            Files.move(p, mnt.resolve(to), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            if (!to.equals(name)) names.put(to, names.remove(name));
        } else if (op < 88) {
            note(i, "unlink " + name);
            boolean existed = Files.deleteIfExists(p);
            assertEquals(names.remove(name) != null, existed, "step " + i + ": unlink " + name);
        } else if (op < 92) {
            note(i, "truncate(path) " + name);
            if (!names.containsKey(name)) return;
            int len = r.nextInt(names.get(name).bytes.length + 1);
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ch.truncate(len);
            }
            names.get(name).bytes = Arrays.copyOf(names.get(name).bytes, len);
        } else if (op < 96) {
            byte[] data = data(r);
            note(i, "write whole " + name + " len " + data.length);
            Files.write(p, data);
            Inode inode = names.computeIfAbsent(name, k -> new Inode());
            inode.bytes = data;
        } else {
            note(i, "read whole " + name);
            checkName(name, "step " + i);
        }
    }

    private void note(int i, String what) {
        log_.add(i + ": " + what);
    }

    private void checkAllNames(String when) throws IOException {
        for (String n : NAMES) checkName(n, when);
    }

    private void checkName(String name, String when) throws IOException {
        Path p = mnt.resolve(name);
        Inode inode = names.get(name);
        if (inode == null) {
            assertFalse(Files.exists(p), when + ": " + name + " should not exist");
            return;
        }
        assertEquals(inode.bytes.length, Files.size(p), when + ": size of " + name);
        byte[] got = Files.readAllBytes(p);
        if (!Arrays.equals(inode.bytes, got)) {
            int at = Arrays.mismatch(inode.bytes, got);
            fail(when + ": " + name + " differs at byte " + at + " (" + got.length + " bytes read, " + inode.bytes.length + " expected)");
        }
    }

    /** Random bytes, or the start of something that looks like a checkpoint but never is one. */
    static byte[] data(Random r) {
        int kind = r.nextInt(4);
        if (kind == 0) {
            String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[8192,8192],\"data_offsets\":[0,268435456]}}";
            byte[] h = header.getBytes(StandardCharsets.UTF_8);
            byte[] body = new byte[r.nextInt(100_000)];
            r.nextBytes(body);
            ByteBuffer b = ByteBuffer.allocate(8 + h.length + body.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            return b.putLong(h.length).put(h).put(body).array();
        }
        if (kind == 1) {
            byte[] zip = new byte[30 + 16 + r.nextInt(60_000)];
            r.nextBytes(zip);
            ByteBuffer b = ByteBuffer.wrap(zip).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.putInt(0x04034b50).putShort((short) 20).putShort((short) 0).putShort((short) 0);
            b.position(26);
            b.putShort((short) 16).putShort((short) 0).put("archive/data.pkl".getBytes(StandardCharsets.US_ASCII));
            return zip;
        }
        byte[] b = new byte[r.nextInt(8) == 0 ? r.nextInt(300_000) : r.nextInt(5000)];
        r.nextBytes(b);
        return b;
    }
}
